package sqldest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// Live returns the rows of table not marked deleted, by
// [schema.Compiled.KeyOf], without the system columns, like
// [ops.Memory.Live]: each row holds every declared column, nil for NULL,
// with canonical values. It reads through the DB's own connection, so it
// sees every operation received, checkpointed or not; other connections
// see the rows as of the last checkpoint. An undeclared table is an
// error wrapping [schema.ErrUnknownTable].
func (d *DB) Live(ctx context.Context, table string) (map[string]schema.Row, error) {
	out := make(map[string]schema.Row)
	err := d.read(ctx, table, false, func(key string, row schema.Row) { out[key] = row })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Rows returns every row of table, deleted ones included, with
// ops.SyncedColumn and ops.DeletedColumn, sorted by key, like
// [ops.Memory.Rows]. It reads like Live.
func (d *DB) Rows(ctx context.Context, table string) ([]schema.Row, error) {
	byKey := make(map[string]schema.Row)
	err := d.read(ctx, table, true, func(key string, row schema.Row) { byKey[key] = row })
	if err != nil {
		return nil, err
	}
	out := make([]schema.Row, 0, len(byKey))
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k])
	}
	return out, nil
}

// read calls fn with each row of table, all of them or the live ones.
func (d *DB) read(ctx context.Context, name string, all bool, fn func(key string, row schema.Row)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqldest: reading %q: %w", name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("sqldest: reading %q: %w", name, ErrClosed)
	}
	// Statements run to completion (see write); ctx is checked per row.
	qctx := context.WithoutCancel(ctx)
	conn, err := d.writer(qctx)
	if err != nil {
		return fmt.Errorf("sqldest: reading %q: taking a connection: %w", name, err)
	}
	t := d.tables[name]
	if t == nil {
		if t, err = d.stored(qctx, conn, name); err != nil {
			return fmt.Errorf("sqldest: reading %q: %w", name, err)
		}
	}
	if err := d.flush(qctx, t); err != nil {
		d.abort(err)
		return fmt.Errorf("sqldest: reading %q: %w", name, err)
	}
	q := d.dialect.Quote
	var b strings.Builder
	b.WriteString("SELECT ")
	for _, c := range t.cols {
		b.WriteString(q(c.Name))
		b.WriteString(", ")
	}
	fmt.Fprintf(&b, "%s, %s FROM %s", q(ops.SyncedColumn), q(ops.DeletedColumn), q(name))
	var args []any
	if !all {
		fmt.Fprintf(&b, " WHERE %s = %s", q(ops.DeletedColumn), d.dialect.Placeholder(1))
		args = append(args, d.falseValue)
	}
	rows, err := conn.QueryContext(qctx, b.String(), args...)
	if err != nil {
		return fmt.Errorf("sqldest: reading %q: %w", name, err)
	}
	defer rows.Close()
	n := len(t.cols)
	vals := make([]any, n+2)
	ptrs := make([]any, n+2)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sqldest: reading %q: %w", name, err)
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqldest: reading %q: %w", name, err)
		}
		for i, c := range t.cols {
			v, err := d.dialect.Decode(c.Type, vals[i])
			if err != nil {
				return fmt.Errorf("sqldest: reading %q: column %q: %w", name, c.Name, err)
			}
			vals[i] = v
		}
		key := t.c.KeyOf(vals)
		row := make(schema.Row, n+2)
		for i, c := range t.cols {
			row[c.Name] = vals[i]
		}
		if all {
			for i, sys := range []struct {
				name string
				typ  schema.Type
			}{{ops.SyncedColumn, schema.UTCDateTime}, {ops.DeletedColumn, schema.Boolean}} {
				v, err := d.dialect.Decode(sys.typ, vals[n+i])
				if err != nil {
					return fmt.Errorf("sqldest: reading %q: column %q: %w", name, sys.name, err)
				}
				row[sys.name] = v
			}
		}
		fn(key, row)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqldest: reading %q: %w", name, err)
	}
	return nil
}

// stored returns the table named name as the database holds it, for
// reading a table this DB has not declared: its columns but the system
// columns, each of the schema type its declared SQL type names, and its
// primary key. A table that does not exist is an error wrapping
// [schema.ErrUnknownTable].
func (d *DB) stored(ctx context.Context, q Querier, name string) (*table, error) {
	info, err := d.dialect.Columns(ctx, q, name)
	if err != nil {
		return nil, fmt.Errorf("reading its columns: %w", err)
	}
	if len(info) == 0 || foldName(name) == foldName(StateTable) || foldName(name) == foldName(UnkeyedTable) {
		return nil, schema.ErrUnknownTable
	}
	tt := schema.Table{Name: name}
	var key []ColumnInfo
	for _, ci := range info {
		if f := foldName(ci.Name); f == foldName(ops.SyncedColumn) || f == foldName(ops.DeletedColumn) {
			continue
		}
		typ, ok := d.schemaType(ci.Type)
		if !ok {
			return nil, fmt.Errorf("column %q has the SQL type %s, which names no schema type", ci.Name, ci.Type)
		}
		tt.Columns = append(tt.Columns, schema.Column{Name: ci.Name, Type: typ})
		if ci.Key > 0 {
			key = append(key, ci)
		}
	}
	slices.SortFunc(key, func(a, b ColumnInfo) int { return a.Key - b.Key })
	for _, ci := range key {
		tt.PrimaryKey = append(tt.PrimaryKey, ci.Name)
	}
	c, err := tt.Compile()
	if err != nil {
		return nil, fmt.Errorf("the table in the database: %w", err)
	}
	return newTable(d.dialect, c, nil, 1), nil
}

// schemaType returns the schema type whose columns the dialect declares
// with the SQL type sqlType.
func (d *DB) schemaType(sqlType string) (schema.Type, bool) {
	for _, t := range schema.Types() {
		if normType(d.dialect.ColumnType(t)) == normType(sqlType) {
			return t, true
		}
	}
	return 0, false
}
