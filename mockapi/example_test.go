package mockapi_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
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
