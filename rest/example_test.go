package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/rest"
)

// fruit is a record of the example APIs.
type fruit struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

var fruits = []fruit{{1, "apple"}, {2, "banana"}, {3, "cherry"}, {4, "damson"}, {5, "elder"}}

// window returns fruits[start:start+n], within bounds.
func window(start, n int) []fruit {
	start = min(max(start, 0), len(fruits))
	return fruits[start:min(start+n, len(fruits))]
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func printAll[T any](p *paginate.Paginator[T]) {
	var got []string
	for it, err := range p.All(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		got = append(got, fmt.Sprint(it))
	}
	fmt.Println(strings.Join(got, " "))
}

// An offset API: ?offset=&limit=, records under "data", a total.
func ExampleNew_offset() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		writeJSON(w, map[string]any{"data": window(off, limit), "total": len(fruits)})
	}))
	defer srv.Close()

	p, err := rest.New[fruit](rest.Endpoint{
		BaseURL:  srv.URL,
		Path:     "/fruits",
		Records:  "data",
		Paging:   rest.OffsetPaging{},
		PageSize: 2,
		Total:    "total",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	printAll(p)
	// Output: {1 apple} {2 banana} {3 cherry} {4 damson} {5 elder}
}

// A GitHub-style API: a top-level array, the next page in a Link header,
// a filter added per run with Source.With.
func ExampleNew_linkHeader() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		page, _ := strconv.Atoi(q.Get("page"))
		page = max(page, 1)
		per, _ := strconv.Atoi(q.Get("per_page"))
		if q.Get("since") != "2" {
			http.Error(w, "since lost", http.StatusBadRequest)
			return
		}
		if page*per < len(fruits) {
			// A relative next link that keeps the filters, as GitHub's do.
			w.Header().Add("Link", fmt.Sprintf(`</fruits?since=2&per_page=%d&page=%d>; rel="next"`, per, page+1))
		}
		writeJSON(w, window((page-1)*per, per))
	}))
	defer srv.Close()

	src, err := rest.NewSource[fruit](rest.Endpoint{
		BaseURL:  srv.URL,
		Path:     "/fruits",
		Paging:   rest.LinkPaging{Limit: "per_page"},
		PageSize: 2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	printAll(src.With(url.Values{"since": {"2"}}).Paginator())
	// Output: {1 apple} {2 banana} {3 cherry} {4 damson} {5 elder}
}

// A HubSpot-style API: the cursor is in the body at paging.next.after and
// goes back as ?after=.
func ExampleNew_bodyCursor() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.Atoi(r.URL.Query().Get("after"))
		body := map[string]any{"results": window(after, 2)}
		if after+2 < len(fruits) {
			body["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(after + 2)}}
		}
		writeJSON(w, body)
	}))
	defer srv.Close()

	p, err := rest.New[fruit](rest.Endpoint{
		BaseURL: srv.URL,
		Path:    "/crm/v3/objects/fruits",
		Auth:    rest.Bearer("example-token"),
		Records: "results",
		Paging:  rest.CursorPaging{Next: "paging.next.after", Param: "after"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	printAll(p)
	// Output: {1 apple} {2 banana} {3 cherry} {4 damson} {5 elder}
}

// A Salesforce-style API: the next URL is in the body, relative, and
// "done" says when it ends.
func ExampleNew_nextURL() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("from"))
		body := map[string]any{"records": window(start, 2), "done": start+2 >= len(fruits)}
		if start+2 < len(fruits) {
			body["nextRecordsUrl"] = "/query/next?from=" + strconv.Itoa(start+2)
		}
		writeJSON(w, body)
	}))
	defer srv.Close()

	p, err := rest.New[fruit](rest.Endpoint{
		BaseURL: srv.URL,
		Path:    "/query",
		Query:   url.Values{"q": {"SELECT Id, Name FROM Fruit"}},
		Records: "records",
		Paging:  rest.NextURLPaging{Next: "nextRecordsUrl"},
		Done:    "done",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	printAll(p)
	// Output: {1 apple} {2 banana} {3 cherry} {4 damson} {5 elder}
}

// A Stripe-style API: ?starting_after=<id of the last object>, has_more.
func ExampleNew_keyset() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.Atoi(r.URL.Query().Get("starting_after")) // ids are 1-based positions
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		writeJSON(w, map[string]any{"object": "list", "data": window(after, limit), "has_more": after+limit < len(fruits)})
	}))
	defer srv.Close()

	p, err := rest.New[fruit](rest.Endpoint{
		BaseURL:  srv.URL,
		Path:     "/v1/fruits",
		Auth:     rest.Basic("sk_test_example", ""),
		Records:  "data",
		Paging:   rest.KeysetPaging{Param: "starting_after", Field: "id"},
		PageSize: 2,
		HasMore:  "has_more",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for page, err := range p.Pages(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(page.Items, "after:", p.Cursor().Key)
	}
	// Output:
	// [{1 apple} {2 banana}] after: 2
	// [{3 cherry} {4 damson}] after: 4
	// [{5 elder}] after: 5
}

// An API key in the query is sent with every request to the API's host,
// and never kept in a cursor: a checkpoint holds the next URL without it.
func ExampleAPIKeyQuery() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hapikey") != "s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		body := map[string]any{"items": window(page*3, 3)}
		if page == 0 {
			body["next"] = "/fruits?page=1&hapikey=s3cret" // the server echoes the key
		}
		writeJSON(w, body)
	}))
	defer srv.Close()

	p, err := rest.New[fruit](rest.Endpoint{
		BaseURL: srv.URL,
		Path:    "/fruits",
		Auth:    rest.APIKeyQuery("hapikey", "s3cret"),
		Records: "items",
		Paging:  rest.NextURLPaging{Next: "next"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for page, err := range p.Pages(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		b, _ := json.Marshal(p.Cursor())
		fmt.Println(len(page.Items), "fruits; checkpoint", string(b)[:9], "...", "has key:", strings.Contains(string(b), "s3cret"))
	}
	fmt.Println(rest.APIKeyQuery("hapikey", "s3cret"))
	// Output:
	// 3 fruits; checkpoint {"token": ... has key: false
	// 2 fruits; checkpoint {"done":t ... has key: false
	// rest.Auth(?hapikey=REDACTED)
}

// A 403 with Retry-After (GitHub's secondary rate limit) is waited out and
// retried; a classifier turns Slack-style {"ok":false} 200 answers into
// errors.
func ExampleClient_Classify() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"message":"secondary rate limit"}`, http.StatusForbidden)
		case 2:
			writeJSON(w, map[string]any{"ok": false, "error": "ratelimited"})
		default:
			writeJSON(w, map[string]any{"ok": true, "members": fruits[:2], "response_metadata": map[string]string{"next_cursor": ""}})
		}
	}))
	defer srv.Close()

	client := &rest.Client{
		Retry:  rest.RetryPolicy{Base: time.Millisecond},
		Logger: slog.New(slog.DiscardHandler),
		Classify: func(r rest.Reply, d rest.Decision) rest.Decision {
			var body struct {
				OK    *bool  `json:"ok"`
				Error string `json:"error"`
			}
			if d.Err == nil && json.Unmarshal(r.Body, &body) == nil && body.OK != nil && !*body.OK {
				return rest.Decision{Err: fmt.Errorf("slack: %s", body.Error), Retry: body.Error == "ratelimited"}
			}
			return d
		},
	}
	p, err := rest.New[fruit](rest.Endpoint{
		Client:  client,
		BaseURL: srv.URL,
		Path:    "/api/users.list",
		Auth:    rest.Bearer("xoxb-example"),
		Records: "members",
		Paging:  rest.CursorPaging{Next: "response_metadata.next_cursor"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	printAll(p)
	fmt.Println(calls.Load(), "requests")
	// Output:
	// {1 apple} {2 banana}
	// 3 requests
}

// The mock API's users, offset paging, 250 users in pages of 100.
func ExampleNewSource() {
	srv := mockapi.NewServer(mockapi.Options{Users: 250})
	defer srv.Close()
	src, err := rest.NewSource[mockapi.User](rest.Endpoint{
		Client:   &rest.Client{HTTP: srv.Client()},
		BaseURL:  srv.URL,
		Path:     mockapi.PathOffset,
		Records:  "data",
		Paging:   rest.OffsetPaging{},
		PageSize: 100,
		HasMore:  "has_more",
		Total:    "total",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	users, pages := 0, 0
	for page, err := range src.Paginator().Pages(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		users += len(page.Items)
		pages++
	}
	fmt.Println(users, "users in", pages, "pages")
	// Output: 250 users in 3 pages
}
