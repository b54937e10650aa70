package pgdest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// maxColumns is the most declared columns a table may have: Postgres
// holds 1600 columns, and a staging table has 5 beside the declared ones.
const maxColumns = 1600 - stageFixed

// CreateTableSQL returns the CREATE TABLE statement Prepare runs for t in
// the schema schemaName: the declared columns with the types of
// [ColumnType], NOT NULL on the primary key, the system columns
// _connector_synced and _connector_deleted, and the primary key. An
// invalid table, or a name Postgres cannot hold, is an error wrapping
// [schema.ErrInvalidTable].
func CreateTableSQL(schemaName string, t schema.Table) (string, error) {
	if err := checkName("schema", schemaName); err != nil {
		return "", fmt.Errorf("pgdest: %w", err)
	}
	c, err := checkTable(&t)
	if err != nil {
		return "", err
	}
	return createTable(schemaName, c.Table(), true), nil
}

// createTable returns the CREATE TABLE statement of t, with its primary
// key or without (see Options.KeyedLoad).
func createTable(schemaName string, t schema.Table, withKey bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s.%s (\n", quote(schemaName), quote(t.Name))
	for _, col := range t.Columns {
		fmt.Fprintf(&b, "  %s %s", quote(col.Name), ColumnType(col.Type))
		if slices.Contains(t.PrimaryKey, col.Name) {
			b.WriteString(" NOT NULL")
		}
		b.WriteString(",\n")
	}
	fmt.Fprintf(&b, "  %s %s NOT NULL,\n", quote(ops.SyncedColumn), ColumnType(schema.UTCDateTime))
	fmt.Fprintf(&b, "  %s %s NOT NULL DEFAULT false", quote(ops.DeletedColumn), ColumnType(schema.Boolean))
	if !withKey {
		b.WriteString("\n)")
		return b.String()
	}
	b.WriteString(",\n")
	keys := make([]string, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		keys[i] = quote(k)
	}
	fmt.Fprintf(&b, "  PRIMARY KEY (%s)\n)", strings.Join(keys, ", "))
	return b.String()
}

// checkTable compiles t and checks the names Postgres must hold.
func checkTable(t *schema.Table) (*schema.Compiled, error) {
	c, err := t.Compile()
	if err != nil {
		return nil, fmt.Errorf("pgdest: table %q: %w", t.Name, err)
	}
	fail := func(err error) error { return fmt.Errorf("pgdest: table %q: %w", t.Name, err) }
	if err := checkName("table", t.Name); err != nil {
		return nil, fail(err)
	}
	if t.Name == StateTable {
		return nil, fail(fmt.Errorf("%w: the name is reserved for the state table", schema.ErrInvalidTable))
	}
	if len(t.Columns) > maxColumns {
		return nil, fail(fmt.Errorf("%w: %d columns; a table holds at most %d", schema.ErrInvalidTable, len(t.Columns), maxColumns))
	}
	for _, col := range t.Columns {
		if err := checkName("column", col.Name); err != nil {
			return nil, fail(err)
		}
	}
	return c, nil
}

// plan is what Prepare does to one table.
type plan struct {
	c      *schema.Compiled
	create bool
	add    []schema.Column
	kept   []string
	adopt  bool  // the table exists with no recorded row count
	rows   int64 // its rows, when adopted
	// deferKey: the table is (created, or stays) without its primary
	// key, for a load (see table.unkeyed); buildKey: the table, loaded
	// without its key by a sync that did not finish, gets it now.
	deferKey, buildKey bool
}

// inspectError marks an error found by reading the catalog, before
// Prepare changed anything.
type inspectError struct{ err error }

func (e *inspectError) Error() string { return e.err.Error() }
func (e *inspectError) Unwrap() error { return e.err }

// Prepare declares tables: it creates the tables missing from the schema
// (see [CreateTableSQL]), adds the declared columns a table lacks (ALTER
// TABLE ADD COLUMN; existing rows hold NULL), and keeps the columns a
// table has but no longer declares (their data stays; upserts set them to
// NULL). A column whose Postgres type differs from the one its schema
// type maps to, a primary key that differs, or a table without the
// system columns is an error wrapping [ops.ErrSchemaChange]. A table the
// last checkpoint recorded whose row count differs from the recorded one
// (dropped, emptied, or rows deleted or added by someone else) is an
// error wrapping [ops.ErrCorrupt]. An invalid table, or a name Postgres
// cannot hold, is an error wrapping [schema.ErrInvalidTable].
//
// Prepare begins a run: it clears a rollback reported by
// [ErrRolledBack]. Its changes, and the operations written before it,
// commit at once, with the stored state unchanged. On error nothing is
// declared.
func (d *DB) Prepare(ctx context.Context, tables []schema.Table) error {
	compiled := make([]*schema.Compiled, 0, len(tables))
	seen := make(map[string]bool, len(tables))
	for i := range tables {
		c, err := checkTable(&tables[i])
		if err != nil {
			return err
		}
		if seen[c.Name()] {
			return fmt.Errorf("pgdest: table %q: %w: declared twice", c.Name(), schema.ErrInvalidTable)
		}
		seen[c.Name()] = true
		compiled = append(compiled, c)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("pgdest: preparing tables: %w", ErrClosed)
	}
	d.failed = nil
	if err := d.flushAll(); err != nil {
		return fmt.Errorf("pgdest: preparing tables: %w", d.fail(err))
	}
	var plans []*plan
	err := d.retry(ctx, func() error {
		if err := d.connect(ctx, false); err != nil {
			return err
		}
		if err := d.writeLog(ctx); err != nil {
			return err
		}
		if _, err := d.conn.Exec(ctx, "SELECT pg_advisory_xact_lock($1::int4, $2::int4)", ddlClass, d.lockKey); err != nil {
			return err
		}
		var err error
		if plans, err = d.inspect(ctx, compiled); err != nil {
			return err
		}
		for _, p := range plans {
			if err := d.apply(ctx, p); err != nil {
				return err
			}
		}
		return d.commit(ctx, nil)
	})
	if err != nil {
		var ie *inspectError
		if errors.As(err, &ie) && !transient(err) {
			if len(d.log) == 0 {
				d.rollback()
			}
			return ie.err
		}
		return fmt.Errorf("pgdest: preparing tables: %w", d.fail(err))
	}
	for _, p := range plans {
		name := p.c.Name()
		d.stages++
		t := newTable(d.schema, p.c, p.kept, d.stages)
		if p.deferKey {
			t.unkeyed, t.keys = true, new(keySet)
		}
		d.tables[name] = t
		if d.summary[name] == nil {
			d.summary[name] = new(ops.Summary)
		}
		t.sum = d.summary[name]
	}
	return nil
}

// inspect reads the catalog and the recorded row counts, and returns the
// plan of each table, or an inspectError.
func (d *DB) inspect(ctx context.Context, tables []*schema.Compiled) ([]*plan, error) {
	// Locking the state row keeps the other DBs of a shared schema from
	// committing rows until Prepare commits, so that the counts of the
	// tables and the recorded ones agree.
	var counts map[string]int64
	var unkeyed []string
	if err := d.conn.QueryRow(ctx, `SELECT "row_counts", "unkeyed" FROM `+d.stateIdent()+` WHERE "id" = 1 FOR UPDATE`).Scan(&counts, &unkeyed); err != nil {
		return nil, fmt.Errorf("reading the row counts: %w", err)
	}
	plans := make([]*plan, 0, len(tables))
	for _, c := range tables {
		p, err := d.inspectTable(ctx, c, counts, slices.Contains(unkeyed, c.Name()))
		if err != nil {
			if transient(err) {
				return nil, err
			}
			return nil, &inspectError{fmt.Errorf("pgdest: preparing table %q: %w", c.Name(), err)}
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// inspectTable plans the creation or evolution of one table.
func (d *DB) inspectTable(ctx context.Context, c *schema.Compiled, counts map[string]int64, unkeyed bool) (*plan, error) {
	decl := c.Table()
	p := &plan{c: c}
	recorded, present := counts[decl.Name]
	if n, ok := d.delta[decl.Name]; ok {
		recorded, present = recorded+n, true
	}
	var oid uint32
	var kind string
	err := d.conn.QueryRow(ctx, `SELECT c.oid, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2`, d.schema, decl.Name).Scan(&oid, &kind)
	if errors.Is(err, pgx.ErrNoRows) {
		if present {
			return nil, fmt.Errorf("%w: the table is missing, though the last checkpoint recorded %d rows in it: it was dropped outside the sync; restore it, or see the package documentation to sync it again from the start",
				ops.ErrCorrupt, recorded)
		}
		p.create, p.deferKey = true, !d.noKeyLoad
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	if kind != "r" && kind != "p" {
		return nil, fmt.Errorf("%w: %s.%s is not a table (relkind %s)", ops.ErrSchemaChange, d.schema, decl.Name, kind)
	}
	type colInfo struct {
		typ string
		key int // position in the primary key, from 1; 0 outside it
	}
	rows, err := d.conn.Query(ctx, `SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), coalesce(array_position(i.indkey::int2[], a.attnum) + 1, 0)
		FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, fmt.Errorf("reading the columns: %w", err)
	}
	info := make(map[string]colInfo)
	var order []string
	var key []string
	for rows.Next() {
		var name, typ string
		var k int
		if err := rows.Scan(&name, &typ, &k); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the columns: %w", err)
		}
		info[name] = colInfo{typ, k}
		order = append(order, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the columns: %w", err)
	}
	for _, name := range order {
		if info[name].key > 0 {
			key = append(key, name)
		}
	}
	slices.SortFunc(key, func(a, b string) int { return info[a].key - info[b].key })
	loading := unkeyed && len(key) == 0 // loaded without its key
	if !loading && !slices.Equal(key, decl.PrimaryKey) {
		return nil, fmt.Errorf("%w: primary key changed from (%s) to (%s)", ops.ErrSchemaChange, strings.Join(key, ", "), strings.Join(decl.PrimaryKey, ", "))
	}
	for _, sys := range []struct {
		name string
		typ  schema.Type
	}{{ops.SyncedColumn, schema.UTCDateTime}, {ops.DeletedColumn, schema.Boolean}} {
		if ci, ok := info[sys.name]; !ok || ci.typ != ColumnType(sys.typ) {
			return nil, fmt.Errorf("%w: the table has no %s column of type %s; it was not created by this package", ops.ErrSchemaChange, sys.name, ColumnType(sys.typ))
		}
	}
	declared := make(map[string]bool, len(decl.Columns))
	for _, col := range decl.Columns {
		declared[col.Name] = true
		ci, ok := info[col.Name]
		if !ok {
			p.add = append(p.add, col)
			continue
		}
		if want := ColumnType(col.Type); ci.typ != want {
			return nil, fmt.Errorf("%w: column %q changed type from %s to %s (schema type %v)", ops.ErrSchemaChange, col.Name, ci.typ, want, col.Type)
		}
	}
	for _, name := range order {
		if !declared[name] && name != ops.SyncedColumn && name != ops.DeletedColumn {
			p.kept = append(p.kept, name)
		}
	}
	var n int64
	if err := d.conn.QueryRow(ctx, "SELECT count(*) FROM "+quote(d.schema)+"."+quote(decl.Name)).Scan(&n); err != nil {
		return nil, fmt.Errorf("counting its rows: %w", err)
	}
	if loading {
		// A table with rows gets its key now: a sync that loaded it
		// did not finish, and its next may write any operation.
		p.deferKey, p.buildKey = n == 0 && !d.noKeyLoad, n > 0 || d.noKeyLoad
	}
	switch {
	case !present:
		p.adopt, p.rows = true, n
	case n != recorded:
		return nil, fmt.Errorf("%w: the table holds %d rows, but the last checkpoint recorded %d: rows were deleted or added outside the sync (emptied, truncated or rewritten); restore it, or see the package documentation to sync it again from the start",
			ops.ErrCorrupt, n, recorded)
	}
	return p, nil
}

// apply runs the DDL of a plan in the open transaction.
func (d *DB) apply(ctx context.Context, p *plan) error {
	name := p.c.Name()
	switch {
	case p.create:
		if _, err := d.conn.Exec(ctx, createTable(d.schema, p.c.Table(), !p.deferKey)); err != nil {
			return fmt.Errorf("table %q: creating it: %w", name, err)
		}
		d.delta[name] += 0 // records the table, with no rows
		if p.deferKey {
			d.keyed[name] = true
		}
		d.logger.Info("pgdest: created table", "schema", d.schema, "table", name)
	case p.adopt:
		d.delta[name] = p.rows // the count holds this transaction's rows
		d.logger.Info("pgdest: recording the rows of a table that no checkpoint recorded", "schema", d.schema, "table", name, "rows", p.rows)
	}
	if p.buildKey {
		start := time.Now()
		t := newTable(d.schema, p.c, nil, 0)
		if _, err := d.conn.Exec(ctx, keyMemory); err != nil {
			return fmt.Errorf("table %q: %w", name, err)
		}
		if _, err := d.conn.Exec(ctx, t.addKeySQL()); err != nil {
			return fmt.Errorf("table %q: building its primary key: %w", name, err)
		}
		d.keyed[name] = false
		d.logger.Info("pgdest: built the primary key of a table a sync loaded without it and did not finish", "schema", d.schema, "table", name, "took", time.Since(start))
	}
	for _, col := range p.add {
		q := fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN %s %s", quote(d.schema), quote(name), quote(col.Name), ColumnType(col.Type))
		if _, err := d.conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("table %q: adding column %q: %w", name, col.Name, err)
		}
		d.logger.Info("pgdest: added column", "schema", d.schema, "table", name, "column", col.Name, "type", col.Type)
	}
	if len(p.kept) > 0 {
		d.logger.Info("pgdest: keeping columns no longer declared", "schema", d.schema, "table", name, "columns", p.kept)
	}
	return nil
}
