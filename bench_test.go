package connector_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/internal/memsource"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// seedUser has the seed's eight columns.
type seedUser struct {
	ID        string    `col:"id"`
	Name      string    `col:"name"`
	Email     string    `col:"email"`
	Address   string    `col:"address"`
	Company   string    `col:"company"`
	Job       string    `col:"job"`
	UpdatedAt time.Time `col:"updatedAt"`
	CreatedAt time.Time `col:"createdAt"`
}

var seedUsers = schema.MustStruct[seedUser]("user", "id")

func benchUsers(n int) []seedUser {
	out := make([]seedUser, n)
	for i := range out {
		out[i] = seedUser{
			ID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), Name: fmt.Sprintf("Name %d", i),
			Email: fmt.Sprintf("user%d@example.com", i), Address: "1 Main Street, Springfield", Company: "Acme Inc",
			Job: "Engineer", UpdatedAt: t0.Add(time.Duration(i) * time.Second), CreatedAt: t0,
		}
	}
	return out
}

func seedConnector(items []seedUser, pageSize int) *connector.Connector {
	return &connector.Connector{Name: "bench", Tables: []connector.Table{{
		Table: seedUsers.Table(),
		Stream: connector.Incremental[seedUser]{
			Pages: func(connector.Window) *paginate.Paginator[seedUser] {
				return paginate.New(&memsource.Source[seedUser]{Items: items, Kind: paginate.KindOffset, HasMore: true}, paginate.Offset(pageSize))
			},
			Key: func(u seedUser) state.Mark {
				return state.Mark{Cursor: state.Time(u.UpdatedAt), ID: state.String(u.ID)}
			},
			Emit: func(ctx context.Context, w *connector.Writer, u seedUser) error {
				return w.Upsert(ctx, "user", seedUsers.Row(&u))
			},
		},
	}}}
}

// BenchmarkRunner measures what the runner adds per record: validation,
// the struct codec, operations into a destination and a checkpoint per
// page, against the bare Paginator over the same in-memory source.
func BenchmarkRunner(b *testing.B) {
	const n, pageSize = 10000, 100
	items := benchUsers(n)
	var base float64 // ns per record of the bare paginator
	measure := func(b *testing.B, isBase bool, run func()) {
		b.ReportAllocs()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for b.Loop() {
			run()
		}
		runtime.ReadMemStats(&after)
		records := float64(n) * float64(b.N)
		nsPer := float64(b.Elapsed().Nanoseconds()) / records
		b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
		if isBase {
			base = nsPer
		} else if base > 0 {
			b.ReportMetric(nsPer-base, "ns-overhead/record")
		}
	}
	b.Run("paginator", func(b *testing.B) {
		src := &memsource.Source[seedUser]{Items: items, Kind: paginate.KindOffset, HasMore: true}
		measure(b, true, func() {
			got := 0
			for _, err := range paginate.New(src, paginate.Offset(pageSize)).All(context.Background()) {
				if err != nil {
					b.Fatal(err)
				}
				got++
			}
			if got != n {
				b.Fatalf("paginator yielded %d, want %d", got, n)
			}
		})
	})
	opts := connector.Options{Logger: slog.New(slog.DiscardHandler), Progress: -1}
	b.Run("runner-memory", func(b *testing.B) {
		c := seedConnector(items, pageSize)
		measure(b, false, func() {
			dest := ops.NewMemory()
			sum, err := c.Run(context.Background(), dest, opts)
			if err != nil || sum.Total().Upserts != n {
				b.Fatalf("Run() = %v, %v; want %d upserts", sum, err, n)
			}
		})
	})
	b.Run("runner-dir", func(b *testing.B) {
		c := seedConnector(items, pageSize)
		measure(b, false, func() {
			dest, err := ops.OpenDir(b.TempDir(), ops.DirOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer dest.Close()
			sum, err := c.Run(context.Background(), dest, opts)
			if err != nil || sum.Total().Upserts != n {
				b.Fatalf("Run() = %v, %v; want %d upserts", sum, err, n)
			}
		})
	})
}

// BenchmarkCheckpointPolicy syncs 100,000 users in pages of 100 into a
// directory and into SQLite with each checkpoint policy, and reports the
// records/s and the most records a crash could make a resume write again
// (the records between two checkpoints), the trade-off the default
// policy is chosen by.
func BenchmarkCheckpointPolicy(b *testing.B) {
	n := 100000
	if testing.Short() || b.N == 1 && os.Getenv("CONNECTOR_BENCH_FULL") == "" {
		n = 10000 // CI runs each benchmark once, quickly
	}
	items := benchUsers(n)
	policies := []struct {
		name string
		p    connector.CheckpointPolicy
	}{
		{"every-page", connector.CheckpointPolicy{EveryRecords: 1}},
		{"every-1000", connector.CheckpointPolicy{EveryRecords: 1000}},
		{"every-10000", connector.CheckpointPolicy{EveryRecords: 10000}},
		{"every-1s", connector.CheckpointPolicy{Every: time.Second}},
		{"default", connector.CheckpointPolicy{}},
	}
	dests := map[string]func(b *testing.B) (ops.Destination, func()){
		"dir": func(b *testing.B) (ops.Destination, func()) {
			d, err := ops.OpenDir(b.TempDir(), ops.DirOptions{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			return d, func() { d.Close() }
		},
		"sqlite": func(b *testing.B) (ops.Destination, func()) {
			d, err := sqldest.Open(context.Background(), filepath.Join(b.TempDir(), "db"), sqldest.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			return d, func() { d.Close() }
		},
	}
	for _, dname := range []string{"dir", "sqlite"} {
		for _, pol := range policies {
			b.Run(dname+"/"+pol.name, func(b *testing.B) {
				var written, lastCheckpoint, maxReplay atomic.Int64
				c := seedConnector(items, 100)
				inc := c.Tables[0].Stream.(connector.Incremental[seedUser])
				emit := inc.Emit
				inc.Emit = func(ctx context.Context, w *connector.Writer, u seedUser) error {
					written.Add(1)
					return emit(ctx, w, u)
				}
				c.Tables[0].Stream = inc
				opts := connector.Options{Logger: slog.New(slog.DiscardHandler), Progress: -1, Checkpoint: pol.p,
					Checkpointed: func(*state.State) {
						w := written.Load()
						if d := w - lastCheckpoint.Swap(w); d > maxReplay.Load() {
							maxReplay.Store(d)
						}
					}}
				for b.Loop() {
					written.Store(0)
					lastCheckpoint.Store(0)
					dest, done := dests[dname](b)
					sum, err := c.Run(context.Background(), dest, opts)
					done()
					if err != nil || sum.Total().Upserts != int64(n) {
						b.Fatalf("Run() = %v, %v; want %d upserts", sum, err, n)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(maxReplay.Load()), "max-replay-records")
			})
		}
	}
}
