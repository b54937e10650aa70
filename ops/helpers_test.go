package ops_test

import (
	"context"
	"log/slog"
	"sync"
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
