package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/rest"
)

// BenchmarkGetJSON fetches a page of 100 users from mockapi with
// Client.GetJSON, with a declared Source's Fetch (one-pass decode) and, in
// the same run, with a bare http.Get and a json.Decoder, so that the
// overhead of the client shows. Both use the
// same *http.Client and server; mockapi generates the users of every page,
// which both pay alike.
func BenchmarkGetJSON(b *testing.B) {
	const perPage = 100
	srv := mockapi.NewServer(mockapi.Options{Users: 1000})
	defer srv.Close()
	hc := srv.Client()
	u := srv.URL + mockapi.PathOffset + "?offset=300&limit=100"
	ctx := context.Background()

	bare := func() (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		var page mockapi.OffsetResponse
		err = json.NewDecoder(resp.Body).Decode(&page)
		return len(page.Data), err
	}
	c := &rest.Client{HTTP: hc}
	client := func() (int, error) {
		var page mockapi.OffsetResponse
		_, err := c.GetJSON(ctx, u, &page)
		return len(page.Data), err
	}

	src, err := rest.NewSource[mockapi.User](rest.Endpoint{Client: c, BaseURL: srv.URL, Path: mockapi.PathOffset,
		Records: "data", Paging: rest.OffsetPaging{}, PageSize: perPage, Total: "total", HasMore: "has_more"})
	if err != nil {
		b.Fatal(err)
	}
	source := func() (int, error) {
		pg, err := src.Fetch(ctx, paginate.Cursor{Offset: 300, Limit: perPage})
		return len(pg.Items), err
	}

	var bareRate float64
	for _, bm := range []struct {
		name  string
		fetch func() (int, error)
	}{{"bare", bare}, {"client", client}, {"source", source}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				n, err := bm.fetch()
				if err != nil || n != perPage {
					b.Fatalf("%s fetch = %d, %v; want %d users", bm.name, n, err, perPage)
				}
				records += n
			}
			rate := float64(records) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "records/s")
			if bm.name == "bare" {
				bareRate = rate
			} else if bareRate > 0 {
				b.ReportMetric(rate/bareRate, "x-bare")
			}
		})
	}
}
