package connector_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/internal/memsource"
	"github.com/connectkit/connector/ops"
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
