package ops_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// destinations returns a new Memory and a new Dir in a temporary
// directory, both prepared with tables.
func destinations(t *testing.T, tables ...schema.Table) map[string]ops.Destination {
	t.Helper()
	ctx := context.Background()
	m := ops.NewMemory()
	d, err := ops.OpenDir(t.TempDir(), ops.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	out := map[string]ops.Destination{"Memory": m, "Dir": d}
	for name, dest := range out {
		if err := dest.Prepare(ctx, tables); err != nil {
			t.Fatalf("%s.Prepare: %v", name, err)
		}
	}
	return out
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name string
		call func(ops.Destination) error
		want error
	}{
		{"upsert into unknown table", func(d ops.Destination) error { return d.Upsert(ctx, "nope", item(1, "a", 1)) }, schema.ErrUnknownTable},
		{"update of unknown table", func(d ops.Destination) error { return d.Update(ctx, "nope", item(1, "a", 1)) }, schema.ErrUnknownTable},
		{"delete from unknown table", func(d ops.Destination) error { return d.Delete(ctx, "nope", item(1, "a", 1)) }, schema.ErrUnknownTable},
		{"truncate of unknown table", func(d ops.Destination) error { return d.Truncate(ctx, "nope") }, schema.ErrUnknownTable},
		{"upsert without key", func(d ops.Destination) error { return d.Upsert(ctx, "items", schema.Row{"name": "a"}) }, schema.ErrMissingKey},
		{"upsert of nil row", func(d ops.Destination) error { return d.Upsert(ctx, "items", nil) }, schema.ErrMissingKey},
		{"update without key", func(d ops.Destination) error { return d.Update(ctx, "items", schema.Row{"qty": 1}) }, schema.ErrMissingKey},
		{"delete without key", func(d ops.Destination) error { return d.Delete(ctx, "items", schema.Row{}) }, schema.ErrMissingKey},
		{"unknown column", func(d ops.Destination) error { return d.Upsert(ctx, "items", schema.Row{"id": 1, "color": "red"}) }, schema.ErrUnknownColumn},
		{"wrong type", func(d ops.Destination) error { return d.Upsert(ctx, "items", schema.Row{"id": "one"}) }, schema.ErrWrongType},
		{"cancelled upsert", func(d ops.Destination) error { return d.Upsert(cancelled, "items", item(1, "a", 1)) }, context.Canceled},
		{"cancelled checkpoint", func(d ops.Destination) error { return d.Checkpoint(cancelled, state.New()) }, context.Canceled},
		{"cancelled prepare", func(d ops.Destination) error { return d.Prepare(cancelled, []schema.Table{items}) }, context.Canceled},
		{"invalid table", func(d ops.Destination) error {
			return d.Prepare(ctx, []schema.Table{{Name: "bad", Columns: []schema.Column{{Name: "id", Type: schema.Long}}}})
		}, schema.ErrInvalidTable},
		{"column type changed", func(d ops.Destination) error {
			changed := items
			changed.Columns = []schema.Column{{Name: "id", Type: schema.String}, {Name: "name", Type: schema.String}, {Name: "qty", Type: schema.Long}}
			return d.Prepare(ctx, []schema.Table{changed})
		}, ops.ErrSchemaChange},
		{"column dropped", func(d ops.Destination) error {
			changed := items
			changed.Columns = items.Columns[:2]
			return d.Prepare(ctx, []schema.Table{changed})
		}, ops.ErrSchemaChange},
		{"primary key changed", func(d ops.Destination) error {
			changed := items
			changed.PrimaryKey = []string{"id", "name"}
			return d.Prepare(ctx, []schema.Table{changed})
		}, ops.ErrSchemaChange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, d := range destinations(t, items) {
				err := tc.call(d)
				if !errors.Is(err, tc.want) {
					t.Errorf("%s: error %v, want one wrapping %v", name, err, tc.want)
				}
				if err != nil && err.Error()[:5] != "ops: " {
					t.Errorf("%s: error %q does not start with \"ops: \"", name, err)
				}
				// A failed operation changes nothing.
				if got, want := summaryOf(d)["items"], (ops.Summary{}); got != want {
					t.Errorf("%s: Summary after a failed operation = %+v, want %+v", name, got, want)
				}
			}
		})
	}
}

func TestNilCheckpoint(t *testing.T) {
	for name, d := range destinations(t, items) {
		if err := d.Checkpoint(context.Background(), nil); err == nil {
			t.Errorf("%s: Checkpoint(nil) succeeded, want an error", name)
		}
	}
}

func TestPrepareTwice(t *testing.T) {
	ctx := context.Background()
	for name, d := range destinations(t, items) {
		if err := d.Prepare(ctx, []schema.Table{items, items}); err == nil {
			t.Errorf("%s: Prepare with a table twice succeeded, want an error", name)
		}
		if err := d.Upsert(ctx, "items", item(1, "a", 1)); err != nil {
			t.Fatal(err)
		}
		// Declaring again with a column added keeps the rows, which read
		// the new column as NULL.
		wider := items
		wider.Columns = append(append([]schema.Column(nil), items.Columns...), schema.Column{Name: "color", Type: schema.String})
		if err := d.Prepare(ctx, []schema.Table{wider, orders}); err != nil {
			t.Fatalf("%s: Prepare with a column added: %v", name, err)
		}
		if err := d.Upsert(ctx, "items", schema.Row{"id": 2, "color": "red"}); err != nil {
			t.Fatalf("%s: Upsert with the new column: %v", name, err)
		}
		if err := d.Upsert(ctx, "orders", schema.Row{"tenant": "t", "id": 1}); err != nil {
			t.Fatalf("%s: Upsert into the new table: %v", name, err)
		}
		want := map[string]schema.Row{
			"1": {"id": int64(1), "name": "a", "qty": int64(1), "color": nil},
			"2": {"id": int64(2), "name": nil, "qty": nil, "color": "red"},
		}
		if diff := cmp.Diff(want, liveOf(t, d, "items")); diff != "" {
			t.Errorf("%s: Live mismatch (-want +got):\n%s", name, diff)
		}
	}
}

// summaryOf returns the Summary of a Memory or Dir.
func summaryOf(d ops.Destination) map[string]ops.Summary {
	return d.(interface{ Summary() map[string]ops.Summary }).Summary()
}

// liveOf returns the live rows of table of a Memory, or of a Dir after
// closing it and reading it back.
func liveOf(t *testing.T, d ops.Destination, table string) map[string]schema.Row {
	t.Helper()
	switch d := d.(type) {
	case *ops.Memory:
		return d.Live(table)
	case *ops.Dir:
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		snap, err := ops.ReadDir(d.Path())
		if err != nil {
			t.Fatal(err)
		}
		return snap.Live(table)
	}
	t.Fatalf("unknown destination %T", d)
	return nil
}

func TestMemoryRowsAreCopies(t *testing.T) {
	ctx := context.Background()
	m := ops.NewMemory()
	if err := m.Prepare(ctx, []schema.Table{users}); err != nil {
		t.Fatal(err)
	}
	row := schema.Row{"id": 1, "name": "a", "avatar": []byte("xyz")}
	if err := m.Upsert(ctx, "users", row); err != nil { // Memory takes row over
		t.Fatal(err)
	}
	live := m.Live("users")
	live["1"]["name"] = "changed"
	live["1"]["avatar"].([]byte)[0] = 'X'
	m.Rows("users")[0]["name"] = "changed"
	got := m.Live("users")["1"]
	if got["name"] != "a" || string(got["avatar"].([]byte)) != "xyz" {
		t.Errorf("the stored row changed with a copy: %v", got)
	}
	if m.Live("nope") != nil || m.Rows("nope") != nil {
		t.Error("Live or Rows of an undeclared table is not nil")
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	var m ops.Memory // the zero value works
	st, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(state.New(), st); diff != "" {
		t.Errorf("Load of a new Memory mismatch (-want +got):\n%s", diff)
	}
	s1 := state.New()
	s1.Table("items").Mark.ID = "1"
	if err := m.Checkpoint(ctx, s1); err != nil {
		t.Fatal(err)
	}
	s1.Table("items").Mark.ID = "changed after checkpoint"
	s2 := state.New()
	s2.Table("items").Mark.ID = "2"
	if err := m.Save(ctx, s2); err != nil {
		t.Fatal(err)
	}
	got, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s2, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	got.Table("items").Mark.ID = "changed after load"

	want1 := state.New()
	want1.Table("items").Mark.ID = "1"
	cps := m.Checkpoints()
	if diff := cmp.Diff([]*state.State{want1, s2}, cps); diff != "" {
		t.Errorf("Checkpoints mismatch (-want +got):\n%s", diff)
	}
	cps[0].Table("items").Mark.ID = "changed"
	if diff := cmp.Diff([]*state.State{want1, s2}, m.Checkpoints()); diff != "" {
		t.Errorf("Checkpoints returned the stored states, not copies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]ops.Summary{"": {Checkpoints: 1}}, m.Summary()); diff != "" {
		t.Errorf("Summary mismatch (-want +got):\n%s", diff)
	}
}

func TestSummary(t *testing.T) {
	ctx := context.Background()
	for name, d := range destinations(t, items, orders) {
		run(t, d, []op{
			{"upsert", "items", item(1, "a", 1)},
			{"upsert", "items", item(2, "a", 1)},
			{"update", "items", item(2, "b", 1)},
			{"delete", "items", schema.Row{"id": 9}}, // counted though missing
			{"checkpoint", "items", nil},
			{"truncate", "orders", nil},
			{"checkpoint", "orders", nil},
		})
		if err := d.(interface {
			Save(context.Context, *state.State) error
		}).Save(ctx, state.New()); err != nil {
			t.Fatal(err)
		}
		want := map[string]ops.Summary{
			"":       {Checkpoints: 2},
			"items":  {Upserts: 2, Updates: 1, Deletes: 1},
			"orders": {Truncates: 1},
		}
		if diff := cmp.Diff(want, summaryOf(d)); diff != "" {
			t.Errorf("%s: Summary mismatch (-want +got):\n%s", name, diff)
		}
	}
}

// TestConcurrent writes from several goroutines to both destinations and
// checks that they end with the same tables.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	const workers, rows = 8, 100
	dests := destinations(t, items, orders)
	for name, d := range dests {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range rows {
					id := int64(w*rows + i)
					if err := d.Upsert(ctx, "items", item(id, fmt.Sprint("w", w), int64(i))); err != nil {
						t.Errorf("%s: Upsert: %v", name, err)
						return
					}
					if err := d.Upsert(ctx, "orders", schema.Row{"tenant": fmt.Sprint(w), "id": id, "total": "1.5"}); err != nil {
						t.Errorf("%s: Upsert: %v", name, err)
						return
					}
					if i%3 == 0 {
						if err := d.Update(ctx, "items", schema.Row{"id": id, "qty": int64(-1)}); err != nil {
							t.Errorf("%s: Update: %v", name, err)
						}
					}
					if i%5 == 0 {
						if err := d.Delete(ctx, "orders", schema.Row{"tenant": fmt.Sprint(w), "id": id}); err != nil {
							t.Errorf("%s: Delete: %v", name, err)
						}
					}
					if i%50 == 49 {
						st := state.New()
						st.Table("items").Mark.ID = fmt.Sprint(id)
						if err := d.Checkpoint(ctx, st); err != nil {
							t.Errorf("%s: Checkpoint: %v", name, err)
						}
					}
				}
			})
		}
		wg.Go(func() {
			for range 20 {
				summaryOf(d)
				if m, ok := d.(*ops.Memory); ok {
					m.Live("items")
					m.Rows("orders")
					m.Checkpoints()
				}
			}
		})
		wg.Wait()
		want := ops.Summary{Upserts: workers * rows, Updates: workers * 34}
		if got := summaryOf(d)["items"]; got != want {
			t.Errorf("%s: items Summary = %+v, want %+v", name, got, want)
		}
	}
	for _, table := range []string{"items", "orders"} {
		m := liveOf(t, dests["Memory"], table)
		if got, want := len(m), map[string]int{"items": workers * rows, "orders": workers * rows * 4 / 5}[table]; got != want {
			t.Errorf("Memory has %d live %s, want %d", got, table, want)
		}
		if diff := cmp.Diff(m, liveOf(t, dests["Dir"], table)); diff != "" {
			t.Errorf("%s: Dir differs from Memory (-memory +dir):\n%s", table, diff)
		}
	}
}
