package pgdest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/schema"
)

// TestSameAsMemory runs the same random operations through ops.Memory
// and a DB, in random batches, with buffers flushed after 1, 2, 5 or
// many rows (so that a batch's operations on one row fall in one staged
// segment or in several), and compares every row, deleted ones and the
// synced times included, at every checkpoint.
func TestSameAsMemory(t *testing.T) {
	for _, flush := range []int{1, 2, 5, 0} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("flush %d seed %d", flush, seed), func(t *testing.T) {
				ctx := context.Background()
				r := rand.New(rand.NewPCG(seed, uint64(flush)))
				seq := randomOps(r, 300)
				mem := ops.NewMemory()
				mem.Now = clock()
				db, _ := open(t, &pgdest.Options{Now: clock(), FlushRows: flush})
				for _, d := range []ops.Destination{mem, db} {
					if err := d.Prepare(ctx, []schema.Table{wide}); err != nil {
						t.Fatal(err)
					}
				}
				start := 0
				for i := 0; i <= len(seq); i++ {
					if i < len(seq) && seq[i].kind != 0 && r.IntN(4) > 0 {
						continue
					}
					// A batch ends here.
					batch := seq[start:min(i+1, len(seq))]
					start = i + 1
					for _, d := range []ops.Destination{mem, db} {
						apply(t, d, batch, 0)
					}
					if i < len(seq) && seq[i].kind == 0 {
						sameRows(t, mem, db, "wide")
					}
				}
				sameRows(t, mem, db, "wide")
				if diff := cmp.Diff(mem.Summary(), db.Summary()); diff != "" {
					t.Errorf("Summary mismatch (-memory +pgdest):\n%s", diff)
				}
			})
		}
	}
}

// TestOrder checks, against Memory, that the operations of one batch on
// the same rows take effect in their order, within one staged segment
// (flush 0) and across segments (flush 1).
func TestOrder(t *testing.T) {
	del := func(id int64) op { return op{kind: ops.OpDelete, table: "items", row: schema.Row{"id": id}} }
	up := func(id int64, name string, qty int64) op {
		return op{kind: ops.OpUpsert, table: "items", row: item(id, name, qty)}
	}
	upd := func(row schema.Row) op { return op{kind: ops.OpUpdate, table: "items", row: row} }
	trunc := op{kind: ops.OpTruncate, table: "items"}
	label := func(it int64, l, color string) op {
		return op{kind: ops.OpUpsert, table: "labels", row: schema.Row{"item": it, "label": l, "color": color}}
	}
	children := func(it int64) op {
		return op{kind: ops.OpDeleteChildren, table: "labels", row: schema.Row{"item": it}}
	}
	cp := op{st: mark("items", 1)}
	for _, tc := range []struct {
		name string
		seq  []op
	}{
		{"upsert then delete", []op{up(1, "a", 1), del(1)}},
		{"delete then upsert", []op{up(1, "a", 1), cp, del(1), up(1, "b", 2)}},
		{"upsert replaces the whole row", []op{up(1, "a", 1), upd(schema.Row{"id": int64(1), "qty": int64(5)}), up(1, "b", 2)}},
		{"updates merge", []op{up(1, "a", 1), cp, upd(schema.Row{"id": int64(1), "qty": int64(5)}), upd(schema.Row{"id": int64(1), "name": nil})}},
		{"update of a missing row", []op{upd(schema.Row{"id": int64(2), "name": "x"}), upd(schema.Row{"id": int64(2), "qty": int64(3)})}},
		{"update after delete starts afresh", []op{up(1, "a", 1), cp, del(1), upd(schema.Row{"id": int64(1), "qty": int64(2)})}},
		{"update then delete keeps the merged values", []op{up(1, "a", 1), cp, upd(schema.Row{"id": int64(1), "qty": int64(9)}), del(1)}},
		{"update, delete, update", []op{up(1, "a", 1), cp, upd(schema.Row{"id": int64(1), "qty": int64(9)}), del(1), upd(schema.Row{"id": int64(1), "name": "z"})}},
		{"update with every column", []op{up(1, "a", 1), cp, del(1), upd(schema.Row{"id": int64(1), "name": "n", "qty": int64(4)})}},
		{"deleting twice keeps the first time", []op{up(1, "a", 1), cp, del(1), del(1), del(3)}},
		{"truncate then upsert", []op{up(1, "a", 1), up(2, "b", 2), cp, up(3, "c", 3), trunc, trunc, up(2, "b2", 20), up(4, "d", 4)}},
		{"truncate then update and delete", []op{up(1, "a", 1), up(2, "b", 2), cp, trunc, upd(schema.Row{"id": int64(1), "qty": int64(7)}), del(2)}},
		{"delete children then upsert children", []op{
			label(1, "bug", "red"), label(1, "ui", "blue"), label(2, "bug", "red"), {st: mark("labels", 1)},
			children(1), label(1, "bug", "orange"), label(1, "new", "green"),
			children(2),
		}},
		{"children replaced twice in a batch", []op{
			label(1, "a", "1"), label(1, "b", "1"), {st: mark("labels", 1)},
			children(1), label(1, "a", "2"), label(1, "c", "2"),
			children(1), label(1, "c", "3"),
		}},
		{"children then delete and update", []op{
			label(1, "a", "1"), label(1, "b", "1"), label(1, "c", "1"), {st: mark("labels", 1)},
			children(1), op{kind: ops.OpDelete, table: "labels", row: schema.Row{"item": int64(1), "label": "a"}},
			op{kind: ops.OpUpdate, table: "labels", row: schema.Row{"item": int64(1), "label": "b", "color": "9"}},
		}},
		{"children and truncate", []op{
			label(1, "a", "1"), label(2, "b", "1"), {st: mark("labels", 1)},
			children(1), label(1, "a", "2"), {kind: ops.OpTruncate, table: "labels"}, label(2, "z", "3"), children(2), label(2, "y", "4"),
		}},
	} {
		for _, flush := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/flush %d", tc.name, flush), func(t *testing.T) {
				ctx := context.Background()
				mem := ops.NewMemory()
				mem.Now = clock()
				db, _ := open(t, &pgdest.Options{Now: clock(), FlushRows: flush})
				for _, d := range []ops.Destination{mem, db} {
					if err := d.Prepare(ctx, []schema.Table{items, labels}); err != nil {
						t.Fatal(err)
					}
					apply(t, d, tc.seq, 0)
				}
				sameRows(t, mem, db, "items")
				sameRows(t, mem, db, "labels")
			})
		}
	}
}
