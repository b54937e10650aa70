package mockapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/paginate/paginatetest"
)

// The GitHub-like issues (page numbers, Link rel="next") and the
// Stripe-like customers (starting_after, has_more) keep the paginate
// contract over HTTP, with only the strategies and Page fields that every
// version of paginate has.
func TestShapesConformanceOverHTTP(t *testing.T) {
	defer goleak.VerifyNone(t)
	srv := mockapi.NewServer(mockapi.Options{Issues: 23, Customers: 23, TiesPerTimestamp: 4})
	defer srv.Close()
	c := srv.Client()
	t.Run("issues", func(t *testing.T) {
		src := paginate.SourceFunc[mockapi.Issue](func(ctx context.Context, cur paginate.Cursor) (paginate.Page[mockapi.Issue], error) {
			var page paginate.Page[mockapi.Issue]
			u := fmt.Sprintf("%s%s?state=all&sort=updated&direction=asc&per_page=%d&page=%d", srv.URL, srv.GitHub().Path(), cur.Limit, cur.Page)
			h, _, err := httpJSON(ctx, c, u, &page.Items)
			if err == nil {
				page.HasMore = paginate.FlagOf(parseLinks(h.Get("Link"))["next"] != "")
			}
			return page, err
		})
		paginatetest.RunOptions(t, src, paginate.PageNumber(1, 7), srv.GitHub().Issues(), paginatetest.Options{MaxResumePages: 30})
	})
	t.Run("customers", func(t *testing.T) {
		src := paginate.SourceFunc[mockapi.Customer](func(ctx context.Context, cur paginate.Cursor) (paginate.Page[mockapi.Customer], error) {
			var body mockapi.CustomerList
			q := url.Values{"limit": {strconv.Itoa(cur.Limit)}}
			if cur.Token != "" {
				q.Set("starting_after", cur.Token)
			}
			_, _, err := httpJSON(ctx, c, srv.URL+mockapi.PathCustomers+"?"+q.Encode(), &body)
			page := paginate.Page[mockapi.Customer]{Items: body.Data, HasMore: paginate.FlagOf(body.HasMore)}
			if body.HasMore && len(body.Data) > 0 {
				page.Next = body.Data[len(body.Data)-1].ID
			}
			return page, err
		})
		paginatetest.RunOptions(t, src, paginate.Token().WithLimit(7), srv.Stripe().Listing(), paginatetest.Options{MaxResumePages: 30})
	})
}
