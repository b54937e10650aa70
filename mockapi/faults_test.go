package mockapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/mockapi"
)

func TestFaultLatency(t *testing.T) {
	const latency = 30 * time.Millisecond
	srv := start(t, mockapi.Options{Users: 10, Faults: mockapi.Faults{Latency: latency}})
	begin := time.Now()
	var p mockapi.OffsetResponse
	getJSON(t, srv.Client(), srv.URL+"/users", &p)
	if elapsed := time.Since(begin); elapsed < latency {
		t.Errorf("request took %v, want at least %v", elapsed, latency)
	}

	// A client that gives up ends the delay: the server is not held up.
	srv.SetFaults(mockapi.Faults{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/users", nil)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if resp, err := srv.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if resp != nil {
			resp.Body.Close()
		}
		t.Errorf("request with a 20ms deadline against 1h latency: err = %v, want context.DeadlineExceeded", err)
	}
	// Close (in cleanup) must not wait for the hour.
}

func TestFaultErrorRate(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10, Faults: mockapi.Faults{ErrorRate: 1}})
	for _, path := range []string{"/users", "/users/pages", "/users/cursor", "/users/link", "/users/keyset"} {
		resp, body := get(t, srv.Client(), srv.URL+path)
		var e mockapi.ErrorResponse
		if err := json.Unmarshal(body, &e); resp.StatusCode != http.StatusInternalServerError || err != nil || e.Error == "" {
			t.Errorf("GET %s with ErrorRate 1 = %d %s, want 500 with a JSON error", path, resp.StatusCode, body)
		}
	}
}

// statuses returns the statuses of n sequential requests.
func statuses(t *testing.T, srv *mockapi.Server, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		resp, _ := get(t, srv.Client(), srv.URL+"/users?limit=1")
		out[i] = resp.StatusCode
	}
	return out
}

func TestFaultRatesAreSharesAndReproducible(t *testing.T) {
	const n = 400
	faults := mockapi.Faults{ErrorRate: 0.2, RateLimitRate: 0.1}
	a := start(t, mockapi.Options{Users: 10, Seed: 5, Faults: faults})
	b := mockapi.NewServer(mockapi.Options{Users: 10, Seed: 5, Faults: faults})
	defer b.Close()
	sa, sb := statuses(t, a, n), statuses(t, b, n)
	if diff := cmp.Diff(sa, sb); diff != "" {
		t.Errorf("status sequences of two servers with the same seed differ (-a +b):\n%s", diff)
	}
	count := func(code int) int {
		c := 0
		for _, s := range sa {
			if s == code {
				c++
			}
		}
		return c
	}
	for _, tt := range []struct {
		code int
		rate float64
	}{{500, 0.2}, {429, 0.1}, {200, 0.7}} {
		if share := float64(count(tt.code)) / n; share < tt.rate-0.07 || share > tt.rate+0.07 {
			t.Errorf("share of %d = %.3f, want about %.2f", tt.code, share, tt.rate)
		}
	}
	// SetFaults restarts the sequence.
	a.SetFaults(faults)
	if diff := cmp.Diff(sa[:20], statuses(t, a, 20)); diff != "" {
		t.Errorf("after SetFaults, statuses (-first run +again):\n%s", diff)
	}
}

func TestFaultRateLimit(t *testing.T) {
	tests := []struct {
		name   string
		faults mockapi.Faults
		// check is given the times just before and just after the request.
		check func(v string, before, after time.Time) bool
	}{
		{"default seconds", mockapi.Faults{RateLimitRate: 1}, func(v string, _, _ time.Time) bool { return v == "1" }},
		{"seconds rounded up", mockapi.Faults{RateLimitRate: 1, RetryAfter: 1500 * time.Millisecond}, func(v string, _, _ time.Time) bool { return v == "2" }},
		{"http date", mockapi.Faults{RateLimitRate: 1, RetryAfter: 30 * time.Second, RetryAfterDate: true}, func(v string, before, after time.Time) bool {
			// At least 30s after the server read its clock (rounded up to
			// the second), whatever the request took.
			at, err := http.ParseTime(v)
			return err == nil && !at.Before(before.Add(30*time.Second).Truncate(time.Second)) && !at.After(after.Add(31*time.Second))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, mockapi.Options{Users: 10, Faults: tt.faults})
			before := time.Now()
			resp, body := get(t, srv.Client(), srv.URL+"/users/cursor")
			after := time.Now()
			if v := resp.Header.Get("Retry-After"); resp.StatusCode != http.StatusTooManyRequests || !tt.check(v, before, after) {
				t.Errorf("GET = %d, Retry-After %q, body %s; want 429 with a valid Retry-After", resp.StatusCode, v, body)
			}
		})
	}
}

func TestFaultReset(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10, Faults: mockapi.Faults{ResetRate: 1}})
	resp, err := srv.Client().Get(srv.URL + "/users")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET with ResetRate 1 = %d, want a network error", resp.StatusCode)
	}
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		t.Errorf("GET with ResetRate 1: error %T %v, want a *url.Error", err, err)
	}
	srv.SetFaults(mockapi.Faults{})
	var p mockapi.OffsetResponse
	getJSON(t, srv.Client(), srv.URL+"/users", &p) // the client recovers on a new connection
}

func TestFaultMalformed(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10, Faults: mockapi.Faults{MalformedRequests: []int{2, 4}}})
	paths := []string{"/users", "/users/cursor", "/users/keyset", "/users/link", "/users/pages"}
	for i, path := range paths {
		resp, body := get(t, srv.Client(), srv.URL+path)
		var v any
		err := json.Unmarshal(body, &v)
		wantBad := i+1 == 2 || i+1 == 4
		if resp.StatusCode != http.StatusOK || (err != nil) != wantBad {
			t.Errorf("request %d (GET %s) = %d, JSON error %v; want 200 and malformed %v", i+1, path, resp.StatusCode, err, wantBad)
		}
	}
	// Request numbers count from ResetCounts.
	srv.ResetCounts()
	for i, wantBad := range []bool{false, true} {
		if _, body := get(t, srv.Client(), srv.URL+"/users"); json.Valid(body) == wantBad {
			t.Errorf("request %d after ResetCounts: valid JSON %v, want %v", i+1, !wantBad, !wantBad)
		}
	}
}

func TestFaultMalformedRate(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10, Faults: mockapi.Faults{MalformedRate: 1}})
	resp, body := get(t, srv.Client(), srv.URL+"/users/keyset")
	if resp.StatusCode != http.StatusOK || json.Valid(body) {
		t.Errorf("GET with MalformedRate 1 = %d %s, want 200 with invalid JSON", resp.StatusCode, body)
	}
	resp, body = get(t, srv.Client(), srv.URL+"/users?limit=x")
	if resp.StatusCode != http.StatusBadRequest || !json.Valid(body) {
		t.Errorf("bad request with MalformedRate 1 = %d %s, want an intact 400", resp.StatusCode, body)
	}
}

func TestFaultMissingFields(t *testing.T) {
	const n = 200
	srv := start(t, mockapi.Options{Users: n, Faults: mockapi.Faults{MissingFieldRate: 0.5}})
	missing := func(path string) []string {
		t.Helper()
		var raw struct{ Data []map[string]any }
		getJSON(t, srv.Client(), srv.URL+path, &raw)
		if len(raw.Data) != n {
			t.Fatalf("GET %s = %d users, want %d", path, len(raw.Data), n)
		}
		var ids []string
		for _, u := range raw.Data {
			_, hasEmail := u["email"]
			_, hasUpdated := u["updatedAt"]
			if hasEmail != hasUpdated {
				t.Errorf("user %v: email present %v, updatedAt present %v; want both or neither", u["id"], hasEmail, hasUpdated)
			}
			if !hasEmail {
				ids = append(ids, u["id"].(string))
			}
		}
		slices.Sort(ids)
		return ids
	}
	first := missing("/users?limit=1000")
	if share := float64(len(first)) / n; share < 0.35 || share > 0.65 {
		t.Errorf("share of users missing fields = %.2f, want about 0.5", share)
	}
	if diff := cmp.Diff(first, missing("/users/keyset?limit=1000")); diff != "" {
		t.Errorf("users missing fields differ between reads (-offset +keyset):\n%s", diff)
	}
	// The fault is in the serving only: the data is complete.
	for _, u := range srv.Users() {
		if u.Email == "" || u.UpdatedAt.IsZero() {
			t.Fatalf("Users() has %+v, want complete users", u)
		}
	}
}

func TestFaultRepeatLastPage(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10, Faults: mockapi.Faults{RepeatLastPage: true}})
	c := srv.Client()
	users := srv.Users()

	t.Run("offset", func(t *testing.T) {
		var last, past mockapi.OffsetResponse
		getJSON(t, c, srv.URL+"/users?offset=8&limit=4", &last)
		getJSON(t, c, srv.URL+"/users?offset=12&limit=4", &past)
		if diff := cmp.Diff(users[8:], past.Data); diff != "" || !past.HasMore || last.HasMore || past.Offset != 12 {
			t.Errorf("past the end: has_more %v (last page %v), offset %d; data (-last page +got):\n%s", past.HasMore, last.HasMore, past.Offset, diff)
		}
	})
	t.Run("pages", func(t *testing.T) {
		var past mockapi.PageResponse
		getJSON(t, c, srv.URL+"/users/pages?page=9&per_page=4", &past)
		if diff := cmp.Diff(users[8:], past.Data); diff != "" || !past.HasMore || past.Page != 9 {
			t.Errorf("page 9 of 3: has_more %v, page %d; data (-last page +got):\n%s", past.HasMore, past.Page, diff)
		}
	})
	t.Run("keyset", func(t *testing.T) {
		var past mockapi.KeysetResponse
		getJSON(t, c, srv.URL+"/users/keyset?limit=4&after="+url.QueryEscape(mockapi.Key(users[9])), &past)
		if diff := cmp.Diff(users[6:], past.Data); diff != "" || !past.HasMore {
			t.Errorf("after the last user: has_more %v; data (-last 4 +got):\n%s", past.HasMore, diff)
		}
	})
	t.Run("cursor", func(t *testing.T) {
		var p mockapi.CursorResponse
		getJSON(t, c, srv.URL+"/users/cursor?limit=4", &p)
		getJSON(t, c, srv.URL+"/users/cursor?limit=4&cursor="+p.NextCursor, &p)
		getJSON(t, c, srv.URL+"/users/cursor?limit=4&cursor="+p.NextCursor, &p)
		lastNext := p.NextCursor
		if diff := cmp.Diff(users[8:], p.Data); diff != "" || lastNext == "" {
			t.Fatalf("last page: next_cursor %q, want one; data (-want +got):\n%s", lastNext, diff)
		}
		var again mockapi.CursorResponse
		getJSON(t, c, srv.URL+"/users/cursor?limit=4&cursor="+lastNext, &again)
		if diff := cmp.Diff(users[6:], again.Data); diff != "" || again.NextCursor != lastNext {
			t.Errorf("past the end: next_cursor %q, want %q again; data (-last 4 +got):\n%s", again.NextCursor, lastNext, diff)
		}
	})
	t.Run("link", func(t *testing.T) {
		var data []mockapi.User
		resp := getJSON(t, c, srv.URL+"/users/link?limit=5", &data)
		next := parseLinks(resp.Header.Get("Link"))["next"]
		resp = getJSON(t, c, next, &data)
		last := parseLinks(resp.Header.Get("Link"))["next"]
		if diff := cmp.Diff(users[5:], data); diff != "" || last == "" {
			t.Fatalf("last page: next link %q, want one; data (-want +got):\n%s", last, diff)
		}
		resp = getJSON(t, c, last, &data)
		if diff := cmp.Diff(users[5:], data); diff != "" || parseLinks(resp.Header.Get("Link"))["next"] != last {
			t.Errorf("past the end: next link %q, want %q again; data (-last 5 +got):\n%s", parseLinks(resp.Header.Get("Link"))["next"], last, diff)
		}
	})
}

func TestFaultSelfLinkLastPage(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10, Faults: mockapi.Faults{SelfLinkLastPage: true}})
	c := srv.Client()
	users := srv.Users()

	t.Run("cursor", func(t *testing.T) {
		var p mockapi.CursorResponse
		getJSON(t, c, srv.URL+"/users/cursor?limit=6", &p)
		cursor := p.NextCursor
		getJSON(t, c, srv.URL+"/users/cursor?limit=6&cursor="+cursor, &p)
		if diff := cmp.Diff(users[6:], p.Data); diff != "" || p.NextCursor != cursor {
			t.Errorf("last page: next_cursor %q, want its own cursor %q; data (-want +got):\n%s", p.NextCursor, cursor, diff)
		}
	})
	t.Run("cursor single page", func(t *testing.T) {
		var p, again mockapi.CursorResponse
		getJSON(t, c, srv.URL+"/users/cursor?limit=50", &p)
		if p.NextCursor == "" {
			t.Fatalf("only page: no next_cursor, want one pointing to itself")
		}
		getJSON(t, c, srv.URL+"/users/cursor?limit=50&cursor="+p.NextCursor, &again)
		if diff := cmp.Diff(p, again); diff != "" {
			t.Errorf("following the only page's cursor (-first +again):\n%s", diff)
		}
	})
	t.Run("link single page", func(t *testing.T) {
		var data []mockapi.User
		u := srv.URL + "/users/link?limit=50"
		resp := getJSON(t, c, u, &data)
		if next := parseLinks(resp.Header.Get("Link"))["next"]; next != u {
			t.Errorf("only page: next link %q, want its own URL %q", next, u)
		}
	})
	t.Run("link", func(t *testing.T) {
		var data []mockapi.User
		resp := getJSON(t, c, srv.URL+"/users/link?limit=6", &data)
		next := parseLinks(resp.Header.Get("Link"))["next"]
		resp = getJSON(t, c, next, &data)
		self := parseLinks(resp.Header.Get("Link"))["next"]
		if diff := cmp.Diff(users[6:], data); diff != "" || self != next {
			t.Errorf("last page: next link %q, want its own URL %q; data (-want +got):\n%s", self, next, diff)
		}
	})
}

func TestRequestCounts(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10})
	for _, path := range []string{"/users", "/users", "/users/keyset", "/nope", "/users?limit=x"} {
		get(t, srv.Client(), srv.URL+path)
	}
	counts := map[string]int64{
		"":              srv.Requests(),
		"/users":        srv.RequestsTo("/users"),
		"/users/keyset": srv.RequestsTo("/users/keyset"),
		"/users/cursor": srv.RequestsTo("/users/cursor"),
		"/nope":         srv.RequestsTo("/nope"),
	}
	want := map[string]int64{"": 5, "/users": 3, "/users/keyset": 1, "/users/cursor": 0, "/nope": 0}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("request counts (-want +got):\n%s", diff)
	}
	srv.ResetCounts()
	if srv.Requests() != 0 || srv.RequestsTo("/users") != 0 {
		t.Errorf("after ResetCounts: Requests() = %d, RequestsTo(/users) = %d; want 0, 0", srv.Requests(), srv.RequestsTo("/users"))
	}
}

func TestSetFaults(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10})
	in := mockapi.Faults{ErrorRate: 2, RateLimitRate: -1, MalformedRequests: []int{3}}
	srv.SetFaults(in)
	in.MalformedRequests[0] = 99 // the server keeps its own copy
	got := srv.Faults()
	want := mockapi.Faults{ErrorRate: 1, RetryAfter: mockapi.DefaultRetryAfter, RateLimitWindow: mockapi.DefaultRateLimitWindow, MalformedRequests: []int{3}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Faults() after SetFaults (-want +got):\n%s", diff)
	}
	if resp, _ := get(t, srv.Client(), srv.URL+"/users"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("after SetFaults(ErrorRate 1): status %d, want 500", resp.StatusCode)
	}
	srv.SetFaults(mockapi.Faults{})
	if resp, _ := get(t, srv.Client(), srv.URL+"/users"); resp.StatusCode != http.StatusOK {
		t.Errorf("after SetFaults(none): status %d, want 200", resp.StatusCode)
	}
}
