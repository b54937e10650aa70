package sqldest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// Prepare declares tables: it creates the tables missing from the
// database, adds the declared columns a table lacks (ALTER TABLE ADD
// COLUMN; existing rows hold NULL), creates the state table, and keeps
// the columns a table has but no longer declares (their data stays; new
// rows get NULL there). A column whose declared SQL type differs from the
// one its schema type maps to, or a primary key that differs from the
// table's, is an error wrapping [ops.ErrSchemaChange]; an invalid table,
// one named like [StateTable], or two names that SQLite would take for
// the same (they differ only in ASCII case) is an error wrapping
// [schema.ErrInvalidTable]. On error nothing is declared or changed.
//
// Prepare begins a run: it clears a rollback reported by [ErrRolledBack].
// Operations since the last checkpoint stay pending; the changes of
// Prepare commit with them at the next checkpoint (or at once when there
// are none).
func (d *DB) Prepare(ctx context.Context, tables []schema.Table) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqldest: preparing tables: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("sqldest: preparing tables: %w", ErrClosed)
	}
	compiled, err := d.check(tables)
	if err != nil {
		return err
	}
	d.failed = nil
	ctx = context.WithoutCancel(ctx)
	if err := d.flushAll(ctx); err != nil {
		d.abort(err)
		return fmt.Errorf("sqldest: preparing tables: %w", err)
	}
	conn, err := d.writer(ctx)
	if err != nil {
		return fmt.Errorf("sqldest: preparing tables: taking a connection: %w", err)
	}
	// In the open transaction if there is one, under a savepoint so that
	// a failure undoes only Prepare; else in a transaction of its own.
	own := !d.inTx
	start, undo, end := "SAVEPOINT sqldest_prepare", "ROLLBACK TO sqldest_prepare", "RELEASE sqldest_prepare"
	if own {
		start, undo, end = d.dialect.Begin(), "ROLLBACK", "COMMIT"
	}
	if _, err := conn.ExecContext(ctx, start); err != nil {
		if own {
			d.discard()
		} else {
			d.abort(err)
		}
		return fmt.Errorf("sqldest: preparing tables: %w", err)
	}
	plans, err := d.migrate(ctx, conn, compiled)
	if err == nil {
		if _, err = conn.ExecContext(ctx, end); err != nil {
			err = fmt.Errorf("sqldest: preparing tables: %w", err)
		}
	}
	if err != nil {
		_, uerr := conn.ExecContext(ctx, undo)
		if !own && uerr == nil {
			_, uerr = conn.ExecContext(ctx, end)
		}
		if uerr != nil {
			if own {
				d.discard()
			} else {
				d.abort(fmt.Errorf("undoing a failed Prepare: %w", uerr))
			}
		}
		return err
	}
	for i, c := range compiled {
		name := c.Name()
		t := newTable(d.dialect, c, plans[i].kept, d.batch)
		if old := d.tables[name]; old != nil {
			old.closeStmts()
			t.touched, t.rowStart = old.touched, old.rowStart
		}
		t.unkeyed, t.keys = plans[i].keys != nil, plans[i].keys
		d.tables[name] = t
		d.folded[foldName(name)] = name
		if _, ok := d.summary[name]; !ok {
			d.summary[name] = ops.Summary{}
		}
	}
	return nil
}

// check compiles the tables and checks their names.
func (d *DB) check(tables []schema.Table) ([]*schema.Compiled, error) {
	seen := make(map[string]string, len(tables))
	out := make([]*schema.Compiled, 0, len(tables))
	for i := range tables {
		t := &tables[i]
		fail := func(format string, args ...any) error {
			return fmt.Errorf("sqldest: preparing table %q: %w: %s", t.Name, schema.ErrInvalidTable, fmt.Sprintf(format, args...))
		}
		c, err := t.Compile()
		if err != nil {
			return nil, fmt.Errorf("sqldest: preparing table %q: %w", t.Name, err)
		}
		f := foldName(t.Name)
		switch {
		case strings.IndexByte(t.Name, 0) >= 0:
			return nil, fail("the name holds a NUL byte")
		case f == foldName(StateTable):
			return nil, fail("the name is reserved for the state table")
		case f == foldName(TablesTable):
			return nil, fail("the name is reserved for the counts of rows of the tables")
		case f == foldName(UnkeyedTable):
			return nil, fail("the name is reserved for the list of tables loaded without their key")
		case strings.HasPrefix(f, keyIndexPrefix):
			return nil, fail("names starting with %s are reserved for the keys of tables", keyIndexPrefix)
		case seen[f] == t.Name:
			return nil, fail("declared twice")
		case seen[f] != "":
			return nil, fail("%s takes it for table %q, as names differ only in case", d.dialect.Name(), seen[f])
		case d.folded[f] != "" && d.folded[f] != t.Name:
			return nil, fail("%s takes it for table %q, declared before, as names differ only in case", d.dialect.Name(), d.folded[f])
		}
		seen[f] = t.Name
		cols := make(map[string]string, len(t.Columns))
		for _, col := range t.Columns {
			cf := foldName(col.Name)
			switch {
			case strings.IndexByte(col.Name, 0) >= 0:
				return nil, fail("column name %q holds a NUL byte", col.Name)
			case cols[cf] != "":
				return nil, fail("%s takes column %q for column %q, as names differ only in case", d.dialect.Name(), col.Name, cols[cf])
			}
			cols[cf] = col.Name
		}
		out = append(out, c)
	}
	return out, nil
}

// plan is what Prepare found or made of a table.
type plan struct {
	kept []string            // columns no longer declared
	keys map[uint64]struct{} // non-nil: loading without the key, these are the hashes of the keys loaded
}

// migrate creates or evolves the tables and creates the state table and
// UnkeyedTable. It creates a new table without its key (listed in
// UnkeyedTable) unless the DB has no keyLoader, and builds the key of a
// table listed there whose loaded keys this DB does not know (after a
// restart).
func (d *DB) migrate(ctx context.Context, conn *sql.Conn, tables []*schema.Compiled) ([]plan, error) {
	q := d.dialect.Quote
	if d.loader != nil {
		ddl := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s TEXT PRIMARY KEY, %s TEXT NOT NULL)", q(UnkeyedTable), q("name"), q("key"))
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return nil, fmt.Errorf("sqldest: preparing tables: creating %s: %w", UnkeyedTable, err)
		}
	}
	unkeyed, err := d.listUnkeyed(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("sqldest: preparing tables: reading %s: %w", UnkeyedTable, err)
	}
	var rec map[string]int64
	if d.rowids {
		// A table the last checkpoint left rows in is never recreated.
		only := make(map[string]bool, len(tables))
		for _, c := range tables {
			only[c.Name()] = true
		}
		if err := d.verify(ctx, conn, only); err != nil {
			return nil, fmt.Errorf("sqldest: preparing tables: %w", err)
		}
		ddl := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s TEXT PRIMARY KEY, %s INTEGER NOT NULL)", q(TablesTable), q("name"), q("rows"))
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return nil, fmt.Errorf("sqldest: preparing tables: creating %s: %w", TablesTable, err)
		}
		if rec, err = d.recorded(ctx, conn); err != nil {
			return nil, fmt.Errorf("sqldest: preparing tables: reading %s: %w", TablesTable, err)
		}
	}
	record := func(name string, n int64) error {
		if !d.rowids {
			return nil
		}
		_, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT OR REPLACE INTO %s (%s, %s) VALUES (?, ?)", q(TablesTable), q("name"), q("rows")), name, n)
		if err != nil {
			return fmt.Errorf("sqldest: preparing table %q: recording its rows in %s: %w", name, TablesTable, err)
		}
		d.verified[name] = true
		return nil
	}
	plans := make([]plan, len(tables))
	for i, c := range tables {
		name := c.Name()
		info, err := d.dialect.Columns(ctx, conn, name)
		if err != nil {
			return nil, fmt.Errorf("sqldest: preparing table %q: reading its columns: %w", name, err)
		}
		if _, ok := rec[name]; d.rowids && !ok {
			// New, or made before TablesTable: count it once.
			var n int64
			if len(info) > 0 {
				if n, err = d.count(ctx, conn, name); err != nil {
					return nil, fmt.Errorf("sqldest: preparing table %q: counting its rows: %w", name, err)
				}
				d.logger.Info("sqldest: recorded the rows of a table made before their counts", "table", name, "rows", n)
			}
			if err := record(name, n); err != nil {
				return nil, err
			}
		}
		if len(info) == 0 {
			if d.loader == nil {
				if _, err := conn.ExecContext(ctx, d.dialect.CreateTable(c.Table())); err != nil {
					return nil, fmt.Errorf("sqldest: preparing table %q: creating it: %w", name, err)
				}
				d.logger.Info("sqldest: created table", "table", name)
				continue
			}
			key, _ := json.Marshal(c.Table().PrimaryKey)
			if _, err := conn.ExecContext(ctx, d.loader.createUnkeyed(c.Table())); err != nil {
				return nil, fmt.Errorf("sqldest: preparing table %q: creating it: %w", name, err)
			}
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT OR REPLACE INTO %s (%s, %s) VALUES (?, ?)", q(UnkeyedTable), q("name"), q("key")), name, string(key)); err != nil {
				return nil, fmt.Errorf("sqldest: preparing table %q: listing it in %s: %w", name, UnkeyedTable, err)
			}
			plans[i].keys = make(map[uint64]struct{})
			d.logger.Info("sqldest: created table, without its key until loaded", "table", name)
			continue
		}
		loading := false
		if key, listed := unkeyed[name]; listed && !slices.ContainsFunc(info, func(ci ColumnInfo) bool { return ci.Key > 0 }) {
			// Loaded without its key: the key it was loaded with.
			loading = true
			for j := range info {
				if n := slices.IndexFunc(key, func(k string) bool { return foldName(k) == foldName(info[j].Name) }); n >= 0 {
					info[j].Key = n + 1
				}
			}
		}
		add, k, err := evolve(d.dialect, c.Table(), info)
		if err != nil {
			return nil, fmt.Errorf("sqldest: preparing table %q: %w", name, err)
		}
		for _, col := range add {
			if _, err := conn.ExecContext(ctx, d.dialect.AddColumn(name, col)); err != nil {
				return nil, fmt.Errorf("sqldest: preparing table %q: adding column %q: %w", name, col.Name, err)
			}
			d.logger.Info("sqldest: added column", "table", name, "column", col.Name, "type", col.Type)
		}
		if len(k) > 0 {
			d.logger.Info("sqldest: keeping columns no longer declared", "table", name, "columns", k)
		}
		plans[i].kept = k
		if !loading {
			continue
		}
		if old := d.tables[name]; old != nil && old.unkeyed {
			plans[i].keys = old.keys // this DB loaded every row: go on
			continue
		}
		start := time.Now()
		if err := d.keyTable(ctx, conn, name, c.Table().PrimaryKey); err != nil {
			return nil, fmt.Errorf("sqldest: preparing table %q: %w", name, err)
		}
		d.logger.Info("sqldest: built the key of a table loaded without it before", "table", name, "took", time.Since(start))
	}
	ddl := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s INTEGER PRIMARY KEY CHECK (%s = 1), %s TEXT NOT NULL, %s TEXT NOT NULL)",
		q(StateTable), q("id"), q("id"), q("state"), q("updated_at"))
	if _, err := conn.ExecContext(ctx, ddl); err != nil {
		return nil, fmt.Errorf("sqldest: preparing tables: creating %s: %w", StateTable, err)
	}
	return plans, nil
}

// evolve compares the declared table t with the columns info of the
// table in the database. It returns the columns to add and the columns
// to keep, or an error wrapping ops.ErrSchemaChange.
func evolve(d Dialect, t schema.Table, info []ColumnInfo) (add []schema.Column, kept []string, err error) {
	byName := make(map[string]ColumnInfo, len(info))
	var key []ColumnInfo
	for _, ci := range info {
		byName[foldName(ci.Name)] = ci
		if ci.Key > 0 {
			key = append(key, ci)
		}
	}
	slices.SortFunc(key, func(a, b ColumnInfo) int { return a.Key - b.Key })
	oldKey := make([]string, len(key))
	for i, ci := range key {
		oldKey[i] = ci.Name
	}
	if !slices.EqualFunc(oldKey, t.PrimaryKey, func(a, b string) bool { return foldName(a) == foldName(b) }) {
		return nil, nil, fmt.Errorf("%w: primary key changed from (%s) to (%s)", ops.ErrSchemaChange,
			strings.Join(oldKey, ", "), strings.Join(t.PrimaryKey, ", "))
	}
	for _, sys := range []string{ops.SyncedColumn, ops.DeletedColumn} {
		if _, ok := byName[foldName(sys)]; !ok {
			return nil, nil, fmt.Errorf("%w: the table has no %s column; it was not created by this package", ops.ErrSchemaChange, sys)
		}
	}
	declared := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		declared[foldName(c.Name)] = true
		ci, ok := byName[foldName(c.Name)]
		if !ok {
			add = append(add, c)
			continue
		}
		if want := d.ColumnType(c.Type); normType(ci.Type) != normType(want) {
			return nil, nil, fmt.Errorf("%w: column %q changed type from %s to %s", ops.ErrSchemaChange,
				c.Name, ci.Type, want)
		}
	}
	for _, ci := range info {
		f := foldName(ci.Name)
		if !declared[f] && f != foldName(ops.SyncedColumn) && f != foldName(ops.DeletedColumn) {
			kept = append(kept, ci.Name)
		}
	}
	return add, kept, nil
}

// foldName folds ASCII letters to lower case, as SQLite compares names.
func foldName(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// normType returns a declared type in upper case with single spaces.
func normType(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), " "))
}
