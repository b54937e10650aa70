package mockapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/connectkit/connector/mockapi"
)

// BenchmarkServeIssues is BenchmarkServeUsers for the GitHub-like issues:
// pages of 100 of 200,000 issues, walked by their Link rel="next" through
// the Handler in process, in both directions; per issue served.
func BenchmarkServeIssues(b *testing.B) {
	for _, dir := range []string{"asc", "desc"} {
		b.Run(dir, func(b *testing.B) {
			srv := mockapi.NewUnstartedServer(mockapi.Options{Issues: benchUsers})
			first := "http://mock" + srv.GitHub().Path() + "?state=all&sort=updated&per_page=100&direction=" + dir
			benchServe(b, srv.Handler(), first, func(w *benchWriter) string {
				for l := range strings.SplitSeq(w.header.Get("Link"), ",") {
					if u, ok := strings.CutSuffix(strings.TrimSpace(l), `>; rel="next"`); ok {
						return strings.TrimPrefix(u, "<")
					}
				}
				return ""
			})
		})
	}
}

// BenchmarkServeCustomers is BenchmarkServeUsers for the Stripe-like
// customers: pages of 100 of 200,000 customers, newest first with
// starting_after, through the Handler in process; per customer served.
func BenchmarkServeCustomers(b *testing.B) {
	srv := mockapi.NewUnstartedServer(mockapi.Options{Customers: benchUsers})
	first := "http://mock" + mockapi.PathCustomers + "?limit=100"
	benchServe(b, srv.Handler(), first, func(w *benchWriter) string {
		body := w.body.Bytes()
		if !bytes.HasSuffix(body, []byte(`"has_more":true,"url":"/v1/customers"}`+"\n")) {
			return ""
		}
		i := bytes.LastIndex(body, []byte(`{"id":"`))
		id := body[i+len(`{"id":"`):]
		return first + "&starting_after=" + string(id[:bytes.IndexByte(id, '"')])
	})
}

// benchServe walks pages of 100 records from first, taking the next URL
// from each response with next ("" at the end, to start over), and reports
// the figures of BenchmarkServeUsers per record served.
func benchServe(b *testing.B, h http.Handler, first string, next func(*benchWriter) string) {
	w := &benchWriter{header: make(http.Header)}
	u := first
	pages := 0
	serve := func() {
		req := httptest.NewRequest(http.MethodGet, u, nil)
		w.reset()
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("GET %s = %d %s", u, w.status, w.body.Bytes())
		}
		pages++
		if u = next(w); u == "" {
			if pages != benchUsers/benchPageSize {
				b.Fatalf("walk ended after %d pages, want %d", pages, benchUsers/benchPageSize)
			}
			u, pages = first, 0
		}
	}
	serve() // warm up: builds the pools
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		serve()
		n++
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	records := float64(n * benchPageSize)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/records, "ns/record")
	b.ReportMetric(float64(cpu.Nanoseconds())/records, "cpu-ns/record")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/records, "allocs/record")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/records, "B/record")
}
