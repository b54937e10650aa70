package mockapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectkit/connector/mockapi"
)

// BenchmarkUserAt measures generating one user from scratch, generator
// setup included.
func BenchmarkUserAt(b *testing.B) {
	srv := mockapi.NewUnstartedServer(mockapi.Options{Users: 1_000_000})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = srv.UserAt(i % 1_000_000)
	}
}

// BenchmarkOffsetPage measures one /users page over HTTP on loopback:
// generation, JSON encoding, transport and decoding-free reading.
func BenchmarkOffsetPage(b *testing.B) {
	for _, limit := range []int{100, 1000} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			srv := mockapi.NewServer(mockapi.Options{Users: 100_000})
			defer srv.Close()
			c := srv.Client()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				u := fmt.Sprintf("%s/users?offset=%d&limit=%d", srv.URL, (i*limit)%100_000, limit)
				resp, err := c.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: status %d", u, resp.StatusCode)
				}
			}
			b.ReportMetric(float64(b.N*limit)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

// BenchmarkDeepOffset serves the last page of ten million users through the
// handler, showing that the position is found without touching the rest of
// the population.
func BenchmarkDeepOffset(b *testing.B) {
	srv := mockapi.NewUnstartedServer(mockapi.Options{Users: 10_000_000})
	for _, i := range []int{0, 5_000_000, 9_999_999} {
		srv.Update(srv.UserAt(i).ID) // exercise the removed-index search
	}
	h := srv.Handler()
	for _, offset := range []int{0, 9_999_900} {
		b.Run(fmt.Sprintf("offset=%d", offset), func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/users?offset=%d&limit=100", offset), nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "users/s")
		})
	}
}
