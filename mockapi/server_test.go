package mockapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/mockapi"
)

var equateEmpty = cmpopts.EquateEmpty()

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func TestWalkReturnsUsersInOrder(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 250, MaxPageSize: 40})
	// Move some users to the tail, insert and delete some, so the walk
	// crosses removed base users, overrides and tombstones.
	for _, i := range []int{0, 1, 2, 3, 100, 249} {
		if _, ok := srv.Update(srv.UserAt(i).ID); !ok {
			t.Fatalf("Update(UserAt(%d).ID) = _, false, want true", i)
		}
	}
	srv.Advance(time.Second)
	srv.Insert()
	srv.Insert()
	for _, i := range []int{4, 50, 51} {
		if !srv.Delete(srv.UserAt(i).ID) {
			t.Fatalf("Delete(UserAt(%d).ID) = false, want true", i)
		}
	}
	want := srv.Users()
	if len(want) != 250+2-3 {
		t.Fatalf("len(Users()) = %d, want %d", len(want), 249)
	}
	for _, w := range walkers {
		for _, limit := range []string{"7", "40", "1000"} {
			t.Run(w.name+"/limit="+limit, func(t *testing.T) {
				got := mustWalk(t, w.walk, srv, url.Values{"limit": {limit}, "per_page": {limit}})
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("walk mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestWalkEmpty(t *testing.T) {
	srv := start(t, mockapi.Options{Users: -1})
	for _, w := range walkers {
		if got := mustWalk(t, w.walk, srv, nil); len(got) != 0 {
			t.Errorf("%s walk of an empty server = %d users, want 0", w.name, len(got))
		}
	}
	_, body := get(t, srv.Client(), srv.URL+"/users")
	if !bytes.Contains(body, []byte(`"data":[]`)) {
		t.Errorf("GET /users on an empty server = %s, want an empty data array", body)
	}
}

func TestFilters(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 60})
	srv.Advance(time.Minute)
	deleted := srv.UserAt(7)
	if !srv.Delete(deleted.ID) {
		t.Fatalf("Delete(%q) = false, want true", deleted.ID)
	}
	live := srv.Users()
	tomb := mockapi.User{ID: deleted.ID, UpdatedAt: srv.Now(), Deleted: true}
	withTomb := append(slices.Clone(live), tomb) // the deletion is the latest change

	// Group 10 (users 30..32) shares one updatedAt: a boundary with ties.
	boundary := srv.UserAt(30).UpdatedAt
	between := func(lo, hi time.Time) []mockapi.User {
		var out []mockapi.User
		for _, u := range withTomb {
			if !u.Deleted && !u.UpdatedAt.Before(lo) && (hi.IsZero() || u.UpdatedAt.Before(hi)) {
				out = append(out, u)
			}
		}
		return out
	}
	tests := []struct {
		name string
		q    url.Values
		want []mockapi.User
	}{
		{"since inclusive at tie", url.Values{"updated_since": {rfc3339(boundary)}}, between(boundary, time.Time{})},
		{"since just after tie", url.Values{"updated_since": {rfc3339(boundary.Add(time.Nanosecond))}}, between(boundary.Add(time.Second), time.Time{})},
		{"before exclusive at tie", url.Values{"updated_before": {rfc3339(boundary)}}, between(time.Time{}, boundary)},
		{"window", url.Values{"updated_since": {rfc3339(boundary)}, "updated_before": {rfc3339(boundary.Add(2 * time.Second))}}, between(boundary, boundary.Add(2*time.Second))},
		{"empty window", url.Values{"updated_since": {rfc3339(boundary)}, "updated_before": {rfc3339(boundary)}}, nil},
		{"include deleted", url.Values{"include_deleted": {"true"}}, withTomb},
		{"include deleted false", url.Values{"include_deleted": {"false"}}, live},
		{"deleted since deletion", url.Values{"include_deleted": {"1"}, "updated_since": {rfc3339(srv.Now())}}, []mockapi.User{tomb}},
		{"unknown parameters ignored", url.Values{"sort": {"desc"}, "fields": {"id"}}, live},
	}
	if w := tests[0].want; len(w) < 3 || !w[2].UpdatedAt.Equal(boundary) || !w[0].UpdatedAt.Equal(boundary) {
		t.Fatalf("test setup: the inclusive boundary should start with a tie group of 3")
	}
	for _, tt := range tests {
		for _, w := range walkers {
			t.Run(tt.name+"/"+w.name, func(t *testing.T) {
				got := mustWalk(t, w.walk, srv, with(tt.q, "limit", "4", "per_page", "4"))
				if diff := cmp.Diff(tt.want, got, equateEmpty); diff != "" {
					t.Errorf("walk(%s) mismatch (-want +got):\n%s", tt.q.Encode(), diff)
				}
			})
		}
	}
	t.Run("total counts the filter", func(t *testing.T) {
		var p mockapi.OffsetResponse
		getJSON(t, srv.Client(), srv.URL+"/users?limit=1&updated_since="+url.QueryEscape(rfc3339(boundary)), &p)
		if want := len(between(boundary, time.Time{})); p.Total != want {
			t.Errorf("total = %d, want %d", p.Total, want)
		}
	})
}

func TestPageSizes(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 100, MaxPageSize: 30, DefaultPageSize: 20})
	c := srv.Client()
	t.Run("offset", func(t *testing.T) {
		tests := []struct {
			query     string
			wantLen   int
			wantLimit int
			wantMore  bool
		}{
			{"", 20, 20, true},
			{"limit=5", 5, 5, true},
			{"limit=30", 30, 30, true},
			{"limit=31", 30, 30, true},
			{"limit=100000", 30, 30, true},
			{"offset=90&limit=100", 10, 30, false},
			{"offset=100", 0, 20, false},
			{"offset=1000000", 0, 20, false},
		}
		for _, tt := range tests {
			var p mockapi.OffsetResponse
			getJSON(t, c, srv.URL+"/users?"+tt.query, &p)
			if len(p.Data) != tt.wantLen || p.Limit != tt.wantLimit || p.HasMore != tt.wantMore || p.Total != 100 {
				t.Errorf("GET /users?%s = %d users, limit %d, has_more %v, total %d; want %d, %d, %v, 100",
					tt.query, len(p.Data), p.Limit, p.HasMore, p.Total, tt.wantLen, tt.wantLimit, tt.wantMore)
			}
		}
	})
	t.Run("pages", func(t *testing.T) {
		var p mockapi.PageResponse
		getJSON(t, c, srv.URL+"/users/pages?page=4&per_page=500", &p)
		want := mockapi.PageResponse{Page: 4, PerPage: 30, Total: 100, TotalPages: 4, HasMore: false}
		if diff := cmp.Diff(want, p, cmpopts.IgnoreFields(mockapi.PageResponse{}, "Data")); diff != "" || len(p.Data) != 10 {
			t.Errorf("GET /users/pages?page=4&per_page=500: %d users, want 10; (-want +got):\n%s", len(p.Data), diff)
		}
	})
	t.Run("cursor, link and keyset", func(t *testing.T) {
		var cp mockapi.CursorResponse
		getJSON(t, c, srv.URL+"/users/cursor?limit=99", &cp)
		var lp []mockapi.User
		getJSON(t, c, srv.URL+"/users/link?limit=99", &lp)
		var kp mockapi.KeysetResponse
		getJSON(t, c, srv.URL+"/users/keyset?limit=99", &kp)
		for name, n := range map[string]int{"cursor": len(cp.Data), "link": len(lp), "keyset": len(kp.Data)} {
			if n != 30 {
				t.Errorf("%s page with limit=99 has %d users, want the maximum 30", name, n)
			}
		}
	})
}

func TestBadParameters(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10})
	tests := []string{
		"/users?offset=x",
		"/users?offset=-1",
		"/users?offset=1.5",
		"/users?limit=abc",
		"/users?limit=-5",
		"/users?limit=0",
		"/users?limit=99999999999999999999",
		"/users?updated_since=yesterday",
		"/users?updated_since=2024-01-01",
		"/users?updated_before=2024-13-01T00:00:00Z",
		"/users?include_deleted=maybe",
		"/users/pages?page=0",
		"/users/pages?page=-1",
		"/users/pages?page=two",
		"/users/pages?per_page=x",
		"/users/pages?per_page=-1",
		"/users/cursor?cursor=%25%25%25",
		"/users/cursor?cursor=Zm9v",
		"/users/cursor?limit=-1",
		"/users/cursor?updated_since=nope",
		"/users/link?cursor=!!",
		"/users/link?limit=z",
		"/users/keyset?after=nocomma",
		"/users/keyset?after=2024-01-01T00:00:00Z,",
		"/users/keyset?after=bad,id",
		"/users/keyset?limit=1e3",
		"/users/keyset?include_deleted=yes",
	}
	for _, path := range tests {
		resp, body := get(t, srv.Client(), srv.URL+path)
		var e mockapi.ErrorResponse
		err := json.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusBadRequest || err != nil || e.Error == "" ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s = %d %q %s, want 400 application/json {\"error\":...}",
				path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

func TestNotFoundAndMethod(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 10})
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodGet, "/users/", http.StatusNotFound},
		{http.MethodPost, "/users", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/users/keyset", http.StatusMethodNotAllowed},
		{http.MethodHead, "/users", http.StatusOK},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		if err != nil {
			t.Fatalf("NewRequest: %v", err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s = %d %q, want %d application/json", tt.method, tt.path,
				resp.StatusCode, resp.Header.Get("Content-Type"), tt.want)
		}
	}
}

func TestLinkHeader(t *testing.T) {
	for _, relative := range []bool{false, true} {
		t.Run(fmt.Sprintf("relative=%v", relative), func(t *testing.T) {
			srv := start(t, mockapi.Options{Users: 10, RelativeLinks: relative})
			since := rfc3339(srv.UserAt(0).UpdatedAt)
			u := srv.URL + "/users/link?limit=3&limit=4&foo=bar&foo=baz&updated_since=" + url.QueryEscape(since)
			resp, _ := get(t, srv.Client(), u)
			links := parseLinks(resp.Header.Get("Link"))
			next, err := url.Parse(links["next"])
			if err != nil || links["first"] == "" {
				t.Fatalf("Link = %q, want next and first links", resp.Header.Get("Link"))
			}
			if relative != (next.Scheme == "" && next.Host == "") || next.Path != "/users/link" {
				t.Errorf("next link = %q, want a relative link: %v", links["next"], relative)
			}
			q := next.Query()
			want := url.Values{"limit": {"3"}, "foo": {"bar"}, "updated_since": {since}, "cursor": q["cursor"]}
			if diff := cmp.Diff(want, q); diff != "" || len(q["cursor"]) != 1 || q.Get("cursor") == "" {
				t.Errorf("next link query mismatch (-want +got):\n%s", diff)
			}
			first, _ := url.Parse(links["first"])
			if first.Query().Has("cursor") {
				t.Errorf("first link = %q, want no cursor", links["first"])
			}
			// The last page has a first link only.
			var data []mockapi.User
			last := getJSON(t, srv.Client(), srv.URL+"/users/link?limit=100", &data)
			if links := parseLinks(last.Header.Get("Link")); links["next"] != "" || links["first"] == "" {
				t.Errorf("Link on the last page = %q, want only rel=\"first\"", last.Header.Get("Link"))
			}
		})
	}
}

func TestMutationsVisible(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 20})
	c := srv.Client()
	since := func() string { return url.QueryEscape(rfc3339(srv.Now())) }

	srv.Advance(time.Minute)
	old := srv.UserAt(4)
	upd, ok := srv.Update(old.ID)
	if !ok {
		t.Fatalf("Update(%q) = _, false, want true", old.ID)
	}
	if upd.ID != old.ID || upd.Name == old.Name || upd.Email == old.Email || !upd.UpdatedAt.Equal(srv.Now()) ||
		upd.CreatedAt != old.CreatedAt || upd.Address != old.Address {
		t.Errorf("Update(%q) = %+v, want the same id, createdAt and address, a new name, email, updatedAt %v", old.ID, upd, srv.Now())
	}
	var p mockapi.OffsetResponse
	getJSON(t, c, srv.URL+"/users?updated_since="+since(), &p)
	if diff := cmp.Diff([]mockapi.User{upd}, p.Data); diff != "" {
		t.Errorf("after Update, users since now (-want +got):\n%s", diff)
	}

	ins := srv.Insert()
	getJSON(t, c, srv.URL+"/users?updated_since="+since(), &p)
	if diff := cmp.Diff([]mockapi.User{upd, ins}, p.Data, cmpopts.SortSlices(func(a, b mockapi.User) bool { return a.ID < b.ID })); diff != "" {
		t.Errorf("after Insert, users since now (-want +got):\n%s", diff)
	}
	if p.Total != 2 || srv.Len() != 21 {
		t.Errorf("after Insert: total since now %d, Len() %d; want 2, 21", p.Total, srv.Len())
	}

	srv.Advance(time.Second)
	for _, id := range []string{ins.ID, srv.UserAt(9).ID} {
		if !srv.Delete(id) {
			t.Fatalf("Delete(%q) = false, want true", id)
		}
	}
	var k mockapi.KeysetResponse
	getJSON(t, c, srv.URL+"/users/keyset?include_deleted=true&updated_since="+since(), &k)
	wantTombs := []mockapi.User{
		{ID: ins.ID, UpdatedAt: srv.Now(), Deleted: true},
		{ID: srv.UserAt(9).ID, UpdatedAt: srv.Now(), Deleted: true},
	}
	slices.SortFunc(wantTombs, func(a, b mockapi.User) int { return strings.Compare(a.ID, b.ID) })
	if diff := cmp.Diff(wantTombs, k.Data); diff != "" {
		t.Errorf("after Delete, tombstones since now (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{wantTombs[0].ID, wantTombs[1].ID}, srv.Deleted()); diff != "" {
		t.Errorf("Deleted() mismatch (-want +got):\n%s", diff)
	}
	getJSON(t, c, srv.URL+"/users?limit=1000", &p)
	if p.Total != 19 || slices.ContainsFunc(p.Data, func(u mockapi.User) bool { return u.ID == ins.ID }) {
		t.Errorf("after Delete: total %d, want 19 without the deleted users", p.Total)
	}

	other := mockapi.NewUnstartedServer(mockapi.Options{Users: 20, Seed: 99}).UserAt(0).ID
	for _, id := range []string{ins.ID, srv.UserAt(9).ID, "nope", other, ""} {
		if u, ok := srv.Update(id); ok {
			t.Errorf("Update(%q) = %+v, true, want false", id, u)
		}
		if srv.Delete(id) {
			t.Errorf("Delete(%q) = true, want false", id)
		}
	}
	if srv.Len() != 19 {
		t.Errorf("Len() = %d, want 19", srv.Len())
	}
}

func TestClock(t *testing.T) {
	srv := mockapi.NewUnstartedServer(mockapi.Options{Users: 10}) // groups at 0s..3s
	want := mockapi.DefaultStart.Add(4 * time.Second)
	if got := srv.Now(); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v, one step after the last base timestamp", got, want)
	}
	srv.Advance(-time.Hour)
	srv.Advance(0)
	if got := srv.Now(); !got.Equal(want) {
		t.Errorf("after Advance(-1h) and Advance(0), Now() = %v, want %v", got, want)
	}
	srv.Advance(time.Minute)
	want = want.Add(time.Minute)
	if err := srv.SetNow(want.Add(-time.Nanosecond)); err == nil {
		t.Errorf("SetNow(Now()-1ns) = nil, want an error")
	}
	if err := srv.SetNow(want); err != nil {
		t.Errorf("SetNow(Now()) = %v, want nil", err)
	}
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600))
	if err := srv.SetNow(later); err != nil {
		t.Errorf("SetNow(%v) = %v, want nil", later, err)
	}
	if got := srv.Now(); !got.Equal(later) || got.Location() != time.UTC {
		t.Errorf("Now() = %v, want %v in UTC", got, later)
	}
	if u := srv.Insert(); !u.UpdatedAt.Equal(later) || !u.CreatedAt.Equal(later) {
		t.Errorf("Insert() stamped %v, %v, want the clock %v", u.UpdatedAt, u.CreatedAt, later)
	}
}

func TestUsersData(t *testing.T) {
	srv := mockapi.NewUnstartedServer(mockapi.Options{Users: 10, Start: time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC), Step: time.Hour, TiesPerTimestamp: 2})
	users := srv.Users()
	if len(users) != 10 {
		t.Fatalf("len(Users()) = %d, want 10", len(users))
	}
	seen := map[string]bool{}
	for i := range 10 {
		u := srv.UserAt(i)
		want := time.Date(2020, 5, 1, i/2, 0, 0, 0, time.UTC)
		if !u.UpdatedAt.Equal(want) || u.CreatedAt.After(u.UpdatedAt) {
			t.Errorf("UserAt(%d): updatedAt %v, createdAt %v; want updatedAt %v and createdAt no later", i, u.UpdatedAt, u.CreatedAt, want)
		}
		if u.ID == "" || u.Name == "" || !strings.Contains(u.Email, "@") || u.Address == "" || u.Company == "" || u.Job == "" {
			t.Errorf("UserAt(%d) = %+v, want every field set", i, u)
		}
		if seen[u.ID] {
			t.Errorf("UserAt(%d).ID = %q, a duplicate", i, u.ID)
		}
		seen[u.ID] = true
	}
	for i := 1; i < len(users); i++ {
		a, b := users[i-1], users[i]
		if !a.UpdatedAt.Before(b.UpdatedAt) && !(a.UpdatedAt.Equal(b.UpdatedAt) && a.ID < b.ID) {
			t.Errorf("Users()[%d:%d] = %s, %s: not in (updatedAt, id) order", i-1, i+1, mockapi.Key(a), mockapi.Key(b))
		}
	}
	for _, i := range []int{-1, 10, 1 << 40} {
		if u := srv.UserAt(i); u != (mockapi.User{}) {
			t.Errorf("UserAt(%d) = %+v, want the zero User", i, u)
		}
	}
	b, err := json.Marshal(srv.UserAt(0))
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	})
	if diff := cmp.Diff([]string{"address", "company", "createdAt", "email", "id", "job", "name", "updatedAt"}, keys); diff != "" {
		t.Errorf("JSON fields of a user (-want +got):\n%s", diff)
	}
	if fields["updatedAt"] != "2020-05-01T00:00:00Z" {
		t.Errorf(`JSON "updatedAt" = %v, want "2020-05-01T00:00:00Z"`, fields["updatedAt"])
	}
}

func TestDeterminism(t *testing.T) {
	a := start(t, mockapi.Options{Users: 300, Seed: 42})
	b := mockapi.NewServer(mockapi.Options{Users: 300, Seed: 42})
	defer b.Close()
	c := mockapi.NewServer(mockapi.Options{Users: 300, Seed: 43})
	defer c.Close()
	const path = "/users?offset=100&limit=50"
	_, bodyA := get(t, a.Client(), a.URL+path)
	_, bodyB := get(t, b.Client(), b.URL+path)
	_, bodyC := get(t, c.Client(), c.URL+path)
	if !bytes.Equal(bodyA, bodyB) {
		t.Errorf("GET %s differs between two servers with seed 42", path)
	}
	if bytes.Equal(bodyA, bodyC) {
		t.Errorf("GET %s is the same for seeds 42 and 43, want different users", path)
	}
	ua, ub := a.Update(a.UserAt(3).ID)
	va, vb := b.Update(b.UserAt(3).ID)
	if diff := cmp.Diff(ua, va); diff != "" || !ub || !vb {
		t.Errorf("Update of the same user on two servers with the same seed differs (-a +b):\n%s", diff)
	}
	if diff := cmp.Diff(a.Insert(), b.Insert()); diff != "" {
		t.Errorf("Insert on two servers with the same seed differs (-a +b):\n%s", diff)
	}
}

func TestDefaults(t *testing.T) {
	srv := start(t, mockapi.Options{})
	var p mockapi.OffsetResponse
	getJSON(t, srv.Client(), srv.URL+"/users", &p)
	if len(p.Data) != mockapi.DefaultPageSize || p.Limit != mockapi.DefaultPageSize || p.Total != mockapi.DefaultUsers {
		t.Errorf("GET /users on a zero Options server = %d users, limit %d, total %d; want %d, %d, %d",
			len(p.Data), p.Limit, p.Total, mockapi.DefaultPageSize, mockapi.DefaultPageSize, mockapi.DefaultUsers)
	}
	getJSON(t, srv.Client(), srv.URL+"/users?limit=5000", &p)
	if p.Limit != mockapi.DefaultMaxPageSize {
		t.Errorf("limit=5000 served limit %d, want %d", p.Limit, mockapi.DefaultMaxPageSize)
	}
	if diff := cmp.Diff(mockapi.NewUnstartedServer(mockapi.Options{Seed: 1}).UserAt(0), srv.UserAt(0)); diff != "" {
		t.Errorf("zero Seed serves other users than seed 1 (-seed 1 +zero):\n%s", diff)
	}
	if got := srv.Faults().RetryAfter; got != mockapi.DefaultRetryAfter {
		t.Errorf("Faults().RetryAfter = %v, want %v", got, mockapi.DefaultRetryAfter)
	}
}

func TestLargeServer(t *testing.T) {
	const n = 10_000_000
	srv := start(t, mockapi.Options{Users: n})
	var p mockapi.OffsetResponse
	getJSON(t, srv.Client(), srv.URL+"/users?offset=9999990&limit=100", &p)
	if len(p.Data) != 10 || p.Total != n || p.HasMore {
		t.Fatalf("GET offset=9999990: %d users, total %d, has_more %v; want 10, %d, false", len(p.Data), p.Total, p.HasMore, n)
	}
	lastTime := mockapi.DefaultStart.Add((n - 1) / 3 * time.Second)
	if got := p.Data[9].UpdatedAt; !got.Equal(lastTime) {
		t.Errorf("last user updatedAt = %v, want %v", got, lastTime)
	}
	var k mockapi.KeysetResponse
	getJSON(t, srv.Client(), srv.URL+"/users/keyset?limit=100&after="+url.QueryEscape(mockapi.Key(p.Data[4])), &k)
	if diff := cmp.Diff(p.Data[5:], k.Data); diff != "" || k.HasMore {
		t.Errorf("keyset after the 9,999,995th user (-want +got):\n%s", diff)
	}
	// What serving the end costs beside serving the start is a benchmark
	// figure (BenchmarkDeepOffset), not an assertion that could flake.
}

func TestServerLifecycle(t *testing.T) {
	defer goleak.VerifyNone(t)
	srv := mockapi.NewUnstartedServer(mockapi.Options{Users: 10})
	if srv.URL != "" || srv.Client() != nil {
		t.Errorf("before Start: URL %q, Client %v; want empty and nil", srv.URL, srv.Client())
	}
	srv.Close() // before Start: nothing to do

	// Handler serves the same data elsewhere.
	other := httptest.NewServer(srv.Handler())
	var p mockapi.OffsetResponse
	getJSON(t, other.Client(), other.URL+"/users", &p)
	other.Close()
	if p.Total != 10 {
		t.Errorf("total through Handler = %d, want 10", p.Total)
	}

	srv.Start()
	url1 := srv.URL
	srv.Start() // no effect
	if srv.URL == "" || srv.URL != url1 {
		t.Errorf("URL after Start, Start = %q, %q; want one non-empty URL", url1, srv.URL)
	}
	getJSON(t, srv.Client(), srv.URL+"/users", &p)
	srv.Close()
	srv.Close()
	if _, err := srv.Client().Get(srv.URL + "/users"); err == nil {
		t.Errorf("GET after Close succeeded, want an error")
	}
}

func TestCloseWaitsForInFlightRequests(t *testing.T) {
	defer goleak.VerifyNone(t)
	const latency = 150 * time.Millisecond
	srv := mockapi.NewServer(mockapi.Options{Users: 10, Faults: mockapi.Faults{Latency: latency}})
	begin := time.Now()
	done := make(chan int, 1)
	go func() {
		resp, err := srv.Client().Get(srv.URL + "/users")
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for srv.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	srv.Close()
	if elapsed := time.Since(begin); elapsed < latency {
		t.Errorf("Close returned %v after the request started, want at least its latency %v", elapsed, latency)
	}
	if status := <-done; status != http.StatusOK {
		t.Errorf("in-flight request ended with %d, want 200", status)
	}
}

func TestConcurrentMutation(t *testing.T) {
	srv := start(t, mockapi.Options{Users: 300})
	stop := make(chan struct{})
	var mutators, readers sync.WaitGroup
	for m := range 2 {
		mutators.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Microsecond):
				}
				u := srv.UserAt((i*7 + m*13) % 300)
				switch i % 4 {
				case 0:
					srv.Update(u.ID)
				case 1:
					srv.Insert()
				case 2:
					srv.Delete(u.ID)
				case 3:
					srv.Advance(time.Millisecond)
				}
			}
		})
	}
	for _, w := range walkers {
		readers.Go(func() {
			for range 3 {
				users, err := w.walk(srv, url.Values{"limit": {"37"}, "per_page": {"37"}, "include_deleted": {"true"}})
				if err != nil {
					t.Errorf("%s walk under mutation: %v", w.name, err)
					return
				}
				if len(users) < 300 {
					t.Errorf("%s walk under mutation returned %d users and tombstones, want at least 300", w.name, len(users))
				}
				if w.name == "offset" || w.name == "pages" {
					continue // offsets shift under mutation; only positions are monotonic
				}
				for i := 1; i < len(users); i++ {
					a, b := users[i-1], users[i]
					if !a.UpdatedAt.Before(b.UpdatedAt) && !(a.UpdatedAt.Equal(b.UpdatedAt) && a.ID < b.ID) {
						t.Errorf("%s walk under mutation went backwards at %d: %s then %s", w.name, i, mockapi.Key(a), mockapi.Key(b))
						return
					}
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	mutators.Wait()
	if srv.Len() == 300 && len(srv.Deleted()) == 0 {
		t.Fatalf("no mutation happened during the walks")
	}
	// Once quiet, every walk sees exactly the final collection.
	want := srv.Users()
	for _, w := range walkers {
		if diff := cmp.Diff(want, mustWalk(t, w.walk, srv, url.Values{"limit": {"50"}, "per_page": {"50"}})); diff != "" {
			t.Errorf("%s walk after mutation (-want +got):\n%s", w.name, diff)
		}
	}
}

func TestKey(t *testing.T) {
	u := mockapi.User{ID: "abc", UpdatedAt: time.Date(2024, 1, 1, 0, 0, 1, 500, time.FixedZone("X", 7200))}
	key := mockapi.Key(u)
	if want := "2023-12-31T22:00:01.0000005Z,abc"; key != want {
		t.Errorf("Key(%+v) = %q, want %q", u, key, want)
	}
	ts, id, err := mockapi.ParseKey(key)
	if err != nil || !ts.Equal(u.UpdatedAt) || id != "abc" {
		t.Errorf("ParseKey(%q) = %v, %q, %v; want %v, \"abc\", nil", key, ts, id, err, u.UpdatedAt)
	}
	for _, bad := range []string{"", "abc", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z,", "yesterday,abc"} {
		if _, _, err := mockapi.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) = _, _, nil, want an error", bad)
		}
	}
}
