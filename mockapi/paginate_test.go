package mockapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/paginate/paginatetest"
	"github.com/connectkit/connector/rest"
)

// httpJSON fetches u into v and returns the response header and URL.
func httpJSON(ctx context.Context, c *http.Client, u string, v any) (http.Header, *url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return resp.Header, req.URL, json.NewDecoder(resp.Body).Decode(v)
}

// sources builds a paginate.Source and Strategy for each endpoint.
func sources(srv *mockapi.Server) map[string]struct {
	src      paginate.Source[mockapi.User]
	strategy paginate.Strategy
} {
	c := srv.Client()
	type entry = struct {
		src      paginate.Source[mockapi.User]
		strategy paginate.Strategy
	}
	return map[string]entry{
		"offset": {paginate.SourceFunc[mockapi.User](func(ctx context.Context, cur paginate.Cursor) (paginate.Page[mockapi.User], error) {
			var body mockapi.OffsetResponse
			_, _, err := httpJSON(ctx, c, fmt.Sprintf("%s%s?offset=%d&limit=%d", srv.URL, mockapi.PathOffset, cur.Offset, cur.Limit), &body)
			return paginate.Page[mockapi.User]{Items: body.Data, Total: int64(body.Total), HasMore: paginate.FlagOf(body.HasMore)}, err
		}), paginate.Offset(10)},
		"pages": {paginate.SourceFunc[mockapi.User](func(ctx context.Context, cur paginate.Cursor) (paginate.Page[mockapi.User], error) {
			var body mockapi.PageResponse
			_, _, err := httpJSON(ctx, c, fmt.Sprintf("%s%s?page=%d&per_page=%d", srv.URL, mockapi.PathPages, cur.Page, cur.Limit), &body)
			return paginate.Page[mockapi.User]{Items: body.Data, Total: int64(body.Total), HasMore: paginate.FlagOf(body.HasMore)}, err
		}), paginate.PageNumber(1, 10)},
		"cursor": {paginate.SourceFunc[mockapi.User](func(ctx context.Context, cur paginate.Cursor) (paginate.Page[mockapi.User], error) {
			var body mockapi.CursorResponse
			q := url.Values{"limit": {strconv.Itoa(cur.Limit)}, "cursor": {cur.Token}}
			_, _, err := httpJSON(ctx, c, srv.URL+mockapi.PathCursor+"?"+q.Encode(), &body)
			return paginate.Page[mockapi.User]{Items: body.Data, Next: body.NextCursor}, err
		}), paginate.Token().WithLimit(10)},
		"link": {paginate.SourceFunc[mockapi.User](func(ctx context.Context, cur paginate.Cursor) (paginate.Page[mockapi.User], error) {
			u := cur.Token // the next URL as the server gave it
			if u == "" {
				u = srv.URL + mockapi.PathLink + "?limit=" + strconv.Itoa(max(cur.Limit, 1))
			}
			var page paginate.Page[mockapi.User]
			h, reqURL, err := httpJSON(ctx, c, u, &page.Items)
			if err != nil {
				return page, err
			}
			page.Next, err = rest.NextLink(h, reqURL)
			return page, err
		}), paginate.Token()},
		"keyset": {paginate.Keyed[mockapi.User](paginate.SourceFunc[mockapi.User](func(ctx context.Context, cur paginate.Cursor) (paginate.Page[mockapi.User], error) {
			var body mockapi.KeysetResponse
			q := url.Values{"limit": {strconv.Itoa(cur.Limit)}, "after": {cur.Key}}
			_, _, err := httpJSON(ctx, c, srv.URL+mockapi.PathKeyset+"?"+q.Encode(), &body)
			return paginate.Page[mockapi.User]{Items: body.Data, HasMore: paginate.FlagOf(body.HasMore)}, err
		}), mockapi.Key), paginate.Keyset(10)},
	}
}

// Every strategy keeps the paginate contract against the real server.
func TestConformanceOverHTTP(t *testing.T) {
	defer goleak.VerifyNone(t)
	srv := mockapi.NewServer(mockapi.Options{Users: 23, TiesPerTimestamp: 4, DefaultPageSize: 7})
	defer srv.Close()
	want := srv.Users()
	for name, e := range sources(srv) {
		t.Run(name, func(t *testing.T) {
			paginatetest.RunOptions(t, e.src, e.strategy, want, paginatetest.Options{MaxResumePages: 30})
		})
	}
}

func TestLyingLastPages(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct {
		name, endpoint string
		faults         mockapi.Faults
		wantLoop       bool // else: exactly the users, no repeats
	}{
		{"offset repeats its last page", "offset", mockapi.Faults{RepeatLastPage: true}, false}, // the total ends it
		{"pages repeat the last page", "pages", mockapi.Faults{RepeatLastPage: true}, false},
		{"cursor repeats its last page", "cursor", mockapi.Faults{RepeatLastPage: true}, true},
		{"cursor points to itself", "cursor", mockapi.Faults{SelfLinkLastPage: true}, true},
		{"next link points to itself", "link", mockapi.Faults{SelfLinkLastPage: true}, true},
		{"keyset repeats past the end", "keyset", mockapi.Faults{RepeatLastPage: true}, false}, // has_more=false ends it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mockapi.NewServer(mockapi.Options{Users: 25, Faults: tt.faults})
			defer srv.Close()
			e := sources(srv)[tt.endpoint]
			var got []mockapi.User
			var errs []error
			for u, err := range paginate.New(e.src, e.strategy, paginate.WithMaxPages(50)).All(context.Background()) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				got = append(got, u)
			}
			if tt.wantLoop {
				if len(errs) != 1 || !errors.Is(errs[0], paginate.ErrCursorLoop) {
					t.Errorf("All() errors = %v, want one ErrCursorLoop", errs)
				}
				return
			}
			if len(errs) != 0 || len(got) != 25 {
				t.Errorf("All() = %d users, errors %v; want 25 users and no error", len(got), errs)
			}
		})
	}
}
