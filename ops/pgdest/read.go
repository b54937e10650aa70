package pgdest

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
// with canonical values (times to the microsecond, see the package
// documentation). It reads through the DB's own connection, after
// writing the table's buffered operations, so it sees every operation
// received, checkpointed or not; other connections see the rows as of
// the last checkpoint. An undeclared table is an error wrapping
// [schema.ErrUnknownTable].
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
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return fmt.Errorf("pgdest: reading %q: %w", name, err)
	}
	t := d.tables[name]
	if t == nil {
		return fmt.Errorf("pgdest: reading %q: %w", name, schema.ErrUnknownTable)
	}
	if err := d.flush(ctx, t); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for _, c := range t.cols {
		b.WriteString(readExpr(quote(c.Name), c.Type))
		b.WriteString(", ")
	}
	fmt.Fprintf(&b, "%s, %s FROM %s", quote(ops.SyncedColumn), quote(ops.DeletedColumn), t.ident)
	if !all {
		fmt.Fprintf(&b, " WHERE NOT %s", quote(ops.DeletedColumn))
	}
	var rows []schema.Row
	err := d.retry(ctx, func() error {
		rows = rows[:0]
		if err := d.writeLog(ctx); err != nil {
			return err
		}
		res, err := d.conn.Query(ctx, b.String())
		if err != nil {
			return err
		}
		defer res.Close()
		n := len(t.cols)
		for res.Next() {
			vals, err := res.Values()
			if err != nil {
				return err
			}
			row := make(schema.Row, n+2)
			for i, c := range t.cols {
				v, err := decodeValue(c.Type, vals[i])
				if err != nil {
					return fmt.Errorf("column %q: %w", c.Name, err)
				}
				row[c.Name] = v
			}
			if all {
				synced, err := decodeValue(schema.UTCDateTime, vals[n])
				if err != nil {
					return fmt.Errorf("column %q: %w", ops.SyncedColumn, err)
				}
				row[ops.SyncedColumn], row[ops.DeletedColumn] = synced, vals[n+1]
			}
			rows = append(rows, row)
		}
		return res.Err()
	})
	if err != nil {
		return fmt.Errorf("pgdest: reading %q: %w", name, d.fail(err))
	}
	for _, row := range rows {
		vals := make([]any, len(t.cols))
		for i, c := range t.cols {
			vals[i] = row[c.Name]
		}
		fn(t.c.KeyOf(vals), row)
	}
	return nil
}
