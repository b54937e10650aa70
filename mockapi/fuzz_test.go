package mockapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzQuery sends arbitrary query strings to every endpoint of every API:
// each answer is a 200 with a JSON body, or a 400 (422 on the GitHub-like
// API) with that API's error body; never a panic or a 500.
func FuzzQuery(f *testing.F) {
	srv := NewUnstartedServer(Options{Users: 50, Issues: 40, Customers: 30, TiesPerTimestamp: 4})
	customer := srv.Stripe().CustomerAt(3).ID
	for _, q := range []string{
		"", "offset=10&limit=5", "limit=0", "offset=-1", "limit=99999999999999999999",
		"updated_since=2024-01-01T00:00:00Z&updated_before=2023-01-01T00:00:00Z",
		"updated_since=yesterday", "include_deleted=maybe", "page=0", "per_page=3&page=2",
		"cursor=%%%", "cursor=AAAA", "after=2024-01-01T00:00:00Z,abc", "after=,", "after=x",
		"limit=1&limit=2", "offset=1e3", "%zz",
		"state=all&sort=updated&direction=asc&per_page=7&page=3", "sort=updated&since=2024-01-01T00:00:00Z",
		"sort=updated&direction=desc&page=99999999999999", "sort=updated&per_page=1&page=9223372036854775807",
		"sort=updated&state=closed&since=9999-12-31T23:59:59Z", "sort=updated&since=0000-01-01T00:00:00Z",
		"limit=3&starting_after=" + customer, "ending_before=" + customer, "starting_after=cus_",
		"updated[gte]=1704067200&updated[lt]=1704067300", "updated[gt]=-1099511627776", "updated[lte]=1099511627776",
		"limit=100&updated[gte]=abc", "foo=bar",
	} {
		for ep := range 7 {
			f.Add(uint8(ep), q)
		}
	}
	h := srv.Handler()
	paths := []string{PathOffset, PathPages, PathCursor, PathLink, PathKeyset, srv.GitHub().Path(), PathCustomers}
	f.Fuzz(func(t *testing.T, ep uint8, rawQuery string) {
		path := paths[int(ep)%len(paths)]
		req := httptest.NewRequest(http.MethodGet, "http://mock"+path, nil)
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			if !json.Valid(body) {
				t.Fatalf("GET %s?%s = 200 with invalid JSON %q", path, rawQuery, body)
			}
			return
		}
		var ok bool
		switch path {
		case srv.GitHub().Path():
			var e GitHubError
			ok = rec.Code == http.StatusUnprocessableEntity && json.Unmarshal(body, &e) == nil && e.Message != ""
		case PathCustomers:
			var e StripeError
			ok = rec.Code == http.StatusBadRequest && json.Unmarshal(body, &e) == nil && e.Error.Message != "" && e.Error.Param != ""
		default:
			var e ErrorResponse
			ok = rec.Code == http.StatusBadRequest && json.Unmarshal(body, &e) == nil && e.Error != ""
		}
		if !ok {
			t.Fatalf("GET %s?%s = %d %q, want 200 or the API's error for a bad parameter", path, rawQuery, rec.Code, body)
		}
	})
}
