package ops_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// benchTable and benchRow are those of the baseline's benchmark, so that
// the figures compare (see BenchmarkDirCheckpointEvery).
var benchTable = schema.Table{
	Name:       "users",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.Long},
		{Name: "name", Type: schema.String},
		{Name: "active", Type: schema.Boolean},
		{Name: "score", Type: schema.Double},
		{Name: "price", Type: schema.Decimal},
		{Name: "updated", Type: schema.UTCDateTime},
		{Name: "bio", Type: schema.String},
	},
}

var benchT0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// benchRow returns a typical row: a key, some text, numbers and times.
func benchRow(i int) schema.Row {
	return schema.Row{
		"id":      int64(i),
		"name":    "Ada Lovelace",
		"active":  true,
		"score":   12.5,
		"price":   "19.99",
		"updated": benchT0.Add(time.Duration(i) * time.Millisecond),
		"bio":     "<p>Mathematician and writer, chiefly known for her work on the Analytical Engine.</p>",
	}
}

// BenchmarkDirCheckpointEvery writes pages of 100 upserted rows into a
// Dir, normalized as the runner does, with a checkpoint every N rows,
// and reports rows/s, the cost of a checkpoint, and what a crash just
// before a checkpoint makes a resumed sync write again (N-1 rows and
// their bytes in the logs). The baseline, main at 0656b29 (Upsert per
// row, 3 fsyncs and a rename per checkpoint), has the same benchmark.
func BenchmarkDirCheckpointEvery(b *testing.B) {
	for _, every := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprint("rows=", every), func(b *testing.B) {
			ctx := context.Background()
			c, err := benchTable.Compile()
			if err != nil {
				b.Fatal(err)
			}
			d, err := ops.OpenDir(b.TempDir(), ops.DirOptions{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			if err := d.Prepare(ctx, []schema.Table{benchTable}); err != nil {
				b.Fatal(err)
			}
			st := state.New()
			page := make([]ops.Op, 0, 100)
			checkpoints := 0
			var ckTime time.Duration
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				op, err := ops.OpUpsert.Normalize(c, benchRow(i))
				if err != nil {
					b.Fatal(err)
				}
				page = append(page, op)
				i++
				if len(page) == cap(page) {
					if err := d.Write(ctx, page); err != nil {
						b.Fatal(err)
					}
					page = page[:0]
				}
				if i%every == 0 {
					st.Table("users").Mark = state.Mark{Cursor: state.Time(benchT0), ID: state.Int(int64(i))}
					start := time.Now()
					if err := d.Checkpoint(ctx, st); err != nil {
						b.Fatal(err)
					}
					ckTime += time.Since(start)
					checkpoints++
				}
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "rows/s")
			if checkpoints > 0 {
				b.ReportMetric(float64(ckTime.Microseconds())/float64(checkpoints), "µs/checkpoint")
			}
			d.Close()
			b.ReportMetric(float64(every-1), "replay-rows")
			b.ReportMetric(float64(every-1)*float64(logBytes(b, d.Path()))/float64(i)/1024, "replay-KiB")
		})
	}
}

// BenchmarkDirCheckpoint measures a checkpoint after one row written to
// each of 1 or 3 tables: its fsyncs and the journal append.
func BenchmarkDirCheckpoint(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprint("tables=", n), func(b *testing.B) {
			ctx := context.Background()
			var tables []schema.Table
			var compiled []*schema.Compiled
			for k := range n {
				t := benchTable
				t.Name = fmt.Sprint("users", k)
				c, err := t.Compile()
				if err != nil {
					b.Fatal(err)
				}
				tables, compiled = append(tables, t), append(compiled, c)
			}
			d, err := ops.OpenDir(b.TempDir(), ops.DirOptions{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			if err := d.Prepare(ctx, tables); err != nil {
				b.Fatal(err)
			}
			st := state.New()
			batch := make([]ops.Op, n)
			i := 0
			for b.Loop() {
				for k, c := range compiled {
					if batch[k], err = ops.OpUpsert.Normalize(c, benchRow(i)); err != nil {
						b.Fatal(err)
					}
				}
				i++
				if err := d.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				st.Table("users0").Mark = state.Mark{Cursor: state.Time(benchT0), ID: state.Int(int64(i))}
				if err := d.Checkpoint(ctx, st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// logBytes returns the size of the users log in dir.
func logBytes(b *testing.B, dir string) int64 {
	fi, err := os.Stat(filepath.Join(dir, "users.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkMemoryWrite writes pages of 100 upserts into a Memory.
func BenchmarkMemoryWrite(b *testing.B) {
	ctx := context.Background()
	c, err := benchTable.Compile()
	if err != nil {
		b.Fatal(err)
	}
	m := ops.NewMemory()
	if err := m.Prepare(ctx, []schema.Table{benchTable}); err != nil {
		b.Fatal(err)
	}
	page := make([]ops.Op, 0, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A fresh row each time: Memory takes the row it is given over.
		op, err := ops.OpUpsert.Normalize(c, benchRow(i%10000))
		if err != nil {
			b.Fatal(err)
		}
		page = append(page, op)
		i++
		if len(page) == cap(page) {
			if err := m.Write(ctx, page); err != nil {
				b.Fatal(err)
			}
			page = page[:0]
		}
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadDir replays a log of 10,000 upserts.
func BenchmarkReadDir(b *testing.B) {
	ctx := context.Background()
	c, err := benchTable.Compile()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	d, err := ops.OpenDir(dir, ops.DirOptions{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Prepare(ctx, []schema.Table{benchTable}); err != nil {
		b.Fatal(err)
	}
	const n = 10000
	for i := range n {
		op, err := ops.OpUpsert.Normalize(c, benchRow(i))
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Write(ctx, []ops.Op{op}); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Checkpoint(ctx, state.New()); err != nil {
		b.Fatal(err)
	}
	d.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ops.ReadDir(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkMemoryUpsert writes 100,000 normalized upserts, in pages of
// 100, into a fresh Memory per iteration (the write path of a sync into
// memory, without the normalization), and in the same run inserts the
// same rows into a map of key to values, the least a store keyed in memory
// does: it reports ns/row of each and their ratio.
func BenchmarkMemoryUpsert(b *testing.B) {
	const n = 100000
	ctx := context.Background()
	c, err := benchTable.Compile()
	if err != nil {
		b.Fatal(err)
	}
	page := make([]ops.Op, 0, 100)
	rows := make([]ops.Op, n)
	for i := range rows {
		if rows[i], err = ops.OpUpsert.Normalize(c, benchRow(i)); err != nil {
			b.Fatal(err)
		}
	}
	var memNs, mapNs float64
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			m := make(map[string][]any)
			for i := range rows {
				m[c.KeyOf(rows[i].Row)] = rows[i].Row
			}
		}
		mapNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
		b.ReportMetric(mapNs, "ns/row")
	})
	b.Run("memory", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := ops.NewMemory()
			if err := m.Prepare(ctx, []schema.Table{benchTable}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i += cap(page) {
				page = append(page[:0], rows[i:i+cap(page)]...)
				if err := m.Write(ctx, page); err != nil {
					b.Fatal(err)
				}
			}
		}
		memNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
		b.ReportMetric(memNs, "ns/row")
		if mapNs > 0 {
			b.ReportMetric(memNs/mapNs, "x-map")
		}
	})
}

// BenchmarkMemoryUsers writes 200,000 upserts of the users of
// examples/users (random version 4 UUID keys, as mockapi serves them),
// normalized beforehand, in pages of 100 into a fresh Memory per
// iteration: the work Memory.Write does per upserted row. Besides wall
// time per row it reports the process's CPU time per row from getrusage
// (cpu-ns/row, the garbage collector on the other cores included), which
// another process on the machine disturbs less.
func BenchmarkMemoryUsers(b *testing.B) {
	const n = 200_000
	ctx := context.Background()
	c, err := opstest.Users.Compile()
	if err != nil {
		b.Fatal(err)
	}
	srv := mockapi.NewUnstartedServer(mockapi.Options{Users: n, Seed: 1})
	rows := make([]ops.Op, n)
	for i := range rows {
		u := srv.UserAt(i)
		row := schema.Row{
			"id": u.ID, "name": u.Name, "email": u.Email, "address": u.Address,
			"company": u.Company, "job": u.Job, "updatedAt": u.UpdatedAt, "createdAt": u.CreatedAt,
		}
		if rows[i], err = ops.OpUpsert.Normalize(c, row); err != nil {
			b.Fatal(err)
		}
	}
	page := make([]ops.Op, 0, 100)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		m := ops.NewMemory()
		if err := m.Prepare(ctx, []schema.Table{opstest.Users}); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i += cap(page) {
			page = append(page[:0], rows[i:i+cap(page)]...)
			if err := m.Write(ctx, page); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/n, "cpu-ns/row")
}

// cpuTime returns the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
