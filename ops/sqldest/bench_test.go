package sqldest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

func benchRow(i int) schema.Row {
	return schema.Row{
		"id":        fmt.Sprintf("usr_%012d", i),
		"name":      fmt.Sprintf("Ada Lovelace %d", i),
		"email":     fmt.Sprintf("ada.lovelace.%d@example.com", i),
		"address":   fmt.Sprintf("%d Analytical Engine Street, Marylebone, London NW1 %dAB", i%1000, i%10),
		"company":   "Babbage & Lovelace Computing Ltd",
		"job":       "Chief Mathematician",
		"updatedAt": t0.Add(time.Duration(i) * time.Millisecond),
		"createdAt": t0.Add(-time.Duration(i) * time.Second),
	}
}

// BenchmarkWrite upserts new rows with a checkpoint after every page,
// comparing multi-row INSERTs of BatchSize rows with one prepared
// single-row INSERT per row (batch=1).
func BenchmarkWrite(b *testing.B) {
	users, err := opstest.Users.Compile()
	if err != nil {
		b.Fatal(err)
	}
	for _, page := range []int{100, 1000} {
		for _, batch := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("page=%d/batch=%d", page, batch), func(b *testing.B) {
				ctx := context.Background()
				db, err := sqldest.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqldest.Options{Logger: quiet, BatchSize: batch})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if err := db.Prepare(ctx, []schema.Table{opstest.Users}); err != nil {
					b.Fatal(err)
				}
				batchOps := make([]ops.Op, 0, page)
				st := state.New()
				b.ReportAllocs()
				b.ResetTimer()
				for n := 0; n < b.N; n++ {
					row, err := users.Normalize(benchRow(n))
					if err != nil {
						b.Fatal(err)
					}
					batchOps = append(batchOps, ops.Op{Kind: ops.OpUpsert, Table: "user", Row: row})
					if len(batchOps) == page || n == b.N-1 {
						if err := db.Write(ctx, batchOps); err != nil {
							b.Fatal(err)
						}
						batchOps = batchOps[:0]
						st.Table("user").Mark = state.Mark{Cursor: state.Time(t0), ID: state.Int(int64(n))}
						if err := db.Checkpoint(ctx, st); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
