package pgdest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// table is a declared table with the SQL that stages and merges its
// rows, built once at Prepare, and its buffered operations.
type table struct {
	c     *schema.Compiled
	name  string
	cols  []schema.Column
	key   []int    // positions of the primary key columns, in key order
	kept  []string // columns of the Postgres table no longer declared
	ident string   // the quoted, schema-qualified name

	// The staging table: a temporary table of the session, emptied at
	// commit, with the columns op, k, colset, deleted, synced, then c0,
	// c1, ... for the declared columns by position.
	stage    string
	stageDDL string
	copySQL  string
	// The COPY of a segment of full live or deleted rows only, in the
	// short form (c0, c1, ..., synced, deleted), into the staging table
	// (op defaults to full) or straight into the table.
	copyFullSQL, copyDirectSQL string
	// direct is whether to COPY the next segment of full rows straight
	// into the table, in a savepoint, falling back to staging if a key
	// exists: true at first, then whether the last segment merged was
	// made only of new rows.
	direct bool

	// unkeyed is whether the table is being loaded without its primary
	// key, which is built once (see DB.addKey): a table Prepare
	// created, into which only upserts of keys not seen before were
	// written since. keys holds the hashes of those keys.
	unkeyed bool
	keys    *keySet

	full, mergeUpdate, mergeInsert, del string
	children                            map[int]string // by parent key length; 0 truncates

	seg *segment
	sum *ops.Summary // the operations received
}

// The fixed columns of a staging table, before the declared ones.
const stageFixed = 5

// stageCol returns the staging column of the declared column at i.
func stageCol(i int) string { return "c" + strconv.Itoa(i) }

func newTable(schemaName string, c *schema.Compiled, kept []string, stageN int) *table {
	decl := c.Table()
	t := &table{
		c:        c,
		name:     decl.Name,
		cols:     decl.Columns,
		kept:     kept,
		ident:    quote(schemaName) + "." + quote(decl.Name),
		stage:    "pg_temp.connector_stage_" + strconv.Itoa(stageN),
		children: make(map[int]string),
		direct:   true,
	}
	for _, k := range decl.PrimaryKey {
		for i, col := range t.cols {
			if col.Name == k {
				t.key = append(t.key, i)
			}
		}
	}
	t.seg = newSegment(t)

	var b strings.Builder
	fmt.Fprintf(&b, `CREATE TEMP TABLE IF NOT EXISTS %s ("op" smallint DEFAULT %d, "k" smallint, "colset" bytea, "deleted" boolean, "synced" timestamptz`, t.stage, netFull)
	for i, col := range t.cols {
		fmt.Fprintf(&b, ", %s %s", stageCol(i), ColumnType(col.Type))
	}
	b.WriteString(") ON COMMIT DELETE ROWS")
	t.stageDDL = b.String()

	b.Reset()
	fmt.Fprintf(&b, `COPY %s ("op", "k", "colset", "deleted", "synced"`, t.stage)
	for i := range t.cols {
		b.WriteString(", " + stageCol(i))
	}
	b.WriteString(") FROM STDIN BINARY")
	t.copySQL = b.String()
	b.Reset()
	fmt.Fprintf(&b, "COPY %s (", t.stage)
	for i := range t.cols {
		b.WriteString(stageCol(i) + ", ")
	}
	b.WriteString(`"synced", "deleted") FROM STDIN BINARY`)
	t.copyFullSQL = b.String()

	synced, deleted := quote(ops.SyncedColumn), quote(ops.DeletedColumn)
	var target, source strings.Builder // the insert's columns and the select's
	for i, col := range t.cols {
		target.WriteString(quote(col.Name) + ", ")
		source.WriteString("s." + stageCol(i) + ", ")
	}
	target.WriteString(synced + ", " + deleted)
	source.WriteString(`s."synced", s."deleted"`)
	t.copyDirectSQL = fmt.Sprintf("COPY %s (%s) FROM STDIN BINARY", t.ident, target.String())
	keyList := t.keyList()
	keyMatch := t.keyMatch("t", "s", len(t.key))

	// Full rows: an upsert that replaces every column, the ones no
	// longer declared NULL; it counts the rows it inserted (a row it
	// inserts has no xmax, one it updates has ours).
	b.Reset()
	fmt.Fprintf(&b, `WITH m AS (INSERT INTO %s AS t (%s) SELECT %s FROM %s s WHERE s."op" = %d ON CONFLICT (%s) DO UPDATE SET `,
		t.ident, target.String(), source.String(), t.stage, netFull, keyList)
	for i, col := range t.cols {
		if !t.isKey(i) {
			fmt.Fprintf(&b, "%s = excluded.%s, ", quote(col.Name), quote(col.Name))
		}
	}
	for _, k := range t.kept {
		fmt.Fprintf(&b, "%s = NULL, ", quote(k))
	}
	fmt.Fprintf(&b, `%s = excluded.%s, %s = excluded.%s RETURNING t.xmax) SELECT count(*) FILTER (WHERE xmax = '0'::xid) FROM m`,
		synced, synced, deleted, deleted)
	t.full = b.String()

	// Merges: the columns of colset of a live row; every column of a
	// deleted one (NULL outside colset, as staged).
	b.Reset()
	fmt.Fprintf(&b, "UPDATE %s AS t SET ", t.ident)
	for i, col := range t.cols {
		if t.isKey(i) {
			continue
		}
		q := quote(col.Name)
		fmt.Fprintf(&b, `%s = CASE WHEN t.%s OR get_bit(s."colset", %d) = 1 THEN s.%s ELSE t.%s END, `, q, deleted, i, stageCol(i), q)
	}
	for _, k := range t.kept {
		q := quote(k)
		fmt.Fprintf(&b, "%s = CASE WHEN t.%s THEN NULL ELSE t.%s END, ", q, deleted, q)
	}
	fmt.Fprintf(&b, `%s = s."synced", %s = s."deleted" FROM %s s WHERE s."op" = %d AND %s`, synced, deleted, t.stage, netMerge, keyMatch)
	t.mergeUpdate = b.String()
	t.mergeInsert = fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s s WHERE s."op" = %d ON CONFLICT (%s) DO NOTHING`,
		t.ident, target.String(), source.String(), t.stage, netMerge, keyList)

	t.del = fmt.Sprintf(`UPDATE %s AS t SET %s = true, %s = s."synced" FROM %s s WHERE s."op" = %d AND %s AND NOT t.%s`,
		t.ident, deleted, synced, t.stage, netDelete, keyMatch, deleted)
	return t
}

// childrenSQL returns the statement that marks deleted the live rows
// whose first k key columns are those of a staged delete of children (k
// = 0: every live row), sparing the rows the segment stages.
func (t *table) childrenSQL(k int) string {
	if s, ok := t.children[k]; ok {
		return s
	}
	deleted, synced := quote(ops.DeletedColumn), quote(ops.SyncedColumn)
	spare := fmt.Sprintf(`NOT EXISTS (SELECT 1 FROM %s p WHERE p."op" < %d AND %s)`, t.stage, netChildren, t.keyMatch("t", "p", len(t.key)))
	var s string
	if k == 0 {
		s = fmt.Sprintf(`UPDATE %s AS t SET %s = true, %s = (SELECT s."synced" FROM %s s WHERE s."op" = %d LIMIT 1) WHERE NOT t.%s AND %s`,
			t.ident, deleted, synced, t.stage, netChildren, deleted, spare)
	} else {
		s = fmt.Sprintf(`UPDATE %s AS t SET %s = true, %s = s."synced" FROM %s s WHERE s."op" = %d AND %s AND NOT t.%s AND %s`,
			t.ident, deleted, synced, t.stage, netChildren, t.keyMatch("t", "s", k), deleted, spare)
	}
	t.children[k] = s
	return s
}

// addKeySQL returns the statement that builds the table's primary key.
func (t *table) addKeySQL() string {
	return "ALTER TABLE " + t.ident + " ADD PRIMARY KEY (" + t.keyList() + ")"
}

// keyMemory raises maintenance_work_mem to 1 GB, unless higher, for the
// rest of the transaction. It bounds the memory of the sort of an index
// build, which takes only what the keys need, shared among the parallel
// workers (max_parallel_maintenance_workers): with 256 MB, the sort of a
// million random text keys split among three spilled to disk, and the
// build took about 40% longer than with 1 GB.
const keyMemory = `SELECT CASE WHEN pg_size_bytes(current_setting('maintenance_work_mem')) < 1073741824
	THEN set_config('maintenance_work_mem', '1GB', true) END`

func (t *table) isKey(i int) bool {
	for _, k := range t.key {
		if k == i {
			return true
		}
	}
	return false
}

// keyList returns the quoted primary key columns.
func (t *table) keyList() string {
	parts := make([]string, len(t.key))
	for j, i := range t.key {
		parts[j] = quote(t.cols[i].Name)
	}
	return strings.Join(parts, ", ")
}

// keyMatch returns the condition that the first n key columns of the
// target alias tgt equal those of the staging alias src.
func (t *table) keyMatch(tgt, src string, n int) string {
	parts := make([]string, n)
	for j, i := range t.key[:n] {
		parts[j] = fmt.Sprintf("%s.%s = %s.%s", tgt, quote(t.cols[i].Name), src, stageCol(i))
	}
	return strings.Join(parts, " AND ")
}

// How a statement of a record counts the rows it adds to the table.
const (
	countNone  = iota
	countQuery // it returns the count
	countTag   // its command tag's row count is the count
)

// stmt is a statement of a record.
type stmt struct {
	step  string // what it does, for errors and test hooks
	sql   string
	count int
}

// record is a flushed segment: the COPY data of its staged rows and the
// statements that merge them, kept until the commit so that a new
// transaction can write it again.
type record struct {
	t    *table
	data []byte
	// enc is the encoding of data while a goroutine makes it (see
	// encodeAsync), nil once settled; encErr its error.
	enc    *encoding
	encErr error
	rows   int
	full   bool // data is in the short form of full rows only
	// unkeyed: the rows go straight into the table, which has no
	// primary key yet and none of their keys (see table.unkeyed).
	unkeyed bool
	keyed   string // the table whose primary key the record builds
	stmts   []stmt
	tx      int64 // the transaction it was last written in
}

// encode returns the record of the segment s: the binary COPY data of
// its staged rows, and the statements its kinds of rows need, the
// deletes of children first.
func (t *table) encode(s *segment) (*record, error) {
	r := &record{t: t, rows: s.size(), full: len(s.children) == 0}
	for i := range s.nets {
		if s.nets[i].kind != netFull {
			r.full = false
			break
		}
	}
	if r.full {
		r.unkeyed = t.unkeyed
		return t.encodeAsync(s, r), nil
	}
	b := make([]byte, 0, 64+s.size()*(24+16*len(t.cols)))
	b = append(b, "PGCOPY\n\377\r\n\000"...)
	b = binary.BigEndian.AppendUint32(b, 0) // flags
	b = binary.BigEndian.AppendUint32(b, 0) // header extension
	nfields := uint16(stageFixed + len(t.cols))
	var kinds [netChildren + 1]bool
	var err error
	for i := range s.nets {
		n := &s.nets[i]
		kinds[n.kind] = true
		b = binary.BigEndian.AppendUint16(b, nfields)
		b = appendInt16(b, int16(n.kind))
		b = binary.BigEndian.AppendUint32(b, math.MaxUint32) // k
		if n.kind == netMerge {
			set := make([]byte, (len(t.cols)+7)/8)
			for j := range t.cols {
				if n.set.Has(j) {
					set[j/8] |= 1 << (j % 8)
				}
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(set)))
			b = append(b, set...)
		} else {
			b = binary.BigEndian.AppendUint32(b, math.MaxUint32)
		}
		if b, err = appendValue(b, schema.Boolean, n.deleted); err != nil {
			return nil, err
		}
		if b, err = appendValue(b, schema.UTCDateTime, n.at); err != nil {
			return nil, fmt.Errorf("pgdest: table %q: the synced time: %w", t.name, err)
		}
		for j, col := range t.cols {
			v := n.row[j]
			if n.kind == netDelete && !t.isKey(j) {
				v = nil
			}
			if b, err = appendValue(b, col.Type, v); err != nil {
				return nil, fmt.Errorf("pgdest: table %q, row %q, column %q: %w", t.name, t.c.KeyOf(n.row), col.Name, err)
			}
		}
	}
	for _, row := range s.children {
		kinds[netChildren] = true
		b = binary.BigEndian.AppendUint16(b, nfields)
		b = appendInt16(b, netChildren)
		b = appendInt16(b, int16(s.k))
		b = binary.BigEndian.AppendUint32(b, math.MaxUint32) // colset
		b = binary.BigEndian.AppendUint32(b, math.MaxUint32) // deleted
		if b, err = appendValue(b, schema.UTCDateTime, s.childrenAt(row)); err != nil {
			return nil, fmt.Errorf("pgdest: table %q: the synced time: %w", t.name, err)
		}
		for j, col := range t.cols {
			var v any
			for _, p := range t.key[:s.k] {
				if p == j {
					v = row[j]
				}
			}
			if b, err = appendValue(b, col.Type, v); err != nil {
				return nil, fmt.Errorf("pgdest: table %q, parent key %q, column %q: %w", t.name, t.c.KeyPrefix(row, s.k), col.Name, err)
			}
		}
	}
	b = binary.BigEndian.AppendUint16(b, math.MaxUint16) // the trailer, -1
	r.data = b
	if kinds[netChildren] {
		r.stmts = append(r.stmts, stmt{step: "delete children", sql: t.childrenSQL(s.k)})
	}
	if kinds[netFull] {
		r.stmts = append(r.stmts, stmt{step: "upsert", sql: t.full, count: countQuery})
	}
	if kinds[netMerge] {
		r.stmts = append(r.stmts,
			stmt{step: "update", sql: t.mergeUpdate},
			stmt{step: "update missing", sql: t.mergeInsert, count: countTag})
	}
	if kinds[netDelete] {
		r.stmts = append(r.stmts, stmt{step: "delete", sql: t.del})
	}
	return r, nil
}

// encodeFull encodes a segment of full rows only in the short form,
// passing publish (if not nil) the data so far every 64 KB or so; the
// encoder appends past it.
func (t *table) encodeFull(s *segment, publish func([]byte)) ([]byte, error) {
	b := make([]byte, 0, 64+s.size()*(24+16*len(t.cols)))
	b = append(b, "PGCOPY\n\377\r\n\000"...)
	b = binary.BigEndian.AppendUint32(b, 0) // flags
	b = binary.BigEndian.AppendUint32(b, 0) // header extension
	nfields := uint16(len(t.cols) + 2)
	var err error
	published := 0
	for i := range s.nets {
		n := &s.nets[i]
		b = binary.BigEndian.AppendUint16(b, nfields)
		for j, col := range t.cols {
			if b, err = appendValue(b, col.Type, n.row[j]); err != nil {
				return nil, fmt.Errorf("pgdest: table %q, row %q, column %q: %w", t.name, t.c.KeyOf(n.row), col.Name, err)
			}
		}
		if b, err = appendValue(b, schema.UTCDateTime, n.at); err != nil {
			return nil, fmt.Errorf("pgdest: table %q: the synced time: %w", t.name, err)
		}
		b, _ = appendValue(b, schema.Boolean, n.deleted)
		if publish != nil && len(b)-published >= 64<<10 {
			publish(b)
			published = len(b)
		}
	}
	return binary.BigEndian.AppendUint16(b, math.MaxUint16), nil
}

func appendInt16(b []byte, n int16) []byte {
	b = binary.BigEndian.AppendUint32(b, 2)
	return binary.BigEndian.AppendUint16(b, uint16(n))
}

// flush encodes the segment of t into a record, adds it to the log and
// writes it in the open transaction (opening one, and writing the log
// again on a new connection, as needed). Call with d.mu held.
func (d *DB) flush(ctx context.Context, t *table) error {
	if t.seg.size() == 0 {
		return nil
	}
	r, err := t.encode(t.seg)
	if err != nil {
		return d.fail(err)
	}
	t.seg = newSegment(t)
	d.log = append(d.log, r)
	if err := d.retry(ctx, func() error { return d.writeLog(ctx) }); err != nil {
		return fmt.Errorf("pgdest: writing table %q: %w", t.name, d.fail(err))
	}
	return nil
}

// writeLog makes sure the open transaction holds every record of the
// log: it connects and begins if needed (which writes the log again),
// then writes the records not yet written.
func (d *DB) writeLog(ctx context.Context) error {
	if err := d.connect(ctx, false); err != nil {
		return err
	}
	if err := d.begin(ctx); err != nil {
		return err
	}
	for _, r := range d.log {
		if r.tx != d.txID {
			if err := d.run(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushAll flushes every table's segment into the log, then writes the
// log in the open transaction.
func (d *DB) flushAll() error {
	for _, t := range d.tables {
		if t.seg.size() == 0 {
			continue
		}
		r, err := t.encode(t.seg)
		if err != nil {
			return err
		}
		t.seg = newSegment(t)
		d.log = append(d.log, r)
	}
	return nil
}
