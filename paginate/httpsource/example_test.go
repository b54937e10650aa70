package httpsource_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/paginate/httpsource"
)

// A Client retries a 503 and returns the answer that follows.
func ExampleClient_GetJSON() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "down for a moment", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, `{"data":[{"id":"a"},{"id":"b"}],"has_more":false}`)
	}))
	defer srv.Close()

	c := &httpsource.Client{
		HTTP:   srv.Client(),
		Retry:  httpsource.RetryPolicy{Base: time.Millisecond},
		Header: http.Header{"Authorization": {"Bearer example-token"}},
		Logger: slog.New(slog.DiscardHandler), // the retry would log a warning
	}
	var page struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
		HasMore bool `json:"has_more"`
	}
	resp, err := c.GetJSON(context.Background(), srv.URL+"/users?api_key=secret", &page)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(resp.StatusCode, len(page.Data), "users after", calls.Load(), "requests")
	// Output: 200 2 users after 2 requests
}

// A Token Source over an API whose next page is in an RFC 8288 Link header
// and whose body is a JSON array: Client.GetJSON fetches and decodes,
// paginate.NextLink reads the next URL relative to the final request URL,
// and paginate.RequestURL follows it without repeating the parameters.
func Example_linkHeaderSource() {
	srv := mockapi.NewServer(mockapi.Options{Users: 250})
	defer srv.Close()
	c := &httpsource.Client{HTTP: srv.Client()}

	base := srv.URL + mockapi.PathLink
	params := url.Values{"limit": {"100"}}
	src := paginate.SourceFunc[mockapi.User](func(ctx context.Context, cur paginate.Cursor) (paginate.Page[mockapi.User], error) {
		u, err := paginate.RequestURL(base, cur, params)
		if err != nil {
			return paginate.Page[mockapi.User]{}, err
		}
		var page paginate.Page[mockapi.User]
		resp, err := c.GetJSON(ctx, u, &page.Items)
		if err != nil {
			return paginate.Page[mockapi.User]{}, err
		}
		page.Next, err = paginate.NextLink(resp.Header, resp.URL)
		return page, err
	})

	users, pages := 0, 0
	for page, err := range paginate.New(src, paginate.Token()).Pages(context.Background()) {
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
