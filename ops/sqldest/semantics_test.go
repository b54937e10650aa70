package sqldest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestSameAsMemory runs the same random operations through ops.Memory
// and a DB and compares the tables at every checkpoint and at the end.
func TestSameAsMemory(t *testing.T) {
	for _, batch := range []int{1, 3, 0} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("batch %d seed %d", batch, seed), func(t *testing.T) {
				ctx := context.Background()
				r := rand.New(rand.NewPCG(seed, 7))
				seq := randomOps(r, 200)
				mem := ops.NewMemory()
				mem.Now = clock()
				db, _ := open(t, sqldest.Options{Now: clock(), BatchSize: batch})
				for _, d := range []ops.Destination{mem, db} {
					if err := prepare(ctx, d, []schema.Table{wide}); err != nil {
						t.Fatal(err)
					}
				}
				for i, o := range seq {
					apply(t, mem, seq[i:i+1])
					apply(t, db, seq[i:i+1])
					if o.kind == "checkpoint" {
						sameLive(t, mem, db, "wide")
					}
				}
				sameLive(t, mem, db, "wide")
				if diff := cmp.Diff(mem.Rows("wide"), rows(t, db, "wide")); diff != "" {
					t.Errorf("Rows mismatch (-memory +sqldest):\n%s", diff)
				}
				if diff := cmp.Diff(mem.Summary(), db.Summary()); diff != "" {
					t.Errorf("Summary mismatch (-memory +sqldest):\n%s", diff)
				}
			})
		}
	}
}

// TestSemantics checks the corner cases of the operations one by one
// against Memory, with the system columns.
func TestSemantics(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  []op
	}{
		{"upsert replaces the whole row", []op{
			{kind: "upsert", table: "items", row: item(1, "a", 1)},
			{kind: "upsert", table: "items", row: schema.Row{"id": int64(1), "name": "b"}},
		}},
		{"update merges and sets NULL", []op{
			{kind: "upsert", table: "items", row: item(1, "a", 1)},
			{kind: "update", table: "items", row: schema.Row{"id": int64(1), "qty": int64(5)}},
			{kind: "update", table: "items", row: schema.Row{"id": int64(1), "name": nil}},
			{kind: "update", table: "items", row: schema.Row{"id": int64(1)}},
		}},
		{"update of a missing row inserts the given columns", []op{
			{kind: "update", table: "items", row: schema.Row{"id": int64(2), "name": "x"}},
		}},
		{"update of a deleted row starts afresh", []op{
			{kind: "upsert", table: "items", row: item(1, "a", 1)},
			{kind: "delete", table: "items", row: schema.Row{"id": int64(1)}},
			{kind: "update", table: "items", row: schema.Row{"id": int64(1), "qty": int64(2)}},
		}},
		{"delete of a deleted or missing row keeps it as it is", []op{
			{kind: "upsert", table: "items", row: item(1, "a", 1)},
			{kind: "delete", table: "items", row: schema.Row{"id": int64(1), "name": "ignored"}},
			{kind: "delete", table: "items", row: schema.Row{"id": int64(1)}},
			{kind: "delete", table: "items", row: schema.Row{"id": int64(3)}},
		}},
		{"truncate then upsert", []op{
			{kind: "upsert", table: "items", row: item(1, "a", 1)},
			{kind: "upsert", table: "items", row: item(2, "b", 2)},
			{kind: "truncate", table: "items"},
			{kind: "truncate", table: "items"},
			{kind: "upsert", table: "items", row: item(2, "b2", 20)},
			{kind: "upsert", table: "items", row: item(3, "c", 30)},
		}},
		{"upserts of one key in one batch", []op{
			{kind: "upsert", table: "items", row: item(1, "a", 1)},
			{kind: "upsert", table: "items", row: item(1, "b", 2)},
			{kind: "upsert", table: "items", row: item(1, "c", 3)},
		}},
		{"values are converted to canonical types", []op{
			{kind: "upsert", table: "items", row: schema.Row{"id": 7, "name": "n", "qty": int32(3)}},
		}},
	} {
		for _, batch := range []int{1, 0} {
			t.Run(fmt.Sprintf("%s/batch %d", tc.name, batch), func(t *testing.T) {
				ctx := context.Background()
				mem := ops.NewMemory()
				mem.Now = clock()
				db, _ := open(t, sqldest.Options{Now: clock(), BatchSize: batch})
				for _, d := range []ops.Destination{mem, db} {
					if err := prepare(ctx, d, []schema.Table{items}); err != nil {
						t.Fatal(err)
					}
					apply(t, d, tc.seq)
				}
				if diff := cmp.Diff(mem.Rows("items"), rows(t, db, "items")); diff != "" {
					t.Errorf("Rows mismatch (-memory +sqldest):\n%s", diff)
				}
				sameLive(t, mem, db, "items")
			})
		}
	}
}

func TestBadOperations(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, sqldest.Options{})
	if err := write1(ctx, db, op{kind: "upsert", table: "items", row: item(1, "a", 1)}); !errors.Is(err, schema.ErrUnknownTable) {
		t.Errorf("Upsert before Prepare = %v, want ErrUnknownTable", err)
	}
	if err := prepare(ctx, db, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"unknown table", func() error { return write1(ctx, db, op{kind: "upsert", table: "nope", row: item(1, "a", 1)}) }, schema.ErrUnknownTable},
		{"unknown table truncate", func() error { return write1(ctx, db, op{kind: "truncate", table: "nope"}) }, schema.ErrUnknownTable},
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
	if err := write1(cancelled, db, op{kind: "upsert", table: "items", row: item(1, "a", 1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert with a cancelled context = %v, want context.Canceled", err)
	}
	// None of these broke the transaction.
	apply(t, db, []op{
		{kind: "upsert", table: "items", row: item(1, "a", 1)},
		{kind: "checkpoint", st: mark("items", 1)},
	})
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
	if err := write1(ctx, db, op{kind: "upsert", table: "items", row: item(1, "a", 1)}); !errors.Is(err, sqldest.ErrClosed) {
		t.Errorf("Upsert after Close = %v, want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
