package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// benchRow returns a typical row: a key, some text, numbers and times.
func benchRow(i int) schema.Row {
	return schema.Row{
		"id":      int64(i),
		"name":    "Ada Lovelace",
		"active":  true,
		"score":   12.5,
		"price":   "19.99",
		"updated": t0.Add(time.Duration(i) * time.Millisecond),
		"bio":     "<p>Mathematician and writer, chiefly known for her work on the Analytical Engine.</p>",
	}
}

// BenchmarkDirUpsert writes rows to a Dir with a checkpoint (two fsyncs
// and a rename) every 100 rows.
func BenchmarkDirUpsert(b *testing.B) {
	ctx := context.Background()
	d, err := ops.OpenDir(b.TempDir(), ops.DirOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := d.Prepare(ctx, []schema.Table{users}); err != nil {
		b.Fatal(err)
	}
	// A Dir keeps nothing of a row, so one row can be reused.
	row := benchRow(1)
	st := state.New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		row["id"] = int64(i)
		if err := d.Upsert(ctx, "users", row); err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 {
			st.Table("users").Mark = state.Mark{UpdatedAt: t0, ID: "x"}
			if err := d.Checkpoint(ctx, st); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkMemoryUpsert upserts rows into a Memory.
func BenchmarkMemoryUpsert(b *testing.B) {
	ctx := context.Background()
	m := ops.NewMemory()
	if err := m.Prepare(ctx, []schema.Table{users}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// A fresh row each time: Memory takes the row it is given over.
		if err := m.Upsert(ctx, "users", benchRow(i%10000)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
