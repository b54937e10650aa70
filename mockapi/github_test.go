package mockapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/mockapi"
)

// walkIssues follows the Link rel="next" of the issues listing from the
// first page (query q) to the end, and returns every issue served and the
// number of pages.
func walkIssues(srv *mockapi.Server, q string) ([]mockapi.Issue, int, error) {
	var all []mockapi.Issue
	next := srv.URL + srv.GitHub().Path() + "?" + q
	for pages := 1; pages <= maxPages; pages++ {
		var page []mockapi.Issue
		resp, err := fetchJSON(srv.Client(), next, &page)
		if err != nil {
			return all, pages, err
		}
		all = append(all, page...)
		next = parseLinks(resp.Header.Get("Link"))["next"]
		if next == "" {
			return all, pages, nil
		}
	}
	return all, maxPages, errNoEnd
}

func mustWalkIssues(t *testing.T, srv *mockapi.Server, q string) []mockapi.Issue {
	t.Helper()
	issues, _, err := walkIssues(srv, q)
	if err != nil {
		t.Fatal(err)
	}
	return issues
}

// issuesWhere returns the issues of want in state (or "all") updated at or
// after since, reversed for desc.
func issuesWhere(want []mockapi.Issue, state string, since time.Time, desc bool) []mockapi.Issue {
	var out []mockapi.Issue
	for _, is := range want {
		if (state == "all" || is.State == state) && !is.UpdatedAt.Before(since) {
			out = append(out, is)
		}
	}
	if desc {
		slices.Reverse(out)
	}
	return out
}

// changeIssues applies every kind of change to the issues of srv.
func changeIssues(t *testing.T, srv *mockapi.Server) {
	t.Helper()
	g := srv.GitHub()
	srv.Advance(time.Minute)
	ok := func(_ mockapi.Issue, ok bool) {
		t.Helper()
		if !ok {
			t.Fatal("a change of an issue failed")
		}
	}
	labels := g.Labels()
	ok(g.Update(3))
	ok(g.AddLabels(5, labels[0].Name, labels[1].Name))
	for _, n := range []int{1, 2, 4, 6, 7, 8} {
		if is, _ := g.Issue(n); is.State == mockapi.StateOpen {
			ok(g.Close(n))
			break
		}
	}
	srv.Advance(time.Second)
	for _, n := range []int{1, 2, 4, 6, 7, 8} {
		if is, _ := g.Issue(n); is.State == mockapi.StateClosed {
			ok(g.Reopen(n))
			break
		}
	}
	g.Insert()
	if !g.Delete(9) {
		t.Fatal("Delete(9) = false")
	}
	ok(g.RemoveLabels(5, labels[0].Name))
}

func TestIssuesWalk(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 47, TiesPerTimestamp: 4})
	changeIssues(t, srv)
	all := srv.GitHub().Issues()
	if len(all) != 47 {
		t.Fatalf("len(Issues()) = %d, want 47 (one inserted, one deleted)", len(all))
	}
	since := all[10].UpdatedAt
	for _, state := range []string{"all", "open", "closed"} {
		for _, dir := range []string{"asc", "desc"} {
			for _, perPage := range []int{1, 7, 100} {
				for _, s := range []time.Time{{}, since} {
					q := url.Values{"state": {state}, "sort": {"updated"}, "direction": {dir}, "per_page": {strconv.Itoa(perPage)}}
					if !s.IsZero() {
						q.Set("since", s.Format(time.RFC3339))
					}
					t.Run(q.Encode(), func(t *testing.T) {
						want := issuesWhere(all, state, s, dir == "desc")
						issues, pages, err := walkIssues(srv, q.Encode())
						if err != nil {
							t.Fatal(err)
						}
						if diff := cmp.Diff(want, issues, equateEmpty); diff != "" {
							t.Errorf("walk (-want +got):\n%s", diff)
						}
						if wantPages := max(1, (len(want)+perPage-1)/perPage); pages != wantPages {
							t.Errorf("walk took %d pages, want %d", pages, wantPages)
						}
					})
				}
			}
		}
	}
}

func TestIssuesDefaults(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 100})
	var page []mockapi.Issue
	getJSON(t, srv.Client(), srv.URL+srv.GitHub().Path()+"?sort=updated", &page)
	open := issuesWhere(srv.GitHub().Issues(), "open", time.Time{}, true) // GitHub's defaults: open, newest first
	if diff := cmp.Diff(open[:mockapi.GitHubPerPage], page, equateEmpty); diff != "" {
		t.Errorf("first page without state, direction, per_page (-want: 30 open issues, newest first +got):\n%s", diff)
	}
	getJSON(t, srv.Client(), srv.URL+srv.GitHub().Path()+"?sort=updated&state=all&per_page=1000", &page)
	if len(page) != mockapi.GitHubMaxPerPage {
		t.Errorf("per_page=1000 served %d issues, want the maximum %d", len(page), mockapi.GitHubMaxPerPage)
	}
}

// Numeric ids straddle 1,000,000,000: as text they would sort otherwise,
// also within tie groups, which the listing orders by numeric id.
func TestIssueIDs(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 300, TiesPerTimestamp: 5})
	issues := mustWalkIssues(t, srv, "state=all&sort=updated&direction=asc&per_page=100")
	below, above, textMisorders := 0, 0, 0
	for i, is := range issues {
		if is.ID < 1_000_000_000 {
			below++
		} else {
			above++
		}
		if i == 0 {
			continue
		}
		prev := issues[i-1]
		if prev.UpdatedAt.Equal(is.UpdatedAt) {
			if prev.ID >= is.ID {
				t.Errorf("issues %d and %d tie on updated_at but ids %d, %d are not ascending", prev.Number, is.Number, prev.ID, is.ID)
			}
			if strconv.FormatInt(prev.ID, 10) > strconv.FormatInt(is.ID, 10) {
				textMisorders++
			}
		} else if prev.UpdatedAt.After(is.UpdatedAt) {
			t.Errorf("updated_at goes backwards at issue %d", is.Number)
		}
	}
	if below == 0 || above == 0 || textMisorders == 0 {
		t.Errorf("ids: %d below 1e9, %d above, %d ties misordered as text; want each > 0", below, above, textMisorders)
	}
	numbers := make([]int, len(issues))
	for i, is := range issues {
		numbers[i] = is.Number
	}
	if slices.IsSorted(numbers) {
		t.Errorf("numbers follow the update order; want them shuffled")
	}
	slices.Sort(numbers)
	for i, n := range numbers {
		if n != i+1 {
			t.Fatalf("numbers are not 1..300: %v", numbers)
		}
	}
}

func TestIssuesSince(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 30, TiesPerTimestamp: 3})
	all := srv.GitHub().Issues()
	boundary := all[9].UpdatedAt // a tie group of 3: 9, 10, 11
	c := srv.Client()
	for _, tt := range []struct {
		since string
		want  []mockapi.Issue
	}{
		{boundary.Format(time.RFC3339), all[9:]},
		{boundary.Add(time.Second - time.Millisecond).Format(time.RFC3339Nano), all[12:]},
		{boundary.Add(-time.Millisecond).Format(time.RFC3339Nano), all[9:]},
		{boundary.In(time.FixedZone("X", 3600)).Format(time.RFC3339), all[9:]},
	} {
		var page []mockapi.Issue
		getJSON(t, c, srv.URL+srv.GitHub().Path()+"?state=all&sort=updated&direction=asc&per_page=100&since="+url.QueryEscape(tt.since), &page)
		if diff := cmp.Diff(tt.want, page, equateEmpty); diff != "" {
			t.Errorf("since=%s (-want +got):\n%s", tt.since, diff)
		}
	}
}

func TestIssuesLinks(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 25})
	c := srv.Client()
	base := srv.URL + srv.GitHub().Path()
	// Parameters the mock does not read are kept byte for byte, in order.
	q := "labels=a%2Cb&state=all&sort=updated&direction=asc&per_page=10&x=%E2%9C%93"
	link := func(page int) string {
		return base + "?" + q + "&page=" + strconv.Itoa(page)
	}
	tests := []struct {
		page int
		want map[string]string
	}{
		{1, map[string]string{"next": link(2), "last": link(3)}},
		{2, map[string]string{"next": link(3), "last": link(3), "first": link(1), "prev": link(1)}},
		{3, map[string]string{"first": link(1), "prev": link(2)}},
		{7, map[string]string{"first": link(1), "prev": link(3)}},
	}
	for _, tt := range tests {
		var page []mockapi.Issue
		resp := getJSON(t, c, link(tt.page), &page)
		if diff := cmp.Diff(tt.want, parseLinks(resp.Header.Get("Link"))); diff != "" {
			t.Errorf("Link of page %d = %q (-want +got):\n%s", tt.page, resp.Header.Get("Link"), diff)
		}
	}
	// The page parameter is replaced where it is, and only once.
	var page []mockapi.Issue
	resp := getJSON(t, c, base+"?page=1&state=all&page=9&sort=updated&per_page=10", &page)
	if next := parseLinks(resp.Header.Get("Link"))["next"]; next != base+"?page=2&state=all&sort=updated&per_page=10" {
		t.Errorf("next link = %q, want the page in place of the first page parameter", next)
	}
	// A single page, or none, has no Link header.
	for _, q := range []string{"state=all&sort=updated&per_page=100", "state=all&sort=updated&since=2100-01-01T00:00:00Z"} {
		resp := getJSON(t, c, base+"?"+q, &page)
		if h := resp.Header.Get("Link"); h != "" {
			t.Errorf("GET ?%s: Link %q, want none", q, h)
		}
	}
}

func TestIssuesMutations(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 20})
	g := srv.GitHub()
	srv.Advance(90 * time.Second)
	now := srv.Now().Truncate(time.Second)

	var open mockapi.Issue
	for _, is := range g.Issues() {
		if is.State == mockapi.StateOpen {
			open = is
			break
		}
	}
	upd, ok := g.Update(open.Number)
	if !ok || upd.Title == open.Title || upd.Comments != open.Comments+1 || !upd.UpdatedAt.Equal(now) ||
		upd.ID != open.ID || !upd.CreatedAt.Equal(open.CreatedAt) {
		t.Errorf("Update(%d) = %+v, %v; want a new title, one more comment, updated_at %v, the same id and created_at", open.Number, upd, ok, now)
	}
	if last := g.Issues()[g.Len()-1]; last.Number != open.Number {
		t.Errorf("the last issue after Update is #%d, want #%d", last.Number, open.Number)
	}
	closed, ok := g.Close(open.Number)
	if !ok || closed.State != mockapi.StateClosed || closed.ClosedAt == nil || !closed.ClosedAt.Equal(now) {
		t.Errorf("Close(%d) = %+v, %v; want closed at %v", open.Number, closed, ok, now)
	}
	if _, ok := g.Close(open.Number); ok {
		t.Errorf("Close of a closed issue = _, true, want false")
	}
	reopened, ok := g.Reopen(open.Number)
	if !ok || reopened.State != mockapi.StateOpen || reopened.ClosedAt != nil {
		t.Errorf("Reopen(%d) = %+v, %v; want open with closed_at null", open.Number, reopened, ok)
	}
	if _, ok := g.Reopen(open.Number); ok {
		t.Errorf("Reopen of an open issue = _, true, want false")
	}

	labels := g.Labels()
	with, ok := g.AddLabels(open.Number, labels[2].Name, labels[0].Name, labels[2].Name)
	names := func(is mockapi.Issue) []string {
		var out []string
		for _, l := range is.Labels {
			out = append(out, l.Name)
		}
		return out
	}
	if !ok || !slices.Contains(names(with), labels[0].Name) || !slices.Contains(names(with), labels[2].Name) || !slices.IsSorted(names(with)) {
		t.Errorf("AddLabels = %v, %v; want %q and %q among sorted labels", names(with), ok, labels[0].Name, labels[2].Name)
	}
	without, ok := g.RemoveLabels(open.Number, labels[0].Name)
	if !ok || slices.Contains(names(without), labels[0].Name) || !slices.Contains(names(without), labels[2].Name) {
		t.Errorf("RemoveLabels = %v, %v; want %q removed and %q kept", names(without), ok, labels[0].Name, labels[2].Name)
	}
	if _, ok := g.AddLabels(open.Number, "no such label"); ok {
		t.Errorf("AddLabels of an unknown label = _, true, want false")
	}
	if is, _ := g.Issue(open.Number); !slices.Equal(names(is), names(without)) {
		t.Errorf("a failed AddLabels changed the labels to %v", names(is))
	}

	ins := g.Insert()
	if ins.Number != 21 || ins.State != mockapi.StateOpen || !ins.CreatedAt.Equal(now) {
		t.Errorf("Insert() = #%d %s created %v, want #21 open created %v", ins.Number, ins.State, ins.CreatedAt, now)
	}
	for _, is := range g.Issues() {
		if is.Number != ins.Number && is.ID >= ins.ID {
			t.Errorf("issue #%d has id %d, not below the inserted issue's %d", is.Number, is.ID, ins.ID)
		}
	}
	if !g.Delete(ins.Number) || g.Delete(ins.Number) {
		t.Errorf("Delete twice: want true then false")
	}
	for _, bad := range []int{ins.Number, 0, -1, 22, 1 << 40} {
		if _, ok := g.Update(bad); ok {
			t.Errorf("Update(%d) = _, true, want false", bad)
		}
		if _, ok := g.Issue(bad); ok {
			t.Errorf("Issue(%d) = _, true, want false", bad)
		}
	}
	if diff := cmp.Diff([]int{ins.Number}, g.Deleted()); diff != "" || g.Len() != 20 {
		t.Errorf("Deleted() (-want +got):\n%s; Len() = %d, want 20", diff, g.Len())
	}
	// What the accessors hold is what the API serves.
	if diff := cmp.Diff(g.Issues(), mustWalkIssues(t, srv, "state=all&sort=updated&direction=asc&per_page=6"), equateEmpty); diff != "" {
		t.Errorf("walk after changes (-Issues() +walk):\n%s", diff)
	}
}

// Page numbers shift when issues change during a walk, as on GitHub: an
// issue updated ahead of the walk moves behind it, and an issue skipped
// that way is found by the next walk since the first one's start.
func TestIssuesChangeDuringWalk(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 40})
	g := srv.GitHub()
	c := srv.Client()
	base := srv.URL + g.Path() + "?state=all&sort=updated&direction=asc&per_page=10&page="
	before := g.Issues()
	start := srv.Now().Truncate(time.Second)
	var seen []mockapi.Issue
	for page := 1; ; page++ {
		var p []mockapi.Issue
		resp := getJSON(t, c, base+strconv.Itoa(page), &p)
		seen = append(seen, p...)
		if page == 2 {
			srv.Advance(time.Second)
			g.Update(before[5].Number)  // already seen: comes again at the end
			g.Update(before[25].Number) // not seen yet: at the end
		}
		if parseLinks(resp.Header.Get("Link"))["next"] == "" {
			break
		}
	}
	// The update of an issue already seen shifted page 3 by one: the first
	// issue of page 3 (before[20]) was skipped.
	numbers := map[int]int{}
	for _, is := range seen {
		numbers[is.Number]++
	}
	if numbers[before[20].Number] != 0 || numbers[before[25].Number] != 1 || numbers[before[5].Number] != 2 {
		t.Errorf("walk saw issues #%d, #%d, #%d %d, %d and %d times; want 0, 1 and 2",
			before[20].Number, before[25].Number, before[5].Number,
			numbers[before[20].Number], numbers[before[25].Number], numbers[before[5].Number])
	}
	// An incremental walk since the start of the first one sees both
	// updates (it cannot see the skipped issue, which did not change: a
	// connector must page by updated_at, not by page number, or re-read).
	again := mustWalkIssues(t, srv, "state=all&sort=updated&direction=asc&since="+start.Format(time.RFC3339))
	if len(again) != 2 {
		t.Errorf("walk since %v = %d issues, want the 2 updated", start, len(again))
	}
}

func TestIssuesConcurrentMutation(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 200})
	g := srv.GitHub()
	stop := make(chan struct{})
	var mutators, readers sync.WaitGroup
	mutators.Go(func() {
		labels := g.Labels()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
			n := 1 + (i*7)%200
			switch i % 6 {
			case 0:
				g.Update(n)
			case 1:
				g.Close(n)
			case 2:
				g.AddLabels(n, labels[i%len(labels)].Name)
			case 3:
				g.Insert()
			case 4:
				g.Delete(n)
			case 5:
				srv.Advance(time.Second)
			}
		}
	})
	for _, dir := range []string{"asc", "desc"} {
		readers.Go(func() {
			for range 3 {
				issues, _, err := walkIssues(srv, "state=all&sort=updated&per_page=23&direction="+dir)
				if err != nil {
					t.Errorf("walk under mutation: %v", err)
					return
				}
				if len(issues) < 100 {
					t.Errorf("walk under mutation served %d issues, want at least 100 of about 200", len(issues))
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	mutators.Wait()
	if diff := cmp.Diff(g.Issues(), mustWalkIssues(t, srv, "state=all&sort=updated&direction=asc&per_page=100"), equateEmpty); diff != "" {
		t.Errorf("walk after mutation (-Issues() +walk):\n%s", diff)
	}
}

func TestIssuesBadRequests(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 10, Repo: "octo/cat"})
	path := srv.GitHub().Path()
	if path != "/repos/octo/cat/issues" || srv.GitHub().Repo() != "octo/cat" {
		t.Fatalf("Path() = %q, Repo() = %q; want /repos/octo/cat/issues, octo/cat", path, srv.GitHub().Repo())
	}
	tests := []struct {
		path string
		want int
	}{
		{path, http.StatusUnprocessableEntity}, // no sort=updated
		{path + "?sort=created", http.StatusUnprocessableEntity},
		{path + "?sort=updated&direction=up", http.StatusUnprocessableEntity},
		{path + "?sort=updated&state=merged", http.StatusUnprocessableEntity},
		{path + "?sort=updated&since=yesterday", http.StatusUnprocessableEntity},
		{path + "?sort=updated&since=2024-01-01", http.StatusUnprocessableEntity},
		{path + "?sort=updated&per_page=0", http.StatusUnprocessableEntity},
		{path + "?sort=updated&per_page=x", http.StatusUnprocessableEntity},
		{path + "?sort=updated&page=0", http.StatusUnprocessableEntity},
		{path + "?sort=updated&page=-2", http.StatusUnprocessableEntity},
		{"/repos/acme/widgets/issues?sort=updated", http.StatusNotFound},
		{"/repos/octo/cat/pulls", http.StatusNotFound},
	}
	for _, tt := range tests {
		resp, body := get(t, srv.Client(), srv.URL+tt.path)
		var e mockapi.GitHubError
		if err := json.Unmarshal(body, &e); resp.StatusCode != tt.want || err != nil || e.Message == "" || e.DocumentationURL == "" {
			t.Errorf("GET %s = %d %s, want %d with a GitHub error body", tt.path, resp.StatusCode, body, tt.want)
		}
	}
	for _, bad := range []string{"", "nos lash", "a/b/c", "/b", "a/", "a/b?c"} {
		if got := mockapi.NewUnstartedServer(mockapi.Options{Repo: bad}).GitHub().Repo(); got != mockapi.DefaultRepo {
			t.Errorf("Repo %q served as %q, want the default %q", bad, got, mockapi.DefaultRepo)
		}
	}
}

func TestIssuesDeterminism(t *testing.T) {
	a := start(t, mockapi.Options{Issues: 100, Seed: 5})
	b := mockapi.NewServer(mockapi.Options{Issues: 100, Seed: 5})
	defer b.Close()
	c := mockapi.NewServer(mockapi.Options{Issues: 100, Seed: 6})
	defer c.Close()
	q := "?state=all&sort=updated&per_page=50&page=2"
	_, bodyA := get(t, a.Client(), a.URL+a.GitHub().Path()+q)
	_, bodyB := get(t, b.Client(), b.URL+b.GitHub().Path()+q)
	_, bodyC := get(t, c.Client(), c.URL+c.GitHub().Path()+q)
	if string(bodyA) != string(bodyB) || string(bodyA) == string(bodyC) {
		t.Errorf("the same seed should serve the same issues and another seed others")
	}
	ua, _ := a.GitHub().Update(7)
	ub, _ := b.GitHub().Update(7)
	if diff := cmp.Diff(ua, ub); diff != "" {
		t.Errorf("Update(7) on two servers of one seed (-a +b):\n%s", diff)
	}
}

func TestIssuesFaults(t *testing.T) {
	t.Run("errors in GitHub's shape", func(t *testing.T) {
		for _, tt := range []struct {
			faults mockapi.Faults
			status int
			retry  bool
		}{
			{mockapi.Faults{ErrorRate: 1}, http.StatusInternalServerError, false},
			{mockapi.Faults{RateLimitRate: 1}, http.StatusTooManyRequests, true},
			{mockapi.Faults{SecondaryRateLimitRate: 1, RetryAfter: 60 * time.Second}, http.StatusForbidden, true},
			{mockapi.Faults{SecondaryRateLimitRate: 1, RetryAfterDate: true}, http.StatusForbidden, true},
		} {
			t.Run(fmt.Sprint(tt.status, tt.faults.RetryAfterDate), func(t *testing.T) {
				srv := start(t, mockapi.Options{Issues: 10, Faults: tt.faults})
				resp, body := get(t, srv.Client(), srv.URL+srv.GitHub().Path()+"?sort=updated")
				var e mockapi.GitHubError
				err := json.Unmarshal(body, &e)
				ra := resp.Header.Get("Retry-After")
				_, dateErr := http.ParseTime(ra)
				validRetry := ra == "60" || dateErr == nil || ra == "1"
				if resp.StatusCode != tt.status || err != nil || e.Message == "" || (ra != "") != tt.retry || (tt.retry && !validRetry) {
					t.Errorf("faults %+v: %d, Retry-After %q, %s; want %d with a GitHub body", tt.faults, resp.StatusCode, ra, body, tt.status)
				}
			})
		}
	})
	t.Run("missing fields", func(t *testing.T) {
		srv := start(t, mockapi.Options{Issues: 200, Faults: mockapi.Faults{MissingFieldRate: 0.5}})
		var raw []map[string]any
		getJSON(t, srv.Client(), srv.URL+srv.GitHub().Path()+"?state=all&sort=updated&per_page=100", &raw)
		stripped := 0
		for _, is := range raw {
			_, hasUpdated := is["updated_at"]
			_, hasUser := is["user"]
			if hasUpdated != hasUser {
				t.Fatalf("issue %v: updated_at present %v, user present %v; want both or neither", is["number"], hasUpdated, hasUser)
			}
			if !hasUpdated {
				stripped++
			}
		}
		if stripped < 25 || stripped > 75 {
			t.Errorf("%d of 100 issues without updated_at and user, want about half", stripped)
		}
	})
	t.Run("repeat last page", func(t *testing.T) {
		srv := start(t, mockapi.Options{Issues: 10, Faults: mockapi.Faults{RepeatLastPage: true}})
		all := srv.GitHub().Issues()
		base := srv.URL + srv.GitHub().Path() + "?state=all&sort=updated&direction=asc&per_page=4&page="
		var last, past []mockapi.Issue
		respLast := getJSON(t, srv.Client(), base+"3", &last)
		respPast := getJSON(t, srv.Client(), base+"4", &past)
		if next := parseLinks(respLast.Header.Get("Link"))["next"]; next != base+"4" {
			t.Errorf("last page: next %q, want %q", next, base+"4")
		}
		if next := parseLinks(respPast.Header.Get("Link"))["next"]; next != base+"5" {
			t.Errorf("past the end: next %q, want %q", next, base+"5")
		}
		if diff := cmp.Diff(all[8:], past); diff != "" {
			t.Errorf("past the end (-last page +got):\n%s", diff)
		}
		next := base + "1"
		for range 20 { // a walk never ends
			var p []mockapi.Issue
			resp := getJSON(t, srv.Client(), next, &p)
			if next = parseLinks(resp.Header.Get("Link"))["next"]; next == "" {
				t.Fatalf("walk ended")
			}
		}
	})
	t.Run("self link on the last page", func(t *testing.T) {
		srv := start(t, mockapi.Options{Issues: 10, Faults: mockapi.Faults{SelfLinkLastPage: true}})
		for _, u := range []string{
			srv.URL + srv.GitHub().Path() + "?state=all&sort=updated&per_page=4&page=3",
			srv.URL + srv.GitHub().Path() + "?sort=updated&state=all&per_page=50",
		} {
			var p []mockapi.Issue
			resp := getJSON(t, srv.Client(), u, &p)
			if next := parseLinks(resp.Header.Get("Link"))["next"]; next != u {
				t.Errorf("GET %s: next %q, want its own URL", u, next)
			}
		}
	})
	t.Run("rate limit quota", func(t *testing.T) {
		srv := start(t, mockapi.Options{Issues: 10, Faults: mockapi.Faults{RateLimitQuota: 3, RateLimitWindow: time.Hour}})
		before := time.Now()
		for i := 1; i <= 5; i++ {
			resp, body := get(t, srv.Client(), srv.URL+srv.GitHub().Path()+"?sort=updated")
			h := resp.Header
			reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
			if err != nil || reset < before.Add(time.Hour).Unix() || h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Resource") != "core" {
				t.Errorf("request %d: X-RateLimit-Limit %q, Reset %q, Resource %q; want 3, an hour from now, core",
					i, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Reset"), h.Get("X-RateLimit-Resource"))
			}
			wantRemaining, wantStatus := strconv.Itoa(max(3-i, 0)), http.StatusOK
			if i > 3 {
				wantStatus = http.StatusForbidden
			}
			var e mockapi.GitHubError
			if resp.StatusCode != wantStatus || h.Get("X-RateLimit-Remaining") != wantRemaining ||
				(wantStatus != http.StatusOK && (json.Unmarshal(body, &e) != nil || e.Message == "" || h.Get("Retry-After") != "")) {
				t.Errorf("request %d = %d, X-RateLimit-Remaining %q, Retry-After %q, %s; want %d, %s",
					i, resp.StatusCode, h.Get("X-RateLimit-Remaining"), h.Get("Retry-After"), body, wantStatus, wantRemaining)
			}
		}
		srv.SetFaults(mockapi.Faults{RateLimitQuota: 3, RateLimitWindow: time.Hour}) // a new window
		if resp, _ := get(t, srv.Client(), srv.URL+srv.GitHub().Path()+"?sort=updated"); resp.StatusCode != http.StatusOK {
			t.Errorf("after SetFaults: %d, want 200 in a new window", resp.StatusCode)
		}
	})
	t.Run("malformed and reset", func(t *testing.T) {
		srv := start(t, mockapi.Options{Issues: 10, Faults: mockapi.Faults{MalformedRate: 1}})
		if resp, body := get(t, srv.Client(), srv.URL+srv.GitHub().Path()+"?sort=updated"); resp.StatusCode != http.StatusOK || json.Valid(body) {
			t.Errorf("MalformedRate 1: %d, valid JSON %v; want 200 and invalid", resp.StatusCode, json.Valid(body))
		}
		srv.SetFaults(mockapi.Faults{ResetRate: 1})
		if resp, err := srv.Client().Get(srv.URL + srv.GitHub().Path() + "?sort=updated"); err == nil {
			resp.Body.Close()
			t.Errorf("ResetRate 1: %d, want a network error", resp.StatusCode)
		}
	})
}

func TestIssuesRequestCounts(t *testing.T) {
	srv := start(t, mockapi.Options{Issues: 10})
	get(t, srv.Client(), srv.URL+srv.GitHub().Path()+"?sort=updated")
	get(t, srv.Client(), srv.URL+mockapi.PathCustomers)
	if got := fmt.Sprint(srv.RequestsTo(srv.GitHub().Path()), srv.RequestsTo(mockapi.PathCustomers), srv.Requests()); got != "1 1 2" {
		t.Errorf("RequestsTo(issues), RequestsTo(customers), Requests() = %s, want 1 1 2", got)
	}
	if !strings.HasPrefix(srv.GitHub().Path(), "/repos/") {
		t.Errorf("Path() = %q", srv.GitHub().Path())
	}
}
