package sqldest

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"time"

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
	updates                                     map[string]*sql.Stmt // by the set of updated columns
	children                                    map[int]*sql.Stmt    // deletes of children, by the number of parent key columns

	// unkeyed: the table is being loaded without its key (see the
	// package documentation, Initial loads): upserts of keys not in
	// keys, the hashes of the keys it holds, are inserted with the
	// statements insert*, and anything else builds the key first.
	unkeyed                 bool
	keys                    map[uint64]struct{}
	insertSQL, insertBatch  string
	insertStmt, insertBStmt *sql.Stmt
	hbuf                    []byte

	// touched: the open transaction wrote t, whose largest rowid was
	// rowStart before (see DB.countRows).
	touched  bool
	rowStart int64

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
	if kl, ok := d.(keyLoader); ok {
		t.insertSQL = kl.insert(t.name, names, 1)
		if t.batchRows > 1 {
			t.insertBatch = kl.insert(t.name, names, t.batchRows)
		}
	}
	t.truncateSQL = t.softDeleteSQL(d, 0)
	t.deleteSQL = t.softDeleteSQL(d, len(t.keyIdx))
	return t
}

// softDeleteSQL returns UPDATE t SET deleted = $1, synced = $2 WHERE
// deleted = $3 AND the first n key columns equal $4, $5..., with $1 true
// and $3 false: a truncate for n = 0, a delete of children for n below
// the key's length, a delete for the whole key. The primary key's index
// serves the leading key columns.
func (t *table) softDeleteSQL(d Dialect, n int) string {
	q := d.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %s SET %s = %s, %s = %s WHERE %s = %s", q(t.name),
		q(ops.DeletedColumn), d.Placeholder(1), q(ops.SyncedColumn), d.Placeholder(2), q(ops.DeletedColumn), d.Placeholder(3))
	for i, k := range t.keyIdx[:n] {
		fmt.Fprintf(&b, " AND %s = %s", q(t.cols[k].Name), d.Placeholder(4+i))
	}
	return b.String()
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
	for _, p := range []**sql.Stmt{&t.upsertStmt, &t.batchStmt, &t.deleteStmt, &t.truncateStmt, &t.insertStmt, &t.insertBStmt} {
		if *p != nil {
			(*p).Close()
			*p = nil
		}
	}
	for k, s := range t.updates {
		s.Close()
		delete(t.updates, k)
	}
	for k, s := range t.children {
		s.Close()
		delete(t.children, k)
	}
}

func (t *table) dropPending() {
	clear(t.args)
	t.args = t.args[:0]
	t.pending = 0
}

// check reports an operation that does not fit t: a row without one
// value per declared column, or a delete of children whose parent key is
// not a leading part of the primary key. Normalized operations fit.
func (t *table) check(op *ops.Op) error {
	switch op.Kind {
	case ops.OpTruncate:
		return nil
	case ops.OpUpsert, ops.OpUpdate, ops.OpDelete, ops.OpDeleteChildren:
	default:
		return fmt.Errorf("invalid operation kind %d", uint8(op.Kind))
	}
	if len(op.Row) != len(t.cols) {
		return fmt.Errorf("%d values for %d columns", len(op.Row), len(t.cols))
	}
	if op.Kind == ops.OpDeleteChildren {
		k := op.Set.Len()
		if k == 0 || k >= len(t.keyIdx) {
			return fmt.Errorf("a parent key of %d columns for a primary key of %d", k, len(t.keyIdx))
		}
		for _, i := range t.keyIdx[:k] {
			if !op.Set.Has(i) {
				return fmt.Errorf("the parent key lacks key column %q", t.cols[i].Name)
			}
		}
	}
	return nil
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
	case ops.OpTruncate:
		return fmt.Sprintf("truncate of %q", table)
	case ops.OpDeleteChildren:
		return fmt.Sprintf("delete of children from %q", table)
	}
	return fmt.Sprintf("operation %d on %q", uint8(k), table)
}

// execError marks an error of a statement of the open transaction,
// which rolls it back.
type execError struct{ err error }

func (e *execError) Error() string { return e.err.Error() }
func (e *execError) Unwrap() error { return e.err }

// Write applies ops in order in the open transaction, opening one if
// needed, with the semantics of the package documentation. The values
// of each Op.Row are bound by position to the table's statements;
// upserts are buffered (see [Options.BatchSize]). The clock is read once:
// every row written gets the same ops.SyncedColumn.
//
// An operation on a table Prepare did not declare is an error wrapping
// [schema.ErrUnknownTable], and a value the database cannot hold (a time
// outside the years 0 to 9999) an error wrapping [schema.ErrWrongType];
// the operations before it are applied and the transaction stays open. A
// failed statement rolls back the transaction, and the errors of every
// later call until the next Prepare wrap [ErrRolledBack].
func (d *DB) Write(ctx context.Context, batch []ops.Op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqldest: writing: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return fmt.Errorf("sqldest: writing: %w", ErrClosed)
	case d.failed != nil:
		return fmt.Errorf("sqldest: writing: %w", d.rolledBack())
	case len(batch) == 0:
		return nil
	}
	at, err := d.dialect.Encode(schema.UTCDateTime, d.now())
	if err != nil {
		return fmt.Errorf("sqldest: writing: the time of the write: %w", err)
	}
	// Statements run to completion once started: interrupting one would
	// roll back the whole transaction in SQLite.
	ctx = context.WithoutCancel(ctx)
	for i := range batch {
		op := &batch[i]
		if err := d.apply(ctx, op, at); err != nil {
			if ee := (*execError)(nil); errors.As(err, &ee) {
				d.abort(err)
			}
			return fmt.Errorf("sqldest: %s: %w", what(op.Kind, op.Table), err)
		}
		d.txOps++
		s := d.summary[op.Table]
		s.Count(op.Kind)
		d.summary[op.Table] = s
	}
	return nil
}

// apply runs one operation at time at in the open transaction.
func (d *DB) apply(ctx context.Context, op *ops.Op, at any) error {
	t := d.tables[op.Table]
	if t == nil {
		return schema.ErrUnknownTable
	}
	if err := t.check(op); err != nil {
		return err
	}
	if err := d.begin(ctx); err != nil {
		return err
	}
	if err := d.touch(ctx, t); err != nil {
		return err
	}
	if t.unkeyed && op.Kind != ops.OpUpsert {
		if err := d.buildKey(ctx, t); err != nil {
			return err
		}
	}
	switch op.Kind {
	case ops.OpUpsert:
		return d.upsert(ctx, t, op.Row, at)
	case ops.OpUpdate:
		return d.update(ctx, t, op, at)
	case ops.OpDelete:
		return d.softDelete(ctx, t, &t.deleteStmt, t.deleteSQL, "delete", op.Row, len(t.keyIdx), at)
	case ops.OpDeleteChildren:
		k := op.Set.Len()
		st := t.children[k]
		if err := d.softDelete(ctx, t, &st, t.softDeleteSQL(d.dialect, k), "delete children", op.Row, k, at); err != nil {
			return err
		}
		if t.children == nil {
			t.children = make(map[int]*sql.Stmt)
		}
		t.children[k] = st
		return nil
	}
	return d.softDelete(ctx, t, &t.truncateStmt, t.truncateSQL, "truncate", nil, 0, at)
}

// encodeColumn encodes the value of the i-th declared column of row.
func (d *DB) encodeColumn(t *table, i int, v any) (any, error) {
	enc, err := d.dialect.Encode(t.cols[i].Type, v)
	if err != nil {
		return nil, fmt.Errorf("column %q: %w", t.cols[i].Name, err)
	}
	return enc, nil
}

// upsert buffers row, by position, and writes the buffer once it holds
// a batch.
func (d *DB) upsert(ctx context.Context, t *table, row []any, at any) error {
	mark := len(t.args)
	for i, v := range row {
		enc, err := d.encodeColumn(t, i, v)
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
	if t.unkeyed {
		h := t.keyHash(d.seed, t.args[mark:])
		if _, seen := t.keys[h]; seen || len(t.keys) >= maxUnkeyed {
			// A key loaded before (or a hash collision), or too many:
			// build the key, then upsert.
			clear(t.args[mark:])
			t.args = t.args[:mark]
			if err := d.buildKey(ctx, t); err != nil {
				return err
			}
			return d.upsert(ctx, t, row, at)
		}
		t.keys[h] = struct{}{}
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
	// Into an unkeyed table, plain INSERTs (the test hook sees upserts).
	bp, bq, op, oq, what := &t.batchStmt, t.batchSQL, &t.upsertStmt, t.upsertSQL, "upsert"
	if t.unkeyed {
		bp, bq, op, oq = &t.insertBStmt, t.insertBatch, &t.insertStmt, t.insertSQL
	}
	for ; t.batchRows > 1 && t.pending-i >= t.batchRows; i += t.batchRows {
		st, err := d.prepared(ctx, bp, bq)
		if err == nil {
			_, err = d.exec(ctx, st, what, t.args[i*w:(i+t.batchRows)*w])
		}
		if err != nil {
			return &execError{fmt.Errorf("writing %d upserts into %q: %w", t.batchRows, t.name, err)}
		}
	}
	for ; i < t.pending; i++ {
		st, err := d.prepared(ctx, op, oq)
		if err == nil {
			_, err = d.exec(ctx, st, what, t.args[i*w:(i+1)*w])
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

// update runs the UPDATE of the columns of op.Set (nil: all) of the live
// row; when no live row has the key, it upserts op.Row instead, whose
// other columns are NULL.
func (d *DB) update(ctx context.Context, t *table, op *ops.Op, at any) error {
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
	for i, v := range op.Row {
		if t.isKey[i] || (op.Set != nil && !op.Set.Has(i)) {
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
		enc, err := d.encodeColumn(t, k, op.Row[k])
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
	if err := d.upsert(ctx, t, op.Row, at); err != nil {
		return err
	}
	return d.flush(ctx, t)
}

// softDelete marks deleted the live rows of t whose first n key columns
// equal row's, with the statement query prepared into *p: a delete (the
// whole key), a delete of children (a leading part) or a truncate (n =
// 0, row nil).
func (d *DB) softDelete(ctx context.Context, t *table, p **sql.Stmt, query, name string, row []any, n int, at any) error {
	if err := d.flush(ctx, t); err != nil {
		return err
	}
	args := append(t.uargs[:0], d.trueValue, at, d.falseValue)
	defer func() { clear(args); t.uargs = args[:0] }()
	for _, k := range t.keyIdx[:n] {
		enc, err := d.encodeColumn(t, k, row[k])
		if err != nil {
			return err
		}
		args = append(args, enc)
	}
	st, err := d.prepared(ctx, p, query)
	if err == nil {
		_, err = d.exec(ctx, st, name, args)
	}
	if err != nil {
		return &execError{fmt.Errorf("%s: %w", name, err)}
	}
	return nil
}

// keyHash returns the hash of the key of a row of t whose encoded
// values, by position, are vals: equal keys in SQLite's terms (the
// encoded values; -0 and +0 alike) hash equal.
func (t *table) keyHash(seed maphash.Seed, vals []any) uint64 {
	if len(t.keyIdx) == 1 {
		if s, ok := vals[t.keyIdx[0]].(string); ok {
			return maphash.String(seed, s)
		}
	}
	b := t.hbuf[:0]
	for _, k := range t.keyIdx {
		switch v := vals[k].(type) {
		case string:
			b = binary.AppendUvarint(append(b, 's'), uint64(len(v)))
			b = append(b, v...)
		case []byte:
			b = binary.AppendUvarint(append(b, 'b'), uint64(len(v)))
			b = append(b, v...)
		case int64:
			b = binary.LittleEndian.AppendUint64(append(b, 'i'), uint64(v))
		case float64:
			if v == 0 {
				v = 0 // -0 is +0
			}
			b = binary.LittleEndian.AppendUint64(append(b, 'f'), math.Float64bits(v))
		case nil:
			b = append(b, 'n')
		default:
			s := fmt.Sprintf("%T:%v", v, v)
			b = binary.AppendUvarint(append(b, 'x'), uint64(len(s)))
			b = append(b, s...)
		}
	}
	t.hbuf = b
	return maphash.Bytes(seed, b)
}

// buildKey builds the key of t, loaded without it so far, in the open
// transaction, after its buffered rows.
func (d *DB) buildKey(ctx context.Context, t *table) error {
	if err := d.flush(ctx, t); err != nil {
		return err
	}
	start := time.Now()
	if err := d.hook("key"); err != nil {
		return &execError{fmt.Errorf("building the key of %q: %w", t.name, err)}
	}
	if err := d.keyTable(ctx, d.conn, t.name, t.c.Table().PrimaryKey); err != nil {
		return &execError{err}
	}
	t.unkeyed, t.keys = false, nil
	d.logger.Info("sqldest: built the key of a table loaded without it", "table", t.name, "took", time.Since(start))
	return nil
}

// keyTable builds the key of the table name, loaded without it, with
// the unique index [KeyIndex](name) over key, and unlists it from
// [UnkeyedTable], in the open transaction.
func (d *DB) keyTable(ctx context.Context, conn *sql.Conn, name string, key []string) error {
	_, err := conn.ExecContext(ctx, d.loader.createKey(name, key))
	if err == nil {
		_, err = conn.ExecContext(ctx, "DELETE FROM "+d.dialect.Quote(UnkeyedTable)+" WHERE "+d.dialect.Quote("name")+" = ?", name)
	}
	if err != nil {
		return fmt.Errorf("building the key of %q: %w", name, err)
	}
	return nil
}

// listUnkeyed returns the tables [UnkeyedTable] lists, with their key
// columns; none if it does not exist.
func (d *DB) listUnkeyed(ctx context.Context, conn *sql.Conn) (map[string][]string, error) {
	if d.loader == nil {
		return nil, nil
	}
	info, err := d.dialect.Columns(ctx, conn, UnkeyedTable)
	if err != nil || len(info) == 0 {
		return nil, err
	}
	q := d.dialect.Quote
	rows, err := conn.QueryContext(ctx, "SELECT "+q("name")+", "+q("key")+" FROM "+q(UnkeyedTable))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]string)
	for rows.Next() {
		var name, doc string
		if err := rows.Scan(&name, &doc); err != nil {
			return nil, err
		}
		var key []string
		if err := json.Unmarshal([]byte(doc), &key); err != nil || len(key) == 0 {
			return nil, fmt.Errorf("%s: the key of %q: %q is not a JSON array of column names", UnkeyedTable, name, doc)
		}
		out[name] = key
	}
	return out, rows.Err()
}

// keyAll builds, in a transaction of its own, the keys of the tables
// [UnkeyedTable] lists, for Close.
func (d *DB) keyAll(ctx context.Context) error {
	list, err := d.listUnkeyed(ctx, d.conn)
	if err != nil || len(list) == 0 {
		return err
	}
	start := time.Now()
	if err := d.begin(ctx); err != nil {
		return err
	}
	for name, key := range list {
		var info []ColumnInfo
		if err = d.hook("key"); err == nil {
			info, err = d.dialect.Columns(ctx, d.conn, name)
		}
		if err == nil && len(info) == 0 { // dropped: unlist it
			_, err = d.conn.ExecContext(ctx, "DELETE FROM "+d.dialect.Quote(UnkeyedTable)+" WHERE "+d.dialect.Quote("name")+" = ?", name)
		} else if err == nil {
			err = d.keyTable(ctx, d.conn, name, key)
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = d.commit(ctx)
	} else {
		d.abort(err)
	}
	if err != nil {
		return fmt.Errorf("%w (the next Prepare builds them)", err)
	}
	for _, t := range d.tables {
		t.unkeyed, t.keys = false, nil
	}
	d.logger.Info("sqldest: closing: built the keys of the tables loaded without them", "tables", len(list), "took", time.Since(start))
	return nil
}
