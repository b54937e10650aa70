package sqldest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

func withColumns(t schema.Table, cols ...schema.Column) schema.Table {
	t.Columns = append(append([]schema.Column(nil), t.Columns...), cols...)
	return t
}

func TestRemovedColumnIsKept(t *testing.T) {
	ctx := context.Background()
	db, path := open(t, sqldest.Options{})
	prepare(t, db, items)
	apply(t, db, []schema.Table{items},
		opstest.Upsert("items", item(1, "a", 1)),
		opstest.Upsert("items", item(2, "b", 2)),
		opstest.Checkpoint(mark("items", 1)),
	)
	db.Close()

	v2 := items
	v2.Columns = []schema.Column{{Name: "id", Type: schema.Long}, {Name: "name", Type: schema.String}}
	db = reopen(t, path, sqldest.Options{})
	prepare(t, db, v2)
	apply(t, db, []schema.Table{v2},
		opstest.Update("items", schema.Row{"id": int64(1), "name": "a2"}), // qty kept
		opstest.Upsert("items", schema.Row{"id": int64(2), "name": "b2"}), // qty NULL
		opstest.Upsert("items", schema.Row{"id": int64(3), "name": "c"}),
		opstest.Checkpoint(mark("items", 2)),
	)
	want := map[string]schema.Row{
		"1": {"id": int64(1), "name": "a2"},
		"2": {"id": int64(2), "name": "b2"},
		"3": {"id": int64(3), "name": "c"},
	}
	if diff := cmp.Diff(want, live(t, db, "items")); diff != "" {
		t.Errorf("Live without the removed column (-want +got):\n%s", diff)
	}
	var qty []any
	r, err := db.SQL().QueryContext(ctx, `SELECT qty FROM items ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var v any
		if err := r.Scan(&v); err != nil {
			t.Fatal(err)
		}
		qty = append(qty, v)
	}
	r.Close()
	if diff := cmp.Diff([]any{int64(1), nil, nil}, qty); diff != "" {
		t.Errorf("the removed column qty (-want +got):\n%s", diff)
	}
}

func TestIncompatibleChanges(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		table schema.Table
		want  []string // in the error
	}{
		{"type changed", func() schema.Table {
			t := withColumns(items)
			t.Columns[2].Type = schema.Decimal
			return t
		}(), []string{`"items"`, `"qty"`, "LONG INTEGER", "DECIMAL TEXT"}},
		{"key column removed", schema.Table{Name: "items", PrimaryKey: []string{"name"}, Columns: []schema.Column{{Name: "name", Type: schema.String}}}, []string{`"items"`, "primary key", "(id)", "(name)"}},
		{"key changed", schema.Table{Name: "items", PrimaryKey: []string{"id", "name"}, Columns: items.Columns}, []string{"primary key", "(id, name)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, path := open(t, sqldest.Options{})
			prepare(t, db, items)
			apply(t, db, []schema.Table{items}, opstest.Upsert("items", item(1, "a", 1)), opstest.Checkpoint(mark("items", 1)))
			db.Close()
			db = reopen(t, path, sqldest.Options{})
			// Another table in the same call, to check that a failing
			// Prepare changes nothing.
			other := schema.Table{Name: "other", PrimaryKey: []string{"k"}, Columns: []schema.Column{{Name: "k", Type: schema.String}}}
			err := db.Prepare(ctx, []schema.Table{other, tc.table})
			if !errors.Is(err, ops.ErrSchemaChange) {
				t.Fatalf("Prepare = %v, want ErrSchemaChange", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'other'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("table other after the failed Prepare: %d, %v; want none", n, err)
			}
			if err := opstest.Apply(ctx, db, []schema.Table{other}, opstest.Upsert("other", schema.Row{"k": "x"})); !errors.Is(err, schema.ErrUnknownTable) {
				t.Errorf("Upsert into a table of the failed Prepare = %v, want ErrUnknownTable", err)
			}
			// The old declaration still works.
			prepare(t, db, items)
			if n := len(live(t, db, "items")); n != 1 {
				t.Errorf("rows = %d, want 1", n)
			}
		})
	}
}

// quoted has names that need quoting: reserved words, spaces, quotes.
var quoted = schema.Table{
	Name:       `order "details"`,
	PrimaryKey: []string{"select", "from"},
	Columns: []schema.Column{
		{Name: "select", Type: schema.String},
		{Name: "from", Type: schema.Long},
		{Name: "group by", Type: schema.String},
		{Name: `it's "quoted"`, Type: schema.Decimal},
		{Name: "where;--", Type: schema.Boolean},
		{Name: "ключ", Type: schema.UTCDateTime},
	},
}

func TestQuotedNames(t *testing.T) {
	ctx := context.Background()
	order := schema.Table{Name: "order", PrimaryKey: []string{"index"}, Columns: []schema.Column{{Name: "index", Type: schema.Long}, {Name: "table", Type: schema.String}}}
	row := func(sel string, from int64, g string) schema.Row {
		return schema.Row{"select": sel, "from": from, "group by": g, `it's "quoted"`: "1.5", "where;--": true, "ключ": t0}
	}
	seq := []opstest.Step{
		opstest.Upsert(quoted.Name, row("a", 1, "x")),
		opstest.Upsert(quoted.Name, row("a", 2, "y")),
		opstest.Upsert("order", schema.Row{"index": int64(1), "table": "t"}),
		opstest.Update(quoted.Name, schema.Row{"select": "a", "from": int64(1), "group by": "z"}),
		opstest.Delete(quoted.Name, schema.Row{"select": "a", "from": int64(2)}),
		opstest.Checkpoint(mark(quoted.Name, 1)),
		opstest.Truncate("order"),
		opstest.Upsert("order", schema.Row{"index": int64(2), "table": "u"}),
		opstest.Checkpoint(mark(quoted.Name, 2)),
	}
	mem := ops.NewMemory()
	db, path := open(t, sqldest.Options{})
	for _, d := range []ops.Destination{mem, db} {
		prepare(t, d, quoted, order)
		apply(t, d, []schema.Table{quoted, order}, seq...)
	}
	sameLive(t, mem, db, quoted.Name)
	sameLive(t, mem, db, "order")
	db.Close()
	db = reopen(t, path, sqldest.Options{})
	v2 := withColumns(quoted, schema.Column{Name: `new "col"`, Type: schema.JSON})
	prepare(t, db, v2, order)
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM "order" WHERE "_connector_deleted" = 0`).Scan(&n); err != nil || n != 1 {
		t.Errorf(`live rows of "order" = %d, %v; want 1`, n, err)
	}
}

func TestInvalidNames(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, sqldest.Options{})
	prepare(t, db, items)
	one := func(name string, cols ...string) schema.Table {
		t := schema.Table{Name: name, PrimaryKey: []string{cols[0]}}
		for _, c := range cols {
			t.Columns = append(t.Columns, schema.Column{Name: c, Type: schema.String})
		}
		return t
	}
	for _, tc := range []struct {
		name   string
		tables []schema.Table
	}{
		{"state table", []schema.Table{one("_Connector_State", "id")}},
		{"tables differing in case", []schema.Table{one("user", "id"), one("User", "id")}},
		{"a table declared before, in another case", []schema.Table{one("ITEMS", "id")}},
		{"declared twice", []schema.Table{one("t", "id"), one("t", "id")}},
		{"columns differing in case", []schema.Table{one("t", "id", "ID")}},
		{"NUL in a name", []schema.Table{one("t\x00", "id")}},
		{"invalid table", []schema.Table{{Name: "t"}}},
	} {
		if err := db.Prepare(ctx, tc.tables); !errors.Is(err, schema.ErrInvalidTable) {
			t.Errorf("%s: Prepare = %v, want ErrInvalidTable", tc.name, err)
		}
	}
}

// TestPrepareInOpenTransaction declares tables while operations wait for
// their checkpoint: they stay pending, and a failing Prepare undoes only
// itself.
func TestPrepareInOpenTransaction(t *testing.T) {
	ctx := context.Background()
	db, path := open(t, sqldest.Options{BatchSize: 1})
	prepare(t, db, items)
	apply(t, db, []schema.Table{items}, opstest.Upsert("items", item(1, "a", 1)))
	v2 := withColumns(items, schema.Column{Name: "price", Type: schema.Decimal})
	bad := withColumns(items)
	bad.Columns[1].Type = schema.Long
	if err := db.Prepare(ctx, []schema.Table{bad}); !errors.Is(err, ops.ErrSchemaChange) {
		t.Fatalf("Prepare = %v, want ErrSchemaChange", err)
	}
	prepare(t, db, v2, wide)
	apply(t, db, []schema.Table{v2, wide},
		opstest.Upsert("items", schema.Row{"id": int64(2), "price": "2.50"}),
		opstest.Upsert("wide", schema.Row{"tenant": "t", "id": int64(1), "day": t0}),
	)
	// Not committed: another connection sees neither the rows nor the
	// new column and table.
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'wide'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("wide seen by another connection before the checkpoint: %d, %v", n, err)
	}
	apply(t, db, nil, opstest.Checkpoint(mark("items", 1)))
	db.Close()
	db = reopen(t, path, sqldest.Options{})
	prepare(t, db, v2, wide)
	want := map[string]schema.Row{
		"1": {"id": int64(1), "name": "a", "qty": int64(1), "price": nil},
		"2": {"id": int64(2), "name": nil, "qty": nil, "price": "2.50"},
	}
	if diff := cmp.Diff(want, live(t, db, "items")); diff != "" {
		t.Errorf("Live (-want +got):\n%s", diff)
	}
	if n := len(live(t, db, "wide")); n != 1 {
		t.Errorf("wide rows = %d, want 1", n)
	}
}
