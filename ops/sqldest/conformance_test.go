package sqldest_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

// harness opens a DB in a file of each location.
func harness(opts sqldest.Options) opstest.Harness {
	return opstest.Harness{
		Open: func(ctx context.Context, loc string, now func() time.Time) (ops.Destination, error) {
			o := opts
			o.Now, o.Logger = now, quiet
			return sqldest.Open(ctx, filepath.Join(loc, "dest.db"), o)
		},
		Rows: func(ctx context.Context, d ops.Destination, table string) ([]schema.Row, error) {
			return d.(*sqldest.DB).Rows(ctx, table)
		},
		Crash: func(d ops.Destination) error { return sqldest.Crash(d.(*sqldest.DB)) },
	}
}

func TestConformance(t *testing.T) {
	opstest.Run(t, harness(sqldest.Options{}))
}

// One row per statement: the single-row upserts.
func TestConformanceBatchSize1(t *testing.T) {
	opstest.RunOptions(t, harness(sqldest.Options{BatchSize: 1}), opstest.Options{Run: "Semantics|Durability|Random", Seeds: []uint64{4}})
}
