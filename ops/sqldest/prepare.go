package sqldest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

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
	kept, err := d.migrate(ctx, conn, compiled)
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
		if old := d.tables[name]; old != nil {
			old.closeStmts()
		}
		d.tables[name] = newTable(d.dialect, c, kept[i], d.batch)
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

// migrate creates or evolves the tables and creates the state table. It
// returns the kept columns of each table.
func (d *DB) migrate(ctx context.Context, conn *sql.Conn, tables []*schema.Compiled) ([][]string, error) {
	kept := make([][]string, len(tables))
	for i, c := range tables {
		name := c.Name()
		info, err := d.dialect.Columns(ctx, conn, name)
		if err != nil {
			return nil, fmt.Errorf("sqldest: preparing table %q: reading its columns: %w", name, err)
		}
		if len(info) == 0 {
			if _, err := conn.ExecContext(ctx, d.dialect.CreateTable(c.Table())); err != nil {
				return nil, fmt.Errorf("sqldest: preparing table %q: creating it: %w", name, err)
			}
			d.logger.Info("sqldest: created table", "table", name)
			continue
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
		kept[i] = k
	}
	q := d.dialect.Quote
	ddl := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s INTEGER PRIMARY KEY CHECK (%s = 1), %s TEXT NOT NULL, %s TEXT NOT NULL)",
		q(StateTable), q("id"), q("id"), q("state"), q("updated_at"))
	if _, err := conn.ExecContext(ctx, ddl); err != nil {
		return nil, fmt.Errorf("sqldest: preparing tables: creating %s: %w", StateTable, err)
	}
	return kept, nil
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
