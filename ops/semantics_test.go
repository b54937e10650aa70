package ops_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

func item(id int64, name string, qty int64) schema.Row {
	return schema.Row{"id": id, "name": name, "qty": qty}
}

// system returns row with the system columns added.
func system(row schema.Row, synced int, deleted bool) schema.Row {
	out := schema.Row{ops.SyncedColumn: at(synced), ops.DeletedColumn: deleted}
	for k, v := range row {
		out[k] = v
	}
	return out
}

// TestSemantics runs each operation sequence on a Memory, checks its
// rows, then runs it on a Dir and checks that ReadDir gives the same.
func TestSemantics(t *testing.T) {
	for _, tc := range []struct {
		name     string
		seq      func() []op
		wantRows []schema.Row // with system columns, sorted by key
	}{
		{
			name: "upsert inserts",
			seq:  func() []op { return []op{{"upsert", "items", item(1, "a", 1)}} },
			wantRows: []schema.Row{
				system(item(1, "a", 1), 1, false),
			},
		},
		{
			name: "upsert replaces the whole row",
			seq: func() []op {
				return []op{
					{"upsert", "items", item(1, "a", 1)},
					{"upsert", "items", schema.Row{"id": int64(1), "name": "b"}},
				}
			},
			wantRows: []schema.Row{
				system(schema.Row{"id": int64(1), "name": "b", "qty": nil}, 2, false),
			},
		},
		{
			name: "update merges into the row",
			seq: func() []op {
				return []op{
					{"upsert", "items", item(1, "a", 1)},
					{"update", "items", schema.Row{"id": int64(1), "qty": int64(5)}},
				}
			},
			wantRows: []schema.Row{system(item(1, "a", 5), 2, false)},
		},
		{
			name: "update sets a column to NULL",
			seq: func() []op {
				return []op{
					{"upsert", "items", item(1, "a", 1)},
					{"update", "items", schema.Row{"id": int64(1), "name": nil}},
				}
			},
			wantRows: []schema.Row{system(schema.Row{"id": int64(1), "name": nil, "qty": int64(1)}, 2, false)},
		},
		{
			name: "update of a missing row inserts the given columns",
			seq: func() []op {
				return []op{{"update", "items", schema.Row{"id": int64(2), "name": "x"}}}
			},
			wantRows: []schema.Row{system(schema.Row{"id": int64(2), "name": "x", "qty": nil}, 1, false)},
		},
		{
			name: "update of a deleted row starts afresh",
			seq: func() []op {
				return []op{
					{"upsert", "items", item(1, "a", 1)},
					{"delete", "items", schema.Row{"id": int64(1)}},
					{"update", "items", schema.Row{"id": int64(1), "qty": int64(2)}},
				}
			},
			wantRows: []schema.Row{system(schema.Row{"id": int64(1), "name": nil, "qty": int64(2)}, 3, false)},
		},
		{
			name: "delete marks the row deleted",
			seq: func() []op {
				return []op{
					{"upsert", "items", item(1, "a", 1)},
					{"upsert", "items", item(2, "b", 2)},
					{"delete", "items", schema.Row{"id": int64(1), "name": "ignored"}},
				}
			},
			wantRows: []schema.Row{
				system(item(1, "a", 1), 3, true),
				system(item(2, "b", 2), 2, false),
			},
		},
		{
			name: "delete of a missing row does nothing",
			seq: func() []op {
				return []op{{"delete", "items", schema.Row{"id": int64(3)}}}
			},
			wantRows: []schema.Row{},
		},
		{
			name: "delete of a deleted row keeps its time",
			seq: func() []op {
				return []op{
					{"upsert", "items", item(1, "a", 1)},
					{"delete", "items", schema.Row{"id": int64(1)}},
					{"delete", "items", schema.Row{"id": int64(1)}},
				}
			},
			wantRows: []schema.Row{system(item(1, "a", 1), 2, true)},
		},
		{
			name: "upsert revives a deleted row",
			seq: func() []op {
				return []op{
					{"upsert", "items", item(1, "a", 1)},
					{"delete", "items", schema.Row{"id": int64(1)}},
					{"upsert", "items", item(1, "c", 3)},
				}
			},
			wantRows: []schema.Row{system(item(1, "c", 3), 3, false)},
		},
		{
			name: "truncate then upsert",
			seq: func() []op {
				return []op{
					{"upsert", "items", item(1, "a", 1)},
					{"upsert", "items", item(2, "b", 2)},
					{"checkpoint", "items", nil},
					{"truncate", "items", nil},
					{"upsert", "items", item(2, "b2", 20)},
					{"upsert", "items", item(3, "c", 30)},
				}
			},
			wantRows: []schema.Row{
				system(item(1, "a", 1), 3, true),
				system(item(2, "b2", 20), 4, false),
				system(item(3, "c", 30), 5, false),
			},
		},
		{
			name: "truncate of an empty table",
			seq: func() []op {
				return []op{{"truncate", "items", nil}, {"truncate", "items", nil}}
			},
			wantRows: []schema.Row{},
		},
		{
			name: "values are converted to canonical types",
			seq: func() []op {
				return []op{{"upsert", "items", schema.Row{"id": 7, "name": "n", "qty": int32(3)}}}
			},
			wantRows: []schema.Row{system(item(7, "n", 3), 1, false)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m := ops.NewMemory()
			m.Now = clock()
			if err := m.Prepare(ctx, []schema.Table{items}); err != nil {
				t.Fatal(err)
			}
			run(t, m, tc.seq())
			got := m.Rows("items")
			if diff := cmp.Diff(tc.wantRows, got); diff != "" {
				t.Errorf("Memory.Rows mismatch (-want +got):\n%s", diff)
			}
			wantLive := map[string]schema.Row{}
			for _, r := range tc.wantRows {
				if r[ops.DeletedColumn] == false {
					live := schema.Row{}
					for k, v := range r {
						if k != ops.SyncedColumn && k != ops.DeletedColumn {
							live[k] = v
						}
					}
					wantLive[items.KeyOf(live)] = live
				}
			}
			if diff := cmp.Diff(wantLive, m.Live("items")); diff != "" {
				t.Errorf("Memory.Live mismatch (-want +got):\n%s", diff)
			}

			path := filepath.Join(t.TempDir(), "dest")
			d, err := ops.OpenDir(path, ops.DirOptions{Now: clock()})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Prepare(ctx, []schema.Table{items}); err != nil {
				t.Fatal(err)
			}
			run(t, d, tc.seq())
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			snap, err := ops.ReadDir(path)
			if err != nil {
				t.Fatalf("ReadDir: %v", err)
			}
			if diff := cmp.Diff(got, snap.Rows("items")); diff != "" {
				t.Errorf("Dir replayed differs from Memory (-memory +dir):\n%s", diff)
			}
			if diff := cmp.Diff(m.Live("items"), snap.Live("items")); diff != "" {
				t.Errorf("Dir Live differs from Memory (-memory +dir):\n%s", diff)
			}
			if diff := cmp.Diff(m.Summary(), d.Summary()); diff != "" {
				t.Errorf("Summary differs (-memory +dir):\n%s", diff)
			}
		})
	}
}
