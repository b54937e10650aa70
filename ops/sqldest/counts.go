package sqldest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/connectkit/connector/ops"
)

// The rows of a table are counted without a COUNT(*) per checkpoint: a
// DB never removes a row (deletes and truncates are soft, upserts
// update in place), and SQLite gives each new row of a rowid table the
// largest rowid plus one. So the rows a transaction adds to a table are
// the growth of its largest rowid, read with one lookup before its
// first write (touch) and one at the checkpoint (countRows), under the
// write lock: whatever the path (plain inserts of a load, upserts, the
// upsert of an update of a missing row) and whichever other DB on the
// file wrote between transactions.

// maxRowid returns the largest rowid of table, 0 if it is empty.
func (d *DB) maxRowid(ctx context.Context, table string) (int64, error) {
	var n int64
	err := d.conn.QueryRowContext(ctx, "SELECT coalesce(max(rowid), 0) FROM "+d.dialect.Quote(table)).Scan(&n)
	return n, err
}

// touch notes the largest rowid of t before the open transaction's
// first write to it.
func (d *DB) touch(ctx context.Context, t *table) error {
	if t.touched || !d.rowids {
		return nil
	}
	n, err := d.maxRowid(ctx, t.name)
	if err != nil {
		return &execError{fmt.Errorf("reading the rows of %q: %w", t.name, err)}
	}
	t.rowStart, t.touched = n, true
	return nil
}

// countRows adds to TablesTable, in the open transaction, the rows the
// transaction added to each table it wrote.
func (d *DB) countRows(ctx context.Context) error {
	q := d.dialect.Quote
	for _, t := range d.tables {
		if !t.touched {
			continue
		}
		n, err := d.maxRowid(ctx, t.name)
		if err != nil {
			return fmt.Errorf("reading the rows of %q: %w", t.name, err)
		}
		if n == t.rowStart {
			continue
		}
		if err = d.hook("count"); err == nil {
			_, err = d.conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (?, ?) ON CONFLICT (%s) DO UPDATE SET %s = %s + excluded.%s",
				q(TablesTable), q("name"), q("rows"), q("name"), q("rows"), q("rows"), q("rows")), t.name, n-t.rowStart)
		}
		if err != nil {
			return fmt.Errorf("recording the rows of %q: %w", t.name, err)
		}
		t.rowStart = n
	}
	return nil
}

// recorded returns the rows TablesTable records per table; nil if it
// does not exist.
func (d *DB) recorded(ctx context.Context, conn Querier) (map[string]int64, error) {
	info, err := d.dialect.Columns(ctx, conn, TablesTable)
	if err != nil || len(info) == 0 {
		return nil, err
	}
	q := d.dialect.Quote
	rows, err := conn.QueryContext(ctx, "SELECT "+q("name")+", "+q("rows")+" FROM "+q(TablesTable))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]int64)
	for rows.Next() {
		var name string
		var n sql.NullInt64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ops.ErrCorrupt, TablesTable, err)
		}
		if !n.Valid || n.Int64 < 0 {
			return nil, fmt.Errorf("%w: %s: table %q has no valid count of rows", ops.ErrCorrupt, TablesTable, name)
		}
		out[name] = n.Int64
	}
	return out, rows.Err()
}

// count returns COUNT(*) of table.
func (d *DB) count(ctx context.Context, conn Querier, table string) (int64, error) {
	var n int64
	rows, err := conn.QueryContext(ctx, "SELECT count(*) FROM "+d.dialect.Quote(table))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if rows.Next() {
		err = rows.Scan(&n)
	}
	if err == nil {
		err = rows.Err()
	}
	return n, err
}

// verify checks the tables TablesTable records, those of only if it is
// not nil, that this DB has not checked yet: a table missing, or
// holding another number of rows than recorded, is an error wrapping
// ops.ErrCorrupt.
func (d *DB) verify(ctx context.Context, conn Querier, only map[string]bool) error {
	if !d.rowids {
		return nil
	}
	rec, err := d.recorded(ctx, conn)
	if err != nil {
		return fmt.Errorf("reading %s: %w", TablesTable, err)
	}
	var bad []string
	for name, want := range rec {
		if d.verified[name] || (only != nil && !only[name]) {
			continue
		}
		info, err := d.dialect.Columns(ctx, conn, name)
		if err != nil {
			return fmt.Errorf("reading the columns of %q: %w", name, err)
		}
		if len(info) == 0 {
			bad = append(bad, fmt.Sprintf("table %q is missing; the last checkpoint left %d rows in it", name, want))
			continue
		}
		n, err := d.count(ctx, conn, name)
		if err != nil {
			return fmt.Errorf("counting the rows of %q: %w", name, err)
		}
		switch {
		case n < want:
			bad = append(bad, fmt.Sprintf("table %q holds %d rows, fewer than the %d the last checkpoint left (rows removed)", name, n, want))
			continue
		case n > want:
			bad = append(bad, fmt.Sprintf("table %q holds %d rows, more than the %d the last checkpoint left (written by another program)", name, n, want))
			continue
		}
		d.verified[name] = true
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("%w: %s; nothing was changed", ops.ErrCorrupt, strings.Join(bad, "; "))
	}
	return nil
}
