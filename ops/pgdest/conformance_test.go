package pgdest_test

import (
	"context"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/schema"
)

// harness runs a DB per location in a schema of its own, in the
// database of dsn.
func harness(dsn string) opstest.Harness {
	return opstest.Harness{
		Open: func(ctx context.Context, loc string, now func() time.Time) (ops.Destination, error) {
			return pgdest.Open(ctx, dsn, pgdest.Options{Schema: opstest.Name(loc), Now: now, Logger: quiet})
		},
		Rows: func(ctx context.Context, d ops.Destination, table string) ([]schema.Row, error) {
			return d.(*pgdest.DB).Rows(ctx, table)
		},
		Crash: func(d ops.Destination) error { return pgdest.Crash(d.(*pgdest.DB)) },
	}
}

func TestConformance(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	opstest.RunOptions(t, harness(dsn), opstest.Options{
		TimePrecision: time.Microsecond,
		Skip:          map[string]string{"Types/NUL": "a Postgres text cannot hold U+0000: Write fails with an error naming the table, row and column (TestValuesPostgresCannotHold)"},
	})
}
