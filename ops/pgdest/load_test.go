package pgdest_test

import (
	"context"
	"testing"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/schema"
)

// hasKey reports whether table of schema has a primary key, and the
// tables the state row lists as loaded without one.
func hasKey(t *testing.T, dsn, schemaName, table string) (bool, []string) {
	t.Helper()
	ctx := context.Background()
	conn := pgConn(t, dsn)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE s.nspname = $1 AND c.relname = $2 AND i.indisprimary`, schemaName, table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var unkeyed []string
	if err := conn.QueryRow(ctx, `SELECT unkeyed FROM `+schemaName+`._connector_state`).Scan(&unkeyed); err != nil {
		t.Fatal(err)
	}
	return n == 1, unkeyed
}

// TestUnkeyedLoad loads a new table without its primary key, and builds
// the key at the first operation that needs it, at Close, or at the
// Prepare after a crash.
func TestUnkeyedLoad(t *testing.T) {
	ctx := context.Background()
	newRows := []op{
		{kind: ops.OpUpsert, table: "items", row: item(1, "a", 1)},
		{kind: ops.OpUpsert, table: "items", row: item(2, "b", 2)},
		{kind: ops.OpUpsert, table: "items", row: item(1, "a2", 3)}, // the same segment: replaced
		{st: mark("items", 1)},
		{kind: ops.OpUpsert, table: "items", row: item(3, "c", 3)},
		{st: mark("items", 2)},
	}
	check := func(t *testing.T, db *pgdest.DB, dsn, name string, keyed bool, seq []op) {
		t.Helper()
		mem := ops.NewMemory()
		mem.Now = clock()
		if err := mem.Prepare(ctx, []schema.Table{items}); err != nil {
			t.Fatal(err)
		}
		apply(t, mem, seq, 0)
		if diff := rowsDiff(mem, db, "items"); diff != "" {
			t.Errorf("rows (-memory +pgdest):\n%s", diff)
		}
		if got, unkeyed := hasKey(t, dsn, name, "items"); got != keyed || (len(unkeyed) == 0) != keyed {
			t.Errorf("primary key = %v, unkeyed tables %q; want key %v", got, unkeyed, keyed)
		}
	}
	t.Run("new keys stay unkeyed, Close builds the key", func(t *testing.T) {
		opts := pgdest.Options{Now: clock()}
		db, dsn := open(t, &opts)
		if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
			t.Fatal(err)
		}
		apply(t, db, newRows, 0)
		check(t, db, dsn, opts.Schema, false, newRows)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if got, unkeyed := hasKey(t, dsn, opts.Schema, "items"); !got || len(unkeyed) != 0 {
			t.Errorf("after Close: primary key %v, unkeyed %q; want a key", got, unkeyed)
		}
	})
	for _, tc := range []struct {
		name string
		next op
	}{
		{"a key loaded before", op{kind: ops.OpUpsert, table: "items", row: item(2, "b2", 20)}},
		{"an update", op{kind: ops.OpUpdate, table: "items", row: schema.Row{"id": int64(3), "qty": int64(30)}}},
		{"a delete", op{kind: ops.OpDelete, table: "items", row: schema.Row{"id": int64(1)}}},
		{"a truncate", op{kind: ops.OpTruncate, table: "items"}},
	} {
		t.Run(tc.name+" builds the key", func(t *testing.T) {
			opts := pgdest.Options{Now: clock(), FlushRows: 1}
			db, dsn := open(t, &opts)
			if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
				t.Fatal(err)
			}
			seq := append(append([]op{}, newRows...), tc.next, op{kind: ops.OpUpsert, table: "items", row: item(9, "z", 9)}, op{st: mark("items", 3)})
			apply(t, db, seq, 0)
			check(t, db, dsn, opts.Schema, true, seq)
		})
	}
	t.Run("a crash leaves the table unkeyed, the next Prepare builds the key", func(t *testing.T) {
		opts := pgdest.Options{Now: clock()}
		db, dsn := open(t, &opts)
		if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
			t.Fatal(err)
		}
		apply(t, db, newRows, 0)
		if err := pgdest.Crash(db); err != nil {
			t.Fatal(err)
		}
		if got, _ := hasKey(t, dsn, opts.Schema, "items"); got {
			t.Fatal("primary key after a crash mid-load")
		}
		db = reopen(t, dsn, opts)
		if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
			t.Fatal(err)
		}
		if got, unkeyed := hasKey(t, dsn, opts.Schema, "items"); !got || len(unkeyed) != 0 {
			t.Errorf("after Prepare: primary key %v, unkeyed %q; want a key", got, unkeyed)
		}
	})
	t.Run("a crash before any row keeps the load unkeyed", func(t *testing.T) {
		opts := pgdest.Options{Now: clock()}
		db, dsn := open(t, &opts)
		if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
			t.Fatal(err)
		}
		pgdest.Crash(db)
		db = reopen(t, dsn, opts)
		if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
			t.Fatal(err)
		}
		apply(t, db, newRows, 0)
		check(t, db, dsn, opts.Schema, false, newRows)
	})
	t.Run("KeyedLoad", func(t *testing.T) {
		opts := pgdest.Options{Now: clock(), KeyedLoad: true}
		db, dsn := open(t, &opts)
		if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
			t.Fatal(err)
		}
		apply(t, db, newRows, 0)
		check(t, db, dsn, opts.Schema, true, newRows)
	})
}
