package ops_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/schema"
)

var quiet = slog.New(slog.DiscardHandler)

// memoryHarness opens one Memory per location, found again when the
// location is reopened, as a file or a database would be.
func memoryHarness() opstest.Harness {
	var mu sync.Mutex
	byLoc := make(map[string]*ops.Memory)
	return opstest.Harness{
		Open: func(_ context.Context, loc string, now func() time.Time) (ops.Destination, error) {
			mu.Lock()
			defer mu.Unlock()
			m := byLoc[loc]
			if m == nil {
				m = ops.NewMemory()
				byLoc[loc] = m
			}
			m.Now = now
			return m, nil
		},
		Rows: func(_ context.Context, d ops.Destination, table string) ([]schema.Row, error) {
			return d.(*ops.Memory).Rows(table), nil
		},
		Crash: func(ops.Destination) error { return nil }, // nothing of a Memory is lost
	}
}

// dirHarness opens a Dir in each location and reads it back with
// ReadDir; a crash closes its files without flushing its buffers.
func dirHarness(opts ops.DirOptions) opstest.Harness {
	return opstest.Harness{
		Open: func(_ context.Context, loc string, now func() time.Time) (ops.Destination, error) {
			o := opts
			o.Now = now
			if o.Logger == nil {
				o.Logger = quiet
			}
			return ops.OpenDir(loc, o)
		},
		Rows: func(_ context.Context, d ops.Destination, table string) ([]schema.Row, error) {
			snap, err := ops.ReadDir(d.(*ops.Dir).Path())
			if err != nil {
				return nil, err
			}
			return snap.Rows(table), nil
		},
		Crash: func(d ops.Destination) error { return ops.Crash(d.(*ops.Dir)) },
	}
}

// openDir opens and prepares a Dir at path with the given options,
// closed at the end of the test.
func openDir(t testing.TB, path string, opts ops.DirOptions, tables ...schema.Table) *ops.Dir {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	d, err := ops.OpenDir(path, opts)
	if err != nil {
		t.Fatalf("OpenDir: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Prepare(context.Background(), tables); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return d
}

func readDir(t testing.TB, path string) *ops.Snapshot {
	t.Helper()
	snap, err := ops.ReadDir(path)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	return snap
}

func closeDir(t testing.TB, d *ops.Dir) {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// apply sends steps to d with opstest.Apply, failing the test on an
// error.
func apply(t testing.TB, d ops.Destination, tables []schema.Table, steps ...opstest.Step) {
	t.Helper()
	if err := opstest.Apply(context.Background(), d, tables, steps...); err != nil {
		t.Fatal(err)
	}
}

// textLogger logs text to w.
func textLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
