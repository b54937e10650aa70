package sqldest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// maxUpdateStmts bounds the prepared UPDATE statements a table keeps,
// one per set of updated columns; updates of further sets run
// unprepared.
const maxUpdateStmts = 64

// table is a declared table with its statements.
type table struct {
	c      *schema.Compiled
	name   string
	cols   []schema.Column // declared, in order
	isKey  []bool          // by position in cols
	keyIdx []int           // positions of the key columns, in key order
	kept   []string        // columns of the SQL table no longer declared
	width  int             // values per upserted row: cols, kept, synced, deleted

	batchRows int // rows per multi-row upsert; 1 for none

	// The statements, and their prepared forms on the writer connection
	// (nil until first used).
	upsertSQL, batchSQL, deleteSQL, truncateSQL string
	upsertStmt, batchStmt                       *sql.Stmt
	deleteStmt, truncateStmt                    *sql.Stmt
	updates                                     map[string]*sql.Stmt // by the bit set of the updated columns

	args    []any // the encoded values of the buffered upserts
	pending int   // buffered upserts
	uargs   []any // scratch for updates and deletes
	mask    []byte
}

// newTable builds the statements of table c, whose SQL table has the
// kept columns besides the declared ones.
func newTable(d Dialect, c *schema.Compiled, kept []string, batch int) *table {
	tt := c.Table()
	t := &table{c: c, name: tt.Name, cols: tt.Columns, kept: kept, isKey: make([]bool, len(tt.Columns))}
	for _, k := range tt.PrimaryKey {
		for i, col := range tt.Columns {
			if col.Name == k {
				t.isKey[i] = true
				t.keyIdx = append(t.keyIdx, i)
			}
		}
	}
	names := make([]string, 0, len(tt.Columns)+len(kept)+2)
	for _, col := range tt.Columns {
		names = append(names, col.Name)
	}
	names = append(names, kept...)
	names = append(names, ops.SyncedColumn, ops.DeletedColumn)
	t.width = len(names)
	t.batchRows = max(1, min(batch, maxParams/t.width))
	t.upsertSQL = d.Upsert(t.name, names, tt.PrimaryKey, 1)
	if t.batchRows > 1 {
		t.batchSQL = d.Upsert(t.name, names, tt.PrimaryKey, t.batchRows)
	}

	q := d.Quote(t.name)
	synced, deleted := d.Quote(ops.SyncedColumn), d.Quote(ops.DeletedColumn)
	// UPDATE t SET deleted = $1, synced = $2 WHERE deleted = $3 [AND key = $4 ...],
	// with $1 true and $3 false.
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %s SET %s = %s, %s = %s WHERE %s = %s", q, deleted, d.Placeholder(1), synced, d.Placeholder(2), deleted, d.Placeholder(3))
	t.truncateSQL = b.String()
	for i, k := range t.keyIdx {
		fmt.Fprintf(&b, " AND %s = %s", d.Quote(t.cols[k].Name), d.Placeholder(4+i))
	}
	t.deleteSQL = b.String()
	return t
}

// updateSQL returns the UPDATE of the non-key columns set in mask, the
// synced time, WHERE the key and not deleted.
func (t *table) updateSQL(d Dialect, mask []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %s SET ", d.Quote(t.name))
	n := 0
	for i, col := range t.cols {
		if mask[i/8]&(1<<(i%8)) != 0 {
			n++
			fmt.Fprintf(&b, "%s = %s, ", d.Quote(col.Name), d.Placeholder(n))
		}
	}
	n++
	fmt.Fprintf(&b, "%s = %s WHERE ", d.Quote(ops.SyncedColumn), d.Placeholder(n))
	for _, k := range t.keyIdx {
		n++
		fmt.Fprintf(&b, "%s = %s AND ", d.Quote(t.cols[k].Name), d.Placeholder(n))
	}
	n++
	fmt.Fprintf(&b, "%s = %s", d.Quote(ops.DeletedColumn), d.Placeholder(n))
	return b.String()
}

func (t *table) closeStmts() {
	for _, p := range []**sql.Stmt{&t.upsertStmt, &t.batchStmt, &t.deleteStmt, &t.truncateStmt} {
		if *p != nil {
			(*p).Close()
			*p = nil
		}
	}
	for k, s := range t.updates {
		s.Close()
		delete(t.updates, k)
	}
}

func (t *table) dropPending() {
	clear(t.args)
	t.args = t.args[:0]
	t.pending = 0
}

// what returns the operation as error messages name it.
func what(k ops.Kind, table string) string {
	switch k {
	case ops.OpUpsert:
		return fmt.Sprintf("upsert into %q", table)
	case ops.OpUpdate:
		return fmt.Sprintf("update of %q", table)
	case ops.OpDelete:
		return fmt.Sprintf("delete from %q", table)
	}
	return fmt.Sprintf("truncate of %q", table)
}

// execError marks an error of a statement of the open transaction,
// which rolls it back.
type execError struct{ err error }

func (e *execError) Error() string { return e.err.Error() }
func (e *execError) Unwrap() error { return e.err }

// Upsert writes row, replacing any row with its key, and marks it live.
// With BatchSize above 1 the row is buffered; see [Options].
func (d *DB) Upsert(ctx context.Context, table string, row schema.Row) error {
	return d.write(ctx, ops.OpUpsert, table, row)
}

// Update sets the columns of row, which holds the key, in the live row
// with its key; if there is none, or it is marked deleted, the row
// becomes the given columns, the others NULL.
func (d *DB) Update(ctx context.Context, table string, row schema.Row) error {
	return d.write(ctx, ops.OpUpdate, table, row)
}

// Delete marks the live row with the key in keys as deleted; a missing
// or deleted row is left as it is.
func (d *DB) Delete(ctx context.Context, table string, keys schema.Row) error {
	return d.write(ctx, ops.OpDelete, table, keys)
}

// Truncate marks every live row of table as deleted.
func (d *DB) Truncate(ctx context.Context, table string) error {
	return d.write(ctx, ops.OpTruncate, table, nil)
}

// write runs one row operation in the open transaction, opening one if
// needed. The row is checked with the table's schema and normalized in
// place (the DB owns it, as ops.Destination says).
func (d *DB) write(ctx context.Context, k ops.Kind, name string, row schema.Row) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqldest: %s: %w", what(k, name), err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("sqldest: %s: %w", what(k, name), ErrClosed)
	}
	t := d.tables[name]
	if t == nil {
		return fmt.Errorf("sqldest: %s: %w", what(k, name), schema.ErrUnknownTable)
	}
	if d.failed != nil {
		return fmt.Errorf("sqldest: %s: %w", what(k, name), d.rolledBack())
	}
	row, err := k.Normalize(t.c, row)
	if err != nil {
		return fmt.Errorf("sqldest: %s: %w", what(k, name), err)
	}
	at, err := d.dialect.Encode(schema.UTCDateTime, d.now())
	if err != nil {
		return fmt.Errorf("sqldest: %s: the time of the write: %w", what(k, name), err)
	}
	// Statements run to completion once started: interrupting one would
	// roll back the whole transaction in SQLite.
	ctx = context.WithoutCancel(ctx)
	if err := d.begin(ctx); err != nil {
		return fmt.Errorf("sqldest: %s: %w", what(k, name), err)
	}
	switch k {
	case ops.OpUpsert:
		err = d.upsert(ctx, t, row, at)
	case ops.OpUpdate:
		err = d.update(ctx, t, row, at)
	case ops.OpDelete:
		err = d.delete(ctx, t, row, at)
	case ops.OpTruncate:
		err = d.truncate(ctx, t, at)
	}
	if err != nil {
		if ee := (*execError)(nil); errors.As(err, &ee) {
			d.abort(err)
		}
		return fmt.Errorf("sqldest: %s: %w", what(k, name), err)
	}
	d.txOps++
	s := d.summary[name]
	s.Count(k)
	d.summary[name] = s
	return nil
}

// encodeColumn encodes the value of the i-th declared column of row.
func (d *DB) encodeColumn(t *table, i int, v any) (any, error) {
	enc, err := d.dialect.Encode(t.cols[i].Type, v)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", t.cols[i].Name, err)
	}
	return enc, nil
}

// upsert buffers row and writes the buffer once it holds a batch.
func (d *DB) upsert(ctx context.Context, t *table, row schema.Row, at any) error {
	mark := len(t.args)
	for i, col := range t.cols {
		enc, err := d.encodeColumn(t, i, row[col.Name])
		if err != nil {
			clear(t.args[mark:])
			t.args = t.args[:mark]
			return err
		}
		t.args = append(t.args, enc)
	}
	for range t.kept {
		t.args = append(t.args, nil)
	}
	t.args = append(t.args, at, d.falseValue)
	t.pending++
	if t.pending >= t.batchRows {
		return d.flush(ctx, t)
	}
	return nil
}

// flush writes the buffered upserts of t: whole batches with the
// multi-row statement, the rest one by one.
func (d *DB) flush(ctx context.Context, t *table) error {
	if t.pending == 0 {
		return nil
	}
	w, i := t.width, 0
	for ; t.batchRows > 1 && t.pending-i >= t.batchRows; i += t.batchRows {
		st, err := d.prepared(ctx, &t.batchStmt, t.batchSQL)
		if err == nil {
			_, err = d.exec(ctx, st, "upsert", t.args[i*w:(i+t.batchRows)*w])
		}
		if err != nil {
			return &execError{fmt.Errorf("writing %d upserts into %q: %w", t.batchRows, t.name, err)}
		}
	}
	for ; i < t.pending; i++ {
		st, err := d.prepared(ctx, &t.upsertStmt, t.upsertSQL)
		if err == nil {
			_, err = d.exec(ctx, st, "upsert", t.args[i*w:(i+1)*w])
		}
		if err != nil {
			return &execError{fmt.Errorf("writing an upsert into %q: %w", t.name, err)}
		}
	}
	t.dropPending()
	return nil
}

// flushAll writes the buffered upserts of every table.
func (d *DB) flushAll(ctx context.Context) error {
	for _, t := range d.tables {
		if err := d.flush(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// update runs the UPDATE of the given columns of the live row; when no
// live row has the key, it upserts the given columns instead, which sets
// the others to NULL.
func (d *DB) update(ctx context.Context, t *table, row schema.Row, at any) error {
	if err := d.flush(ctx, t); err != nil {
		return err
	}
	n := (len(t.cols) + 7) / 8
	if cap(t.mask) < n {
		t.mask = make([]byte, n)
	}
	t.mask = t.mask[:n]
	clear(t.mask)
	args := t.uargs[:0]
	defer func() { clear(args); t.uargs = args[:0] }()
	for i, col := range t.cols {
		v, ok := row[col.Name]
		if !ok || t.isKey[i] {
			continue
		}
		t.mask[i/8] |= 1 << (i % 8)
		enc, err := d.encodeColumn(t, i, v)
		if err != nil {
			return err
		}
		args = append(args, enc)
	}
	args = append(args, at)
	for _, k := range t.keyIdx {
		enc, err := d.encodeColumn(t, k, row[t.cols[k].Name])
		if err != nil {
			return err
		}
		args = append(args, enc)
	}
	args = append(args, d.falseValue)

	var res sql.Result
	err := d.hook("update")
	if err == nil {
		if st := t.updates[string(t.mask)]; st != nil {
			res, err = st.ExecContext(ctx, args...)
		} else if len(t.updates) < maxUpdateStmts {
			if st, err = d.conn.PrepareContext(ctx, t.updateSQL(d.dialect, t.mask)); err == nil {
				if t.updates == nil {
					t.updates = make(map[string]*sql.Stmt)
				}
				t.updates[string(t.mask)] = st
				res, err = st.ExecContext(ctx, args...)
			}
		} else {
			res, err = d.conn.ExecContext(ctx, t.updateSQL(d.dialect, t.mask), args...)
		}
	}
	var changed int64
	if err == nil {
		changed, err = res.RowsAffected()
	}
	if err != nil {
		return &execError{fmt.Errorf("updating: %w", err)}
	}
	if changed > 0 {
		return nil
	}
	if err := d.upsert(ctx, t, row, at); err != nil {
		return err
	}
	return d.flush(ctx, t)
}

// delete marks the live row with the key of keys deleted.
func (d *DB) delete(ctx context.Context, t *table, keys schema.Row, at any) error {
	if err := d.flush(ctx, t); err != nil {
		return err
	}
	args := append(t.uargs[:0], d.trueValue, at, d.falseValue)
	defer func() { clear(args); t.uargs = args[:0] }()
	for _, k := range t.keyIdx {
		enc, err := d.encodeColumn(t, k, keys[t.cols[k].Name])
		if err != nil {
			return err
		}
		args = append(args, enc)
	}
	st, err := d.prepared(ctx, &t.deleteStmt, t.deleteSQL)
	if err == nil {
		_, err = d.exec(ctx, st, "delete", args)
	}
	if err != nil {
		return &execError{fmt.Errorf("deleting: %w", err)}
	}
	return nil
}

// truncate marks every live row of t deleted.
func (d *DB) truncate(ctx context.Context, t *table, at any) error {
	if err := d.flush(ctx, t); err != nil {
		return err
	}
	st, err := d.prepared(ctx, &t.truncateStmt, t.truncateSQL)
	if err == nil {
		_, err = d.exec(ctx, st, "truncate", []any{d.trueValue, at, d.falseValue})
	}
	if err != nil {
		return &execError{fmt.Errorf("truncating: %w", err)}
	}
	return nil
}
