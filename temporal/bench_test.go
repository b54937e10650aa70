package temporal_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/temporal"
	"github.com/connectkit/connector/temporal/internal/users"
)

// envBenchUsers sets the users of BenchmarkWorkers: 1,600 by default
// (100 a part, 5 pages of 20 ms), 16,000 for the README's figures.
const envBenchUsers = "CONNECTOR_TEMPORAL_BENCH_USERS"

// BenchmarkWorkers syncs the users of a latency-bound source (20 ms a
// page of 20) in 16 parts, on 1, 2 and 4 worker processes that each run
// one activity at a time, and reports the records/s of each and the
// speed-ups of 2 and 4 workers over 1.
func BenchmarkWorkers(b *testing.B) {
	n := 1600
	if s := os.Getenv(envBenchUsers); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 16 {
			b.Fatalf("%s=%q: want a number of users, at least 16", envBenchUsers, s)
		}
		n = v
	}
	ts := temporalDev(b)
	c := ts.GetDefaultClient()
	// A first, untimed sync warms the server up (the namespace's caches,
	// the first task queue), so that the 1-worker figure does not pay
	// for it.
	syncOnWorkers(b, ts, c, 320, 1)
	b.ResetTimer()
	rates := map[int]float64{}
	for range b.N {
		for _, workers := range []int{1, 2, 4} {
			r := syncOnWorkers(b, ts, c, n, workers)
			rates[workers] += r / float64(b.N)
			b.Logf("%d workers: %.0f records/s", workers, r)
		}
	}
	for _, w := range []int{1, 2, 4} {
		b.ReportMetric(rates[w], fmt.Sprintf("records/s-%dw", w))
	}
	b.ReportMetric(rates[2]/rates[1], "speedup-2v1")
	b.ReportMetric(rates[4]/rates[1], "speedup-4v1")
}

// syncOnWorkers syncs n users on workers new worker processes and
// returns the records/s, timed from the workflow's start to its result.
func syncOnWorkers(b *testing.B, ts *devServer, c client.Client, n, workers int) float64 {
	b.Helper()
	b.StopTimer()
	const benchSpan = 16 * time.Hour // 16 parts
	now := time.Now()
	opts := users.MockOptions(n, now, benchSpan)
	opts.Faults.Latency = 20 * time.Millisecond
	api := mockapi.NewServer(opts)
	defer api.Close()
	dsn, schema := pgtest.Schema(b)
	queue := newQueue(b)
	for i := range workers {
		startWorker(b, ts, queue, dsn, fmt.Sprintf("bench-%d", i+1), 1)
	}
	waitPollers(b, c, queue, workers)
	in := temporal.SyncInput{Connector: users.Name, Config: users.Config(api.URL, now, benchSpan, 20, schema), Parallelism: 16}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.StartTimer()
	start := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, temporal.WorkflowName, in)
	if err != nil {
		b.Fatal(err)
	}
	var res temporal.Result
	if err := run.Get(ctx, &res); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	b.StopTimer()
	if got := res.Total().Records(); got != int64(n) || res.Parts != 16 {
		b.Fatalf("synced %d records in %d parts, want %d in 16", got, res.Parts, n)
	}
	return float64(n) / d.Seconds()
}
