package pgdest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/schema"
)

// TestNames writes tables and columns with names that need quoting and
// reads them back.
func TestNames(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("é", 31) + "x" // 63 bytes
	odd := schema.Table{
		Name:       `select "x" from; --`,
		PrimaryKey: []string{"Key"},
		Columns: []schema.Column{
			{Name: "Key", Type: schema.String},
			{Name: "key", Type: schema.String}, // another column: names keep their case
			{Name: "a b", Type: schema.Long},
			{Name: `q"uote`, Type: schema.Boolean},
			{Name: long, Type: schema.String},
			{Name: "order", Type: schema.Int},
		},
	}
	db, _ := open(t, &pgdest.Options{Schema: "ignored"})
	if err := db.Prepare(ctx, []schema.Table{odd}); err != nil {
		t.Fatal(err)
	}
	c, _ := odd.Compile()
	compiled[odd.Name] = c
	row := schema.Row{"Key": "K", "key": "k", "a b": int64(1), `q"uote`: true, long: "l", "order": int64(2)}
	apply(t, db, []op{{kind: ops.OpUpsert, table: odd.Name, row: row}, {st: mark(odd.Name, 1)}}, 0)
	got := live(t, db, odd.Name)
	if diff := cmp.Diff(map[string]schema.Row{"K": row}, got); diff != "" {
		t.Errorf("Live mismatch (-want +got):\n%s", diff)
	}
}

func TestBadNames(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, &pgdest.Options{})
	long := strings.Repeat("x", 64)
	for _, tc := range []struct {
		name  string
		table schema.Table
	}{
		{"table name of 64 bytes", schema.Table{Name: long, PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}}}},
		{"column name of 64 bytes", schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}, {Name: long, Type: schema.Long}}}},
		{"NUL in a table name", schema.Table{Name: "t\x00", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}}}},
		{"NUL in a column name", schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id\x00", Type: schema.Long}}}},
		{"invalid UTF-8", schema.Table{Name: "t\xfe", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}}}},
		{"the state table", schema.Table{Name: pgdest.StateTable, PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}}}},
		{"too many columns", func() schema.Table {
			t := schema.Table{Name: "t", PrimaryKey: []string{"c0"}}
			for i := range 1600 {
				t.Columns = append(t.Columns, schema.Column{Name: "c" + string(rune('0'+i%10)) + strings.Repeat("x", i/10), Type: schema.Long})
			}
			return t
		}()},
	} {
		err := db.Prepare(ctx, []schema.Table{tc.table})
		if !errors.Is(err, schema.ErrInvalidTable) {
			t.Errorf("%s: Prepare = %v, want an error wrapping ErrInvalidTable", tc.name, err)
		}
	}
	if _, err := pgdest.Open(ctx, "postgres://127.0.0.1:1/x", pgdest.Options{Schema: long}); !errors.Is(err, schema.ErrInvalidTable) {
		t.Errorf("Open with a schema name of 64 bytes = %v, want an error wrapping ErrInvalidTable", err)
	}
	// The DB still works.
	if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: item(1, "a", 1)}, {st: mark("items", 1)}}, 0)
}

// TestEvolution adds a column, keeps one no longer declared, and
// refuses a changed type or key.
func TestEvolution(t *testing.T) {
	ctx := context.Background()
	opts := pgdest.Options{}
	db, dsn := open(t, &opts)
	if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: item(1, "a", 1)}, {st: mark("items", 1)}}, 0)
	db.Close()

	// A column added, "qty" no longer declared.
	v2 := schema.Table{Name: "items", PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", Type: schema.Long}, {Name: "name", Type: schema.String}, {Name: "price", Type: schema.Decimal},
	}}
	c2, _ := v2.Compile()
	db = reopen(t, dsn, opts)
	if err := db.Prepare(ctx, []schema.Table{v2}); err != nil {
		t.Fatal(err)
	}
	compiled["items"] = c2
	defer func() { compiled["items"], _ = items.Compile() }()
	got := live(t, db, "items")
	if diff := cmp.Diff(map[string]schema.Row{"1": {"id": int64(1), "name": "a", "price": nil}}, got); diff != "" {
		t.Errorf("after adding a column (-want +got):\n%s", diff)
	}
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: schema.Row{"id": int64(2), "name": "b", "price": "1.50"}}, {st: mark("items", 2)}}, 0)
	var qty *int64
	conn := pgConn(t, dsn)
	if err := conn.QueryRow(ctx, `SELECT qty FROM `+opts.Schema+`.items WHERE id = 1`).Scan(&qty); err != nil || qty == nil || *qty != 1 {
		t.Errorf("kept column of an untouched row = %v, %v, want 1", qty, err)
	}
	if err := conn.QueryRow(ctx, `SELECT qty FROM `+opts.Schema+`.items WHERE id = 2`).Scan(&qty); err != nil || qty != nil {
		t.Errorf("kept column of an upserted row = %v, %v, want NULL", qty, err)
	}

	for _, tc := range []struct {
		name  string
		table schema.Table
		want  string
	}{
		{"type changed", schema.Table{Name: "items", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}, {Name: "name", Type: schema.Long}}},
			`column "name" changed type from text to bigint`},
		{"key changed", schema.Table{Name: "items", PrimaryKey: []string{"id", "name"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}, {Name: "name", Type: schema.String}}},
			"primary key changed from (id) to (id, name)"},
	} {
		err := db.Prepare(ctx, []schema.Table{tc.table})
		if !errors.Is(err, ops.ErrSchemaChange) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Prepare = %v, want ErrSchemaChange saying %q", tc.name, err, tc.want)
		}
	}
	// A failed Prepare changed nothing; the DB goes on.
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: schema.Row{"id": int64(3), "name": "c"}}, {st: mark("items", 3)}}, 0)
	if n := len(live(t, db, "items")); n != 3 {
		t.Errorf("rows = %d, want 3", n)
	}
}

// TestForeignTables refuses tables this package did not make, and
// adopts one of the right shape.
func TestForeignTables(t *testing.T) {
	ctx := context.Background()
	opts := pgdest.Options{}
	db, dsn := open(t, &opts)
	s := opts.Schema
	for _, q := range []string{
		`CREATE TABLE ` + s + `.plain (id bigint PRIMARY KEY, name text, qty bigint)`,
		`CREATE VIEW ` + s + `.aview AS SELECT 1 AS id`,
		`CREATE TABLE ` + s + `.nokey (id bigint, name text, qty bigint, _connector_synced timestamptz, _connector_deleted boolean)`,
		`CREATE TABLE ` + s + `.adopted (id bigint PRIMARY KEY, name text, qty bigint, _connector_synced timestamptz NOT NULL, _connector_deleted boolean NOT NULL DEFAULT false)`,
		`INSERT INTO ` + s + `.adopted VALUES (1, 'a', 1, now(), false), (2, 'b', 2, now(), true)`,
	} {
		if err := pgtest.Exec(ctx, dsn, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"plain", "aview", "nokey"} {
		tb := items
		tb.Name = name
		if err := db.Prepare(ctx, []schema.Table{tb}); !errors.Is(err, ops.ErrSchemaChange) {
			t.Errorf("Prepare(%s) = %v, want ErrSchemaChange", name, err)
		}
	}
	tb := items
	tb.Name = "adopted"
	if err := db.Prepare(ctx, []schema.Table{tb}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Its rows are recorded: deleting one is seen.
	if err := pgtest.Exec(ctx, dsn, `DELETE FROM `+s+`.adopted WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, dsn, opts)
	if err := db.Prepare(ctx, []schema.Table{tb}); !errors.Is(err, ops.ErrCorrupt) {
		t.Errorf("Prepare after a row of an adopted table was deleted = %v, want ErrCorrupt", err)
	}
}

// TestDamagedTables detects a table dropped, emptied or changed outside
// the sync, at the next Prepare.
func TestDamagedTables(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"dropped", "DROP TABLE %s.items", "the table is missing, though the last checkpoint recorded 3 rows"},
		{"truncated", "TRUNCATE %s.items", "the table holds 0 rows, but the last checkpoint recorded 3"},
		{"rows deleted", "DELETE FROM %s.items WHERE id = 1", "holds 2 rows"},
		{"a row added", "INSERT INTO %s.items VALUES (9, 'x', 9, now(), false)", "holds 4 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := pgdest.Options{}
			db, dsn := open(t, &opts)
			if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
				t.Fatal(err)
			}
			apply(t, db, []op{
				{kind: ops.OpUpsert, table: "items", row: item(1, "a", 1)},
				{kind: ops.OpUpsert, table: "items", row: item(2, "b", 2)},
				{kind: ops.OpUpsert, table: "items", row: item(3, "c", 3)},
				{kind: ops.OpDelete, table: "items", row: schema.Row{"id": int64(3)}},
				{st: mark("items", 1)},
			}, 0)
			db.Close()
			if err := pgtest.Exec(ctx, dsn, strings.ReplaceAll(tc.sql, "%s", opts.Schema)); err != nil {
				t.Fatal(err)
			}
			db = reopen(t, dsn, opts)
			load(t, db)
			err := db.Prepare(ctx, []schema.Table{items})
			if !errors.Is(err, ops.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Prepare = %v, want ErrCorrupt saying %q", err, tc.want)
			}
			// Nothing was recreated.
			if err := db.Prepare(ctx, []schema.Table{items}); !errors.Is(err, ops.ErrCorrupt) {
				t.Errorf("second Prepare = %v, want ErrCorrupt", err)
			}
		})
	}
}
