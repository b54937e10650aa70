package mockapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/connectkit/connector/mockapi"
)

// The population and page size of BenchmarkServeUsers.
const (
	benchUsers    = 200_000
	benchPageSize = 100
)

// BenchmarkServeUsers measures the CPU the mock spends per user served:
// pages of 100 users of a 200,000-user server, walked front to back (and
// around again) through its http.Handler in process, on every users
// endpoint. It reports, per user served, wall time (ns/user), process CPU
// time from getrusage (cpu-ns/user, which includes the garbage collector
// running on other cores) and allocations (allocs/user, B/user).
//
// It uses only API that has been stable since the first mockapi, so the
// same file runs against an older commit for an A/B comparison.
func BenchmarkServeUsers(b *testing.B) {
	for _, ep := range []string{"offset", "pages", "cursor", "link", "keyset"} {
		b.Run(ep, func(b *testing.B) {
			srv := mockapi.NewServer(mockapi.Options{Users: benchUsers})
			defer srv.Close()
			w := newBenchWalk(srv.Handler(), ep)
			w.serve(b) // warm up: one page, and a check that it is served

			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			cpu0 := cpuTime()
			b.ResetTimer()
			pages := 0
			for b.Loop() {
				w.serve(b)
				pages++
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			runtime.ReadMemStats(&m1)
			users := float64(pages * benchPageSize)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/users, "ns/user")
			b.ReportMetric(float64(cpu.Nanoseconds())/users, "cpu-ns/user")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/users, "allocs/user")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/users, "B/user")
		})
	}
}

// cpuTime returns the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchWalk pages through one endpoint, starting over after the last page.
// Finding the next page's parameters reads as little of the body as it
// can (the cursor at its end, the Link header, the last user for keyset),
// so the client's share of the figure stays small.
type benchWalk struct {
	h    http.Handler
	ep   string
	req  *http.Request
	w    *benchWriter
	page int    // 0-based index of the next page
	next string // query of the next page
}

func newBenchWalk(h http.Handler, ep string) *benchWalk {
	path := map[string]string{
		"offset": mockapi.PathOffset,
		"pages":  mockapi.PathPages,
		"cursor": mockapi.PathCursor,
		"link":   mockapi.PathLink,
		"keyset": mockapi.PathKeyset,
	}[ep]
	return &benchWalk{
		h:   h,
		ep:  ep,
		req: httptest.NewRequest(http.MethodGet, "http://mock"+path, nil),
		w:   &benchWriter{header: make(http.Header)},
	}
}

const benchFirst = "limit=100&per_page=100"

// serve serves the next page and prepares the one after it.
func (w *benchWalk) serve(b *testing.B) {
	q := w.next
	switch {
	case w.ep == "offset":
		q = "limit=100&offset=" + strconv.Itoa(w.page*benchPageSize)
	case w.ep == "pages":
		q = "per_page=100&page=" + strconv.Itoa(w.page+1)
	case q == "":
		q = benchFirst
	}
	w.req.URL.RawQuery = q
	w.w.reset()
	w.h.ServeHTTP(w.w, w.req)
	if w.w.status != http.StatusOK {
		b.Fatalf("GET %s?%s = %d %s", w.req.URL.Path, q, w.w.status, w.w.body.Bytes())
	}
	w.page++
	last := w.page == benchUsers/benchPageSize
	body := w.w.body.Bytes()
	switch w.ep {
	case "offset", "pages":
	case "cursor":
		const field = `"next_cursor":"`
		i := bytes.LastIndex(body, []byte(field))
		if i < 0 {
			w.next = ""
			break
		}
		c := body[i+len(field):]
		w.next = "limit=100&cursor=" + string(c[:bytes.IndexByte(c, '"')])
	case "link":
		w.next = ""
		for l := range strings.SplitSeq(w.w.header.Get("Link"), ",") {
			if target, rel, ok := strings.Cut(strings.TrimSpace(l), ">; "); ok && rel == `rel="next"` {
				_, w.next, _ = strings.Cut(target, "?")
			}
		}
	case "keyset":
		i := bytes.LastIndex(body, []byte(`{"id":`))
		var u mockapi.User
		if i < 0 || json.NewDecoder(bytes.NewReader(body[i:])).Decode(&u) != nil {
			b.Fatalf("GET %s?%s: no last user in %.200s", w.req.URL.Path, q, body)
		}
		w.next = "limit=100&after=" + urlQueryEscape(mockapi.Key(u))
		if last {
			w.next = ""
		}
	}
	if (w.next == "") != last && w.ep != "offset" && w.ep != "pages" {
		b.Fatalf("GET %s?%s: page %d of %d has next %q", w.req.URL.Path, q, w.page, benchUsers/benchPageSize, w.next)
	}
	if last {
		w.page, w.next = 0, ""
	}
}

// urlQueryEscape escapes the characters of a Key that need it in a query.
func urlQueryEscape(s string) string {
	return strings.NewReplacer("+", "%2B", ":", "%3A", ",", "%2C").Replace(s)
}

// benchWriter is a ResponseWriter reused across requests.
type benchWriter struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (w *benchWriter) reset() {
	clear(w.header)
	w.body.Reset()
	w.status = 0
}

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
