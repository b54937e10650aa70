package paginate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/connectkit/connector/paginate"
)

// benchUser has the fields of the seed's users.
type benchUser struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Address   string    `json:"address"`
	Company   string    `json:"company"`
	Job       string    `json:"job"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedAt time.Time `json:"createdAt"`
}

type benchPage struct {
	Data    []benchUser `json:"data"`
	Offset  int         `json:"offset"`
	Limit   int         `json:"limit"`
	Total   int         `json:"total"`
	HasMore bool        `json:"has_more"`
}

// benchServer serves n users as an offset API like the seed's, from
// pre-encoded records so that the server costs little beside the client.
func benchServer(n int, latency time.Duration) *httptest.Server {
	recs := make([][]byte, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		u := benchUser{
			ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), Name: "Name " + strconv.Itoa(i),
			Email: "user" + strconv.Itoa(i) + "@example.com", Address: "1 Main Street, Springfield",
			Company: "Acme Inc", Job: "Engineer", UpdatedAt: t0.Add(time.Duration(i) * time.Second), CreatedAt: t0,
		}
		recs[i], _ = json.Marshal(u)
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if latency > 0 {
			time.Sleep(latency)
		}
		q := r.URL.Query()
		off, _ := strconv.Atoi(q.Get("offset"))
		lim, _ := strconv.Atoi(q.Get("limit"))
		off = min(max(off, 0), n)
		end := min(off+lim, n)
		var b bytes.Buffer
		b.WriteString(`{"data":[`)
		for i := off; i < end; i++ {
			if i > off {
				b.WriteByte(',')
			}
			b.Write(recs[i])
		}
		fmt.Fprintf(&b, `],"offset":%d,"limit":%d,"total":%d,"has_more":%t}`, off, lim, n, end < n)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b.Bytes())
	}))
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
}

func getPage(ctx context.Context, client *http.Client, base string, offset, limit int) (benchPage, error) {
	var page benchPage
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"?offset="+strconv.Itoa(offset)+"&limit="+strconv.Itoa(limit), nil)
	if err != nil {
		return page, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return page, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return page, fmt.Errorf("status %d", resp.StatusCode)
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	return page, err
}

// handLoop is the baseline: the loop one writes without a library.
func handLoop(ctx context.Context, client *http.Client, base string, limit int) (int, error) {
	n, offset := 0, 0
	for {
		page, err := getPage(ctx, client, base, offset, limit)
		if err != nil {
			return n, err
		}
		n += len(page.Data)
		offset += len(page.Data)
		if !page.HasMore || len(page.Data) == 0 {
			return n, nil
		}
	}
}

func benchSource(client *http.Client, base string) paginate.Source[benchUser] {
	return paginate.SourceFunc[benchUser](func(ctx context.Context, c paginate.Cursor) (paginate.Page[benchUser], error) {
		page, err := getPage(ctx, client, base, int(c.Offset), c.Limit)
		if err != nil {
			return paginate.Page[benchUser]{}, err
		}
		return paginate.Page[benchUser]{Items: page.Data, Total: int64(page.Total), HasMore: paginate.FlagOf(page.HasMore)}, nil
	})
}

// report adds records/s and allocations per record, and returns the rate.
func report(b *testing.B, records int, before *runtime.MemStats) float64 {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	rate := float64(records) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(records), "allocs/record")
	return rate
}

// BenchmarkPaginatorVsLoop compares the Paginator with a hand-written
// net/http + encoding/json loop over the same server, in the same run.
func BenchmarkPaginatorVsLoop(b *testing.B) {
	const users = 10000
	srv := benchServer(users, 0)
	defer srv.Close()
	client := benchClient()
	ctx := context.Background()
	for _, size := range []int{100, 1000} {
		var loopRate float64
		b.Run(fmt.Sprintf("size=%d/loop", size), func(b *testing.B) {
			b.ReportAllocs()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			records := 0
			for b.Loop() {
				n, err := handLoop(ctx, client, srv.URL, size)
				if err != nil || n != users {
					b.Fatalf("handLoop = %d, %v; want %d", n, err, users)
				}
				records += n
			}
			loopRate = report(b, records, &ms)
		})
		b.Run(fmt.Sprintf("size=%d/paginator", size), func(b *testing.B) {
			b.ReportAllocs()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			records := 0
			src := benchSource(client, srv.URL)
			for b.Loop() {
				n := 0
				for _, err := range paginate.New(src, paginate.Offset(size)).All(ctx) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != users {
					b.Fatalf("paginator yielded %d, want %d", n, users)
				}
				records += n
			}
			if rate := report(b, records, &ms); loopRate > 0 {
				b.ReportMetric(rate/loopRate, "x-loop")
			}
		})
		// paired alternates the two in each iteration, so that drift in
		// the machine's speed falls on both alike: its x-loop is the
		// figure to quote.
		b.Run(fmt.Sprintf("size=%d/paired", size), func(b *testing.B) {
			src := benchSource(client, srv.URL)
			var loopTime, pagTime time.Duration
			walkLoop := func() {
				start := time.Now()
				if n, err := handLoop(ctx, client, srv.URL, size); err != nil || n != users {
					b.Fatalf("handLoop = %d, %v; want %d", n, err, users)
				}
				loopTime += time.Since(start)
			}
			walkPaginator := func() {
				start := time.Now()
				n := 0
				for _, err := range paginate.New(src, paginate.Offset(size)).All(ctx) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				pagTime += time.Since(start)
				if n != users {
					b.Fatalf("paginator yielded %d, want %d", n, users)
				}
			}
			for i := 0; b.Loop(); i++ {
				// Alternate which goes first, so that neither always pays
				// for the garbage of the other.
				if i%2 == 0 {
					walkLoop()
					walkPaginator()
				} else {
					walkPaginator()
					walkLoop()
				}
			}
			records := float64(users * b.N)
			b.ReportMetric(records/loopTime.Seconds(), "loop-records/s")
			b.ReportMetric(records/pagTime.Seconds(), "paginator-records/s")
			b.ReportMetric(loopTime.Seconds()/pagTime.Seconds(), "x-loop")
		})
	}
}

// BenchmarkConcurrency fetches 8,000 users in pages of 100 from a server
// that takes 10 ms per page, with 1, 2, 4 and 8 pages in flight.
func BenchmarkConcurrency(b *testing.B) {
	const users = 8000
	srv := benchServer(users, 10*time.Millisecond)
	defer srv.Close()
	src := benchSource(benchClient(), srv.URL)
	var seqRate float64
	for _, conc := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			b.ReportAllocs()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			records := 0
			for b.Loop() {
				n := 0
				for _, err := range paginate.New(src, paginate.Offset(100), paginate.WithConcurrency(conc)).All(context.Background()) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != users {
					b.Fatalf("paginator yielded %d, want %d", n, users)
				}
				records += n
			}
			rate := report(b, records, &ms)
			if conc == 1 {
				seqRate = rate
			} else if seqRate > 0 {
				b.ReportMetric(rate/seqRate, "x-sequential")
			}
		})
	}
}
