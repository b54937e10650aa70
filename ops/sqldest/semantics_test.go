package sqldest_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestBadOperations(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, sqldest.Options{})
	upsert := func(ctx context.Context) error {
		return opstest.Apply(ctx, db, []schema.Table{items}, opstest.Upsert("items", item(1, "a", 1)))
	}
	if err := upsert(ctx); !errors.Is(err, schema.ErrUnknownTable) {
		t.Errorf("Upsert before Prepare = %v, want ErrUnknownTable", err)
	}
	prepare(t, db, items)
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"unknown table", func() error { return opstest.Apply(ctx, db, nil, opstest.Upsert("nope", item(1, "a", 1))) }, schema.ErrUnknownTable},
		{"unknown table truncate", func() error { return opstest.Apply(ctx, db, nil, opstest.Truncate("nope")) }, schema.ErrUnknownTable},
		{"short row", func() error {
			return db.Write(ctx, []ops.Op{{Kind: ops.OpUpsert, Table: "items", Row: []any{int64(1)}}})
		}, nil},
		{"invalid kind", func() error {
			return db.Write(ctx, []ops.Op{{Kind: 99, Table: "items", Row: []any{int64(1), "a", int64(1)}}})
		}, nil},
		{"parent key of a one-column key", func() error {
			return db.Write(ctx, []ops.Op{{Kind: ops.OpDeleteChildren, Table: "items", Row: []any{int64(1), nil, nil}, Set: schema.ColumnSet{1}}})
		}, nil},
		{"nil state", func() error { return db.Checkpoint(ctx, nil) }, nil},
	} {
		err := tc.do()
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := upsert(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert with a cancelled context = %v, want context.Canceled", err)
	}
	// None of these broke the transaction.
	apply(t, db, []schema.Table{items},
		opstest.Upsert("items", item(1, "a", 1)),
		opstest.Checkpoint(mark("items", 1)),
	)
	if got := len(live(t, db, "items")); got != 1 {
		t.Errorf("rows after the bad operations = %d, want 1", got)
	}
	if sum := db.Summary(); sum["items"].Upserts != 1 || sum[""].Checkpoints != 1 {
		t.Errorf("Summary = %+v, want only the good operations", sum)
	}
	if _, err := db.Live(ctx, "nope"); !errors.Is(err, schema.ErrUnknownTable) {
		t.Errorf("Live of an unknown table = %v, want ErrUnknownTable", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := upsert(ctx); !errors.Is(err, sqldest.ErrClosed) {
		t.Errorf("Upsert after Close = %v, want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
