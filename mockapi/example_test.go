package mockapi_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connectkit/connector/mockapi"
)

// fetch decodes the JSON body of GET u into v.
func fetch(c *http.Client, u string, v any) {
	resp, err := c.Get(u)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		log.Fatal(err)
	}
}

func Example() {
	srv := mockapi.NewServer(mockapi.Options{Users: 250})
	defer srv.Close()

	var page mockapi.OffsetResponse
	fetch(srv.Client(), srv.URL+"/users?offset=0&limit=100", &page)
	fmt.Println(len(page.Data), page.Total, page.HasMore)
	// Output: 100 250 true
}

// Walk the cursor endpoint to the end.
func Example_cursor() {
	srv := mockapi.NewServer(mockapi.Options{Users: 1234})
	defer srv.Close()

	users, pages, cursor := 0, 0, ""
	for {
		var page mockapi.CursorResponse
		fetch(srv.Client(), srv.URL+"/users/cursor?limit=500&cursor="+url.QueryEscape(cursor), &page)
		users += len(page.Data)
		pages++
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	fmt.Println(users, "users in", pages, "pages")
	// Output: 1234 users in 3 pages
}

// An incremental sync asks for what changed since its last run.
func ExampleServer_Update() {
	srv := mockapi.NewServer(mockapi.Options{Users: 100})
	defer srv.Close()

	lastSync := srv.Now()
	srv.Advance(time.Minute)
	id := srv.UserAt(42).ID
	srv.Update(id)
	srv.Delete(srv.UserAt(7).ID)

	var page mockapi.OffsetResponse
	since := url.QueryEscape(lastSync.Format(time.RFC3339))
	fetch(srv.Client(), srv.URL+"/users?include_deleted=true&updated_since="+since, &page)
	for _, u := range page.Data {
		fmt.Println(u.ID == id, u.Deleted)
	}
	// Unordered output:
	// true false
	// false true
}

func ExampleServer_SetFaults() {
	srv := mockapi.NewServer(mockapi.Options{Users: 10})
	defer srv.Close()

	srv.SetFaults(mockapi.Faults{RateLimitRate: 1, RetryAfter: 2 * time.Second})
	resp, err := srv.Client().Get(srv.URL + "/users")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"))
	// Output: 429 2
}

func ExampleKey() {
	u := mockapi.User{ID: "91f6771c-407e-4703-a45b-1e9b934c0f50", UpdatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	key := mockapi.Key(u)
	fmt.Println(key)
	t, id, err := mockapi.ParseKey(key)
	fmt.Println(t, id == u.ID, err)
	// Output:
	// 2024-01-01T00:00:00Z,91f6771c-407e-4703-a45b-1e9b934c0f50
	// 2024-01-01 00:00:00 +0000 UTC true <nil>
}

// Users are generated from the seed: every server with seed 1 serves this
// user first.
func ExampleServer_UserAt() {
	srv := mockapi.NewUnstartedServer(mockapi.Options{Seed: 1})
	u := srv.UserAt(0)
	fmt.Println(u.ID)
	fmt.Println(u.Name, "<"+u.Email+">")
	fmt.Println(u.Job, "at", u.Company)
	fmt.Println(u.UpdatedAt.Format(time.RFC3339), srv.UserAt(3).UpdatedAt.Format(time.RFC3339))
	// Output:
	// e851e100-a3b1-49b2-8f8e-37ab114d781a
	// Deron Dickinson <deron.dickinson@hotmail.com>
	// Welfare Eligibility Clerk at Purdy-Purdy
	// 2024-01-01T00:00:00Z 2024-01-01T00:00:01Z
}

// Walk the GitHub-like issues API by its Link headers, as a GitHub
// connector does: every state, oldest change first, since a time.
func ExampleGitHub() {
	srv := mockapi.NewServer(mockapi.Options{Issues: 250})
	defer srv.Close()

	next := srv.URL + srv.GitHub().Path() + "?state=all&sort=updated&direction=asc&per_page=100"
	issues, pages := 0, 0
	for next != "" {
		resp, err := srv.Client().Get(next)
		if err != nil {
			log.Fatal(err)
		}
		var page []mockapi.Issue
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		issues += len(page)
		pages++
		next = ""
		for link := range strings.SplitSeq(resp.Header.Get("Link"), ",") {
			if u, ok := strings.CutSuffix(strings.TrimSpace(link), `>; rel="next"`); ok {
				next = strings.TrimPrefix(u, "<")
			}
		}
	}
	fmt.Println(issues, "issues in", pages, "pages")
	// Output: 250 issues in 3 pages
}

// Changes move an issue to the end of sort=updated&direction=asc, and
// since= (inclusive) finds them.
func ExampleGitHub_Close() {
	srv := mockapi.NewServer(mockapi.Options{Issues: 10})
	defer srv.Close()
	g := srv.GitHub()

	srv.Advance(time.Hour)
	since := srv.Now().Truncate(time.Second)
	g.Reopen(4) // closed since it was generated
	g.Close(7)
	g.AddLabels(7, g.Labels()[0].Name)

	var page []mockapi.Issue
	fetch(srv.Client(), srv.URL+g.Path()+"?state=all&sort=updated&direction=asc&since="+since.Format(time.RFC3339), &page)
	for _, is := range page {
		var labels []string
		for _, l := range is.Labels {
			labels = append(labels, l.Name)
		}
		fmt.Println(is.Number, is.State, labels, is.UpdatedAt.Equal(since))
	}
	// Unordered output:
	// 4 open [] true
	// 7 closed [accept package] true
}

// Walk the Stripe-like customers API newest first with starting_after,
// until has_more is false.
func ExampleStripe() {
	srv := mockapi.NewServer(mockapi.Options{Customers: 250})
	defer srv.Close()

	customers, pages, after := 0, 0, ""
	for {
		var list mockapi.CustomerList
		fetch(srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=100&starting_after="+after, &list)
		customers += len(list.Data)
		pages++
		if !list.HasMore {
			break
		}
		after = list.Data[len(list.Data)-1].ID
	}
	fmt.Println(customers, "customers in", pages, "pages")
	// Output: 250 customers in 3 pages
}

// A deleted customer goes to the top of the listing as a tombstone, so a
// newest-first sync that reads down to its last mark sees the deletion.
func ExampleStripe_Delete() {
	srv := mockapi.NewServer(mockapi.Options{Customers: 5})
	defer srv.Close()
	st := srv.Stripe()

	srv.Advance(time.Minute)
	id := st.CustomerAt(2).ID
	st.Delete(id)
	st.Update(st.CustomerAt(0).ID)

	var list mockapi.CustomerList
	fetch(srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=2", &list)
	for _, c := range list.Data {
		fmt.Println(c.ID == id, c.Deleted, c.Updated == srv.Now().Unix())
	}
	fmt.Println(list.HasMore)
	// Unordered output:
	// true true true
	// false false true
	// true
}
