package mockapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzQuery sends arbitrary query strings to every endpoint: each answer is
// a 200 with a JSON body, or a 400 with {"error": ...}; never a panic or a
// 500.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"", "offset=10&limit=5", "limit=0", "offset=-1", "limit=99999999999999999999",
		"updated_since=2024-01-01T00:00:00Z&updated_before=2023-01-01T00:00:00Z",
		"updated_since=yesterday", "include_deleted=maybe", "page=0", "per_page=3&page=2",
		"cursor=%%%", "cursor=AAAA", "after=2024-01-01T00:00:00Z,abc", "after=,", "after=x",
		"limit=1&limit=2", "offset=1e3", "%zz",
	} {
		for ep := range 5 {
			f.Add(uint8(ep), q)
		}
	}
	srv := NewUnstartedServer(Options{Users: 50, TiesPerTimestamp: 4})
	h := srv.Handler()
	paths := []string{PathOffset, PathPages, PathCursor, PathLink, PathKeyset}
	f.Fuzz(func(t *testing.T, ep uint8, rawQuery string) {
		req := httptest.NewRequest(http.MethodGet, "http://mock"+paths[int(ep)%len(paths)], nil)
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		switch rec.Code {
		case http.StatusOK:
			if !json.Valid(body) {
				t.Fatalf("GET %s?%s = 200 with invalid JSON %q", req.URL.Path, rawQuery, body)
			}
		case http.StatusBadRequest:
			var e ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Fatalf("GET %s?%s = 400 with body %q, want {\"error\": ...}", req.URL.Path, rawQuery, body)
			}
		default:
			t.Fatalf("GET %s?%s = %d %q, want 200 or 400", req.URL.Path, rawQuery, rec.Code, body)
		}
	})
}
