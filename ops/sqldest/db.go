package sqldest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	// The pure Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/connectkit/connector/internal/filelock"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// DefaultBatchSize is the number of upserted rows a DB writes with one
// multi-row INSERT statement when Options.BatchSize is zero. BenchmarkWrite
// measured it 15 to 25% faster than a prepared single-row INSERT per row
// (BatchSize 1) for rows of 8 columns. Larger batches are slower with
// modernc.org/sqlite, whose binding of a statement's parameters takes
// time quadratic in their number: 100 rows per statement (1000
// parameters) is 15 to 30% slower than one row per statement.
const DefaultBatchSize = 10

// StateTable is the table that holds the checkpointed state: one row
// (id 1) with the document of [state.State.Encode] and the UTC time it
// was written.
const StateTable = "_connector_state"

// UnkeyedTable lists the tables being loaded without their key (see the
// package documentation, Initial loads), with their key columns:
//
//	CREATE TABLE "_connector_unkeyed" (
//	  "name" TEXT PRIMARY KEY,  -- the table
//	  "key" TEXT NOT NULL       -- its key columns, a JSON array of names
//	)
//
// A table is listed in the transaction that creates it and unlisted in
// the one that builds its key. Prepare creates UnkeyedTable, empty, in
// a database made before it existed.
const UnkeyedTable = "_connector_unkeyed"

// TablesTable records, per table, the rows it holds as of the last
// checkpoint (deleted ones included: rows are never removed), which
// each checkpoint updates in its transaction; Open and Prepare check
// the tables against it (see the package documentation, What it
// detects):
//
//	CREATE TABLE "_connector_tables" (
//	  "name" TEXT PRIMARY KEY,     -- the table
//	  "rows" INTEGER NOT NULL      -- its rows at the last checkpoint
//	)
//
// Prepare creates it in a database made before it existed, and records
// the rows of the declared tables there, counted once.
const TablesTable = "_connector_tables"

// LockSuffix is appended to the path of the database file given to
// [Open] to name the lock file, which an open DB holds locked.
const LockSuffix = "-lock"

// MaxUnkeyedRows is the number of rows a DB loads into a table without
// its key before it builds the key (see the package documentation,
// Initial loads): the 64-bit hashes of their keys, which tell a new key
// from one loaded before, take about 16 to 40 bytes each in memory.
const MaxUnkeyedRows = 10_000_000

// maxUnkeyed is MaxUnkeyedRows, which tests lower.
var maxUnkeyed = MaxUnkeyedRows

// maxParams bounds the parameters of one statement: SQLite's limit since
// 3.32 (Postgres allows 65535).
const maxParams = 32766

// ErrRolledBack is wrapped by the errors of a DB after a statement of its
// open transaction failed: the transaction, with every operation since
// the last checkpoint, was rolled back. Checkpoint and the row operations
// then fail until the next Prepare, since a state saved now would cover
// rows that are gone. Prepare starts a new run, which resumes from the
// stored state.
var ErrRolledBack = errors.New("transaction rolled back")

// ErrClosed is wrapped by the errors of the methods of a closed DB.
var ErrClosed = errors.New("database closed")

// Options tune a [DB]. The zero value means defaults.
type Options struct {
	// Now returns the time written to ops.SyncedColumn; nil means
	// time.Now. It is called once per Write, like ops.Memory.Now.
	Now func() time.Time

	// Logger receives what Prepare changes in the database and the
	// rollbacks. Nil means slog.Default().
	Logger *slog.Logger

	// BatchSize is the number of upserted rows written by one
	// multi-row INSERT statement: upserts are buffered per table and
	// written when the buffer is full, and before any other operation
	// on the table, a read, or a checkpoint. 1 writes each row at once
	// with a prepared single-row statement. Zero or less means
	// [DefaultBatchSize].
	BatchSize int

	// KeyedLoad creates tables with their primary key at once, and
	// writes every upsert with INSERT ... ON CONFLICT, instead of
	// loading a new table without its key (see the package
	// documentation, Initial loads).
	KeyedLoad bool
}

// DB is an [ops.Destination] over database/sql that commits the rows of
// a page and the state covering them in one transaction; it keeps that
// state (it is an [ops.StateLoader] and an [ops.StateMerger]). See the
// package documentation.
//
// A DB is safe for concurrent use. It serializes its operations and
// writes through one connection of its *sql.DB, held from the first
// operation until Close.
type DB struct {
	db      *sql.DB
	dialect Dialect
	owned   bool // Close closes db
	now     func() time.Time
	logger  *slog.Logger
	batch   int
	loader  keyLoader      // nil: tables are created with their key
	seed    maphash.Seed   // of the key hashes of unkeyed tables
	lock    *filelock.File // held by a DB from Open until Close
	rowids  bool           // the dialect's tables have rowids: TablesTable is kept

	// The encoded values of ops.DeletedColumn.
	falseValue, trueValue any

	mu        sync.Mutex
	closed    bool
	conn      *sql.Conn // the writer connection; nil until used, or after a failure
	inTx      bool      // conn has an open transaction
	txOps     int       // row operations in the open transaction
	failed    error     // why the last transaction was rolled back; cleared by Prepare
	corrupt   error     // the stored state cannot be decoded; never overwritten
	stateOK   bool      // the stored state was read and decoded, or written, by this DB
	stateStmt *sql.Stmt
	tables    map[string]*table
	folded    map[string]string // table names by foldName
	summary   map[string]ops.Summary
	verified  map[string]bool // tables checked against TablesTable by this DB, or created by it

	// testHook, if set, runs before each statement of a write
	// transaction and fails it by returning an error.
	testHook func(what string) error
}

var _ ops.StateMerger = (*DB)(nil)

// Open opens the SQLite database file at path, creating it (mode 0600)
// if needed, through the pure Go driver modernc.org/sqlite (no cgo); the
// directory must exist. Every connection runs in WAL mode with
// synchronous=FULL, so that a commit is on disk when it returns, and
// waits up to 5 seconds for a lock held by another writer.
//
// Open locks the file path+[LockSuffix] until Close (flock on Unix,
// released by the death of the process too): while a DB has the
// database open, another Open of it, in this process or another, fails
// with an error wrapping [ops.ErrLocked]. It then checks every table
// [TablesTable] records against the rows the last checkpoint left in
// it: a table missing or holding another number of rows is an error
// wrapping [ops.ErrCorrupt] (see the package documentation, What it
// detects). Close closes the database.
func Open(ctx context.Context, path string, opts Options) (_ *DB, err error) {
	if path == "" {
		return nil, errors.New("sqldest: opening a database: empty path")
	}
	wrap := func(err error) error { return fmt.Errorf("sqldest: opening %s: %w", path, err) }
	// SQLite gives the WAL and the shared memory the mode of the
	// database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, wrap(err)
	}
	f.Close()
	lockPath := path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		lockPath = p
	}
	lock, err := filelock.Lock(lockPath + LockSuffix)
	if errors.Is(err, filelock.ErrLocked) {
		return nil, wrap(fmt.Errorf("%w: %w", ops.ErrLocked, err))
	}
	if err != nil {
		return nil, wrap(err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		lock.Unlock()
		return nil, wrap(err)
	}
	d, err := New(db, SQLite{}, opts)
	if err != nil {
		db.Close()
		lock.Unlock()
		return nil, err
	}
	d.owned, d.lock = true, lock
	if err := d.checkOpen(ctx); err != nil {
		d.Close()
		return nil, wrap(err)
	}
	return d, nil
}

// sqliteDSN returns the URI of the file at path with the pragmas of
// Open. The path is escaped, so that it may hold '?', '#' or '%'.
func sqliteDSN(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	u := url.URL{Scheme: "file", Path: p}
	q := url.Values{"_pragma": {"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(5000)"}}
	return u.String() + "?" + q.Encode()
}

// checkOpen takes the writer connection, which checks that the file can
// be opened, and warns when the journal is not a WAL (a file system
// without shared memory, or a memory database).
func (d *DB) checkOpen(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, err := d.writer(ctx)
	if err != nil {
		return err
	}
	var mode string
	if err := c.QueryRowContext(context.WithoutCancel(ctx), "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		d.logger.Warn("sqldest: the SQLite journal is not a WAL", "journal_mode", mode)
	}
	return d.verify(context.WithoutCancel(ctx), c, nil)
}

// New returns a DB writing to db in dialect d. The caller configures db
// (for SQLite: the journal mode, synchronous and the busy timeout; see
// Open) and closes it after Close. The DB holds one connection of db
// from its first operation until Close. New takes no lock (see the
// package documentation, Locking and files): other writers may share
// the database; its first Prepare checks the declared tables against
// [TablesTable].
func New(db *sql.DB, d Dialect, opts Options) (*DB, error) {
	if db == nil || d == nil {
		return nil, errors.New("sqldest: New: nil *sql.DB or Dialect")
	}
	falseValue, err := d.Encode(schema.Boolean, false)
	trueValue, err2 := d.Encode(schema.Boolean, true)
	if err = errors.Join(err, err2); err != nil {
		return nil, fmt.Errorf("sqldest: New: the %s dialect cannot encode false: %w", d.Name(), err)
	}
	out := &DB{
		db:         db,
		dialect:    d,
		now:        opts.Now,
		logger:     opts.Logger,
		batch:      opts.BatchSize,
		falseValue: falseValue,
		trueValue:  trueValue,
		tables:     make(map[string]*table),
		folded:     make(map[string]string),
		verified:   make(map[string]bool),
		summary:    map[string]ops.Summary{"": {}},
	}
	if out.now == nil {
		out.now = time.Now
	}
	if out.logger == nil {
		out.logger = slog.Default()
	}
	if out.batch <= 0 {
		out.batch = DefaultBatchSize
	}
	if kl, ok := d.(keyLoader); ok {
		out.rowids = true
		if !opts.KeyedLoad {
			out.loader = kl
		}
	}
	out.seed = maphash.MakeSeed()
	return out, nil
}

// SQL returns the *sql.DB the DB writes to, for queries. Its other
// connections see the rows as of the last checkpoint.
func (d *DB) SQL() *sql.DB { return d.db }

// Close rolls back the operations since the last checkpoint, which no
// stored state covers, releases the DB's connection and, for a DB from
// Open, closes the database. Closing a closed DB does nothing.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var err error
	if d.conn != nil {
		if d.inTx {
			if _, rerr := d.conn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
				err = fmt.Errorf("sqldest: closing: rolling back: %w", rerr)
				d.discard()
			} else if d.txOps > 0 {
				d.logger.Info("sqldest: rolled back the operations since the last checkpoint", "operations", d.txOps)
			}
			d.inTx = false
			d.untouch()
		}
		if d.conn != nil {
			if kerr := d.keyAll(context.Background()); kerr != nil && err == nil {
				err = fmt.Errorf("sqldest: closing: %w", kerr)
			}
		}
		d.closeStmts()
		if d.conn != nil {
			if cerr := d.conn.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("sqldest: closing: %w", cerr)
			}
			d.conn = nil
		}
	}
	d.dropPending()
	if d.owned {
		if cerr := d.db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sqldest: closing: %w", cerr)
		}
	}
	if lerr := d.lock.Unlock(); lerr != nil && err == nil {
		err = fmt.Errorf("sqldest: closing: %w", lerr)
	}
	return err
}

// Summary returns the operations received per declared table. The entry
// for the empty name "" counts the checkpoints, which belong to no
// table; the table entries count no checkpoints.
func (d *DB) Summary() map[string]ops.Summary {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.summary)
}

// writer returns the writer connection, taking one from the pool if
// needed. Call with d.mu held.
func (d *DB) writer(ctx context.Context) (*sql.Conn, error) {
	if d.conn != nil {
		return d.conn, nil
	}
	c, err := d.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	d.conn = c
	return c, nil
}

// discard closes the statements and drops the writer connection from
// the pool, which rolls back whatever transaction it still has open.
func (d *DB) discard() {
	d.closeStmts()
	if d.conn != nil {
		_ = d.conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = d.conn.Close()
		d.conn = nil
	}
	d.inTx = false
	d.untouch()
}

// untouch forgets which tables the transaction, committed or rolled
// back, wrote.
func (d *DB) untouch() {
	for _, t := range d.tables {
		t.touched = false
	}
}

// closeStmts closes the prepared statements, which belong to the writer
// connection.
func (d *DB) closeStmts() {
	for _, t := range d.tables {
		t.closeStmts()
	}
	if d.stateStmt != nil {
		d.stateStmt.Close()
		d.stateStmt = nil
	}
}

// dropPending forgets the buffered upserts of every table.
func (d *DB) dropPending() {
	for _, t := range d.tables {
		t.dropPending()
	}
}

// begin opens a write transaction unless one is open.
func (d *DB) begin(ctx context.Context) error {
	if d.inTx {
		return nil
	}
	c, err := d.writer(ctx)
	if err != nil {
		return fmt.Errorf("taking a connection: %w", err)
	}
	if err = d.hook("begin"); err == nil {
		_, err = c.ExecContext(ctx, d.dialect.Begin())
	}
	if err != nil {
		d.discard()
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	d.inTx, d.txOps = true, 0
	// Another DB on the file may have built the key of a table this one
	// loads without it (its Prepare does so): check under the lock.
	for _, t := range d.tables {
		if !t.unkeyed {
			continue
		}
		var n int
		err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?", KeyIndex(t.name)).Scan(&n)
		if err != nil {
			d.abort(err)
			return fmt.Errorf("beginning a transaction: %w", err)
		}
		if n > 0 {
			t.unkeyed, t.keys = false, nil
		}
	}
	return nil
}

// commit commits the open transaction; on failure it rolls back.
func (d *DB) commit(ctx context.Context) error {
	err := d.hook("commit")
	if err == nil {
		_, err = d.conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		err = fmt.Errorf("committing: %w", err)
		d.abort(err)
		return err
	}
	d.inTx, d.txOps = false, 0
	d.untouch()
	return nil
}

// abort rolls back the open transaction after a failed statement, drops
// the connection (so that no half-done transaction can survive on it)
// and refuses checkpoints until the next Prepare.
func (d *DB) abort(cause error) {
	n := d.txOps
	if d.conn != nil && d.inTx {
		_, _ = d.conn.ExecContext(context.Background(), "ROLLBACK")
	}
	d.discard()
	d.dropPending()
	d.failed = cause
	d.txOps = 0
	d.logger.Error("sqldest: a write failed; rolled back the operations since the last checkpoint",
		"operations", n, "err", cause)
}

// hook runs the test hook.
func (d *DB) hook(what string) error {
	if d.testHook != nil {
		return d.testHook(what)
	}
	return nil
}

// exec runs a prepared statement of the open transaction.
func (d *DB) exec(ctx context.Context, st *sql.Stmt, what string, args []any) (sql.Result, error) {
	if err := d.hook(what); err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// prepared returns *p, preparing query on the writer connection if *p
// is nil.
func (d *DB) prepared(ctx context.Context, p **sql.Stmt, query string) (*sql.Stmt, error) {
	if *p != nil {
		return *p, nil
	}
	s, err := d.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("preparing a statement: %w", err)
	}
	*p = s
	return s, nil
}

// rolledBack returns the error of an operation refused after a rollback.
func (d *DB) rolledBack() error {
	return fmt.Errorf("%w after an earlier error (%w); Prepare starts over from the stored state", ErrRolledBack, d.failed)
}
