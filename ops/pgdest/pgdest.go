package pgdest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// StateTable is the table, in the DB's schema, that holds the
// checkpointed state, the row counts of the tables and the checkpoint
// sequence number: one row, id 1. See the package documentation.
const StateTable = "_connector_state"

// Defaults of [Options].
const (
	// DefaultSchema is the schema (namespace) of the tables.
	DefaultSchema = "public"
	// DefaultFlushRows is the number of buffered rows of a table that
	// makes Write stage and merge them before the checkpoint.
	DefaultFlushRows = 50000
	// DefaultMaxRetries is how many times a transaction that failed
	// for a transient cause is tried again.
	DefaultMaxRetries = 8
	// DefaultRetryBackoff is the wait before the first retry; it
	// doubles with each retry, up to 5 s, with full jitter.
	DefaultRetryBackoff = 200 * time.Millisecond
	// DefaultLockWait is how long Open waits for another sync to
	// release the schema.
	DefaultLockWait = 10 * time.Second
)

const maxBackoff = 5 * time.Second

var (
	// ErrInUse is wrapped by the error of Open when another sync holds
	// the schema (another DB, in this process or elsewhere, opened on
	// the same database and schema and not closed), and by the errors
	// of a DB whose schema another sync opened while this DB's
	// connection was broken.
	ErrInUse = errors.New("in use by another sync")
	// ErrRolledBack is wrapped by the errors of a DB after a
	// transaction failed for a cause other than a transient one (a
	// value Postgres rejects, a table changed under the sync, a corrupt
	// stored state): the operations since the last checkpoint were
	// rolled back and dropped. Write and Checkpoint then fail until the
	// next Prepare, since a state saved then would cover rows that are
	// gone; the run resumes from the stored state.
	ErrRolledBack = errors.New("transaction rolled back")
	// ErrClosed is wrapped by the errors of the methods of a closed DB.
	ErrClosed = errors.New("destination closed")
)

// Options tune a [DB]. The zero value means defaults.
type Options struct {
	// Schema is the Postgres schema (namespace) of the tables and of
	// StateTable, created if missing; "" means [DefaultSchema].
	Schema string

	// Shared opens the schema for one of several DBs that write it at
	// once: the parts of one partitioned sync (connector.RunPart), on
	// any number of machines, which checkpoint with CheckpointMerge.
	// By default a DB holds its schema alone, and Open fails with
	// ErrInUse while another DB holds it; shared DBs exclude only DBs
	// that are not shared. A shared DB refuses Checkpoint, which would
	// overwrite the other parts' progress.
	Shared bool

	// Now returns the time written to ops.SyncedColumn, read once per
	// Write; nil means time.Now.
	Now func() time.Time

	// Logger receives what Prepare changes, retries and rollbacks; nil
	// means slog.Default().
	Logger *slog.Logger

	// FlushRows is the number of buffered rows of one table at which
	// Write stages and merges them at once, in the transaction the next
	// checkpoint commits; zero or less means [DefaultFlushRows]. The
	// operations stay in memory (encoded, about the size of their COPY
	// data) until the checkpoint commits, so that a transaction broken
	// by a transient failure can be written again.
	FlushRows int

	// MaxRetries is how many times an operation whose transaction
	// failed for a transient cause (a broken connection, a server
	// restart, a serialization failure or deadlock) is tried again, on a
	// new connection and transaction; zero means [DefaultMaxRetries],
	// negative means none.
	MaxRetries int

	// RetryBackoff is the wait before the first retry, doubling up to 5
	// s, with full jitter; zero or less means [DefaultRetryBackoff].
	RetryBackoff time.Duration

	// KeyedLoad creates tables with their primary key at once. By
	// default a table Prepare creates has no primary key until the first
	// operation other than an upsert of a new key (see the package
	// documentation, "Initial loads"): its rows are COPYed straight into
	// it, and the key is built once, which loads several times faster
	// than maintaining the key's index row by row.
	KeyedLoad bool

	// LockWait is how long Open waits for another sync holding the
	// schema to release it (a killed sync's connection takes a moment
	// to end); zero means [DefaultLockWait], negative means no wait.
	LockWait time.Duration
}

// DB is an [ops.StateMerger] writing to a Postgres schema over one
// connection; see the package documentation. A DB is safe for concurrent
// use: it serializes its operations.
type DB struct {
	cfg       *pgx.ConnConfig
	schema    string
	shared    bool
	now       func() time.Time
	logger    *slog.Logger
	flushRows int
	retries   int
	backoff   time.Duration
	lockWait  time.Duration
	lockKey   int32 // the advisory locks' second key: the schema's

	mu        sync.Mutex
	closed    bool
	conn      *pgx.Conn               // nil until connected, or after a failure
	staged    map[string]bool         // staging tables created on conn
	inTx      bool                    // conn has an open transaction
	txID      int64                   // counts transactions, for record.tx
	used      map[string]bool         // staging tables written in the open transaction
	log       []*record               // the flushed records since the last commit, in order
	delta     map[string]int64        // rows the open transaction added, by table
	keyed     map[string]bool         // tables the open transaction made unkeyed (true) or keyed (false)
	noKeyLoad bool                    // Options.KeyedLoad or Shared
	seed      maphash.Seed            // of the key hashes of unkeyed tables
	gen       int64                   // this DB's generation of the schema (exclusive DBs)
	commitSeq int64                   // the seq of a commit whose outcome is unknown, 0 if none
	resolved  bool                    // a reconnect found that commitSeq committed
	lastSeq   int64                   // the seq of the last commit known
	lastAt    time.Time               // and its time
	stateOK   bool                    // the stored state was read and decoded, or written, by this DB
	corrupt   error                   // the stored state cannot be decoded; never overwritten
	failed    error                   // why the operations since the last checkpoint were dropped
	tables    map[string]*table       // declared tables
	stages    int                     // staging tables named so far
	summary   map[string]*ops.Summary // by table; "" counts the checkpoints
	noDirect  bool                    // a tuning switch for the benchmarks, off in use
	testHook  func(step string) error
	testAfter func(step string) error
}

var _ ops.StateMerger = (*DB)(nil)

// Open connects to the database of dsn (a postgres:// URL or a key=value
// connection string, as pgx.ParseConfig reads it), creates the schema of
// opts and StateTable if missing, and takes the schema for this DB (see
// Options.Shared), waiting up to Options.LockWait for another sync to
// release it, then failing with an error wrapping [ErrInUse]. A DB holds
// one connection until Close.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgdest: opening: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = make(map[string]string)
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "connector-pgdest"
	}
	d := &DB{
		cfg:       cfg,
		schema:    opts.Schema,
		shared:    opts.Shared,
		now:       opts.Now,
		logger:    opts.Logger,
		flushRows: opts.FlushRows,
		retries:   opts.MaxRetries,
		backoff:   opts.RetryBackoff,
		lockWait:  opts.LockWait,
		tables:    make(map[string]*table),
		delta:     make(map[string]int64),
		keyed:     make(map[string]bool),
		noKeyLoad: opts.KeyedLoad || opts.Shared,
		seed:      maphash.MakeSeed(),
		summary:   map[string]*ops.Summary{"": {}},
	}
	if d.schema == "" {
		d.schema = DefaultSchema
	}
	if err := checkName("schema", d.schema); err != nil {
		return nil, fmt.Errorf("pgdest: opening: %w", err)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.logger == nil {
		d.logger = slog.Default()
	}
	if d.flushRows <= 0 {
		d.flushRows = DefaultFlushRows
	}
	switch {
	case d.retries == 0:
		d.retries = DefaultMaxRetries
	case d.retries < 0:
		d.retries = 0
	}
	if d.backoff <= 0 {
		d.backoff = DefaultRetryBackoff
	}
	switch {
	case d.lockWait == 0:
		d.lockWait = DefaultLockWait
	case d.lockWait < 0:
		d.lockWait = 0
	}
	h := fnv.New32a()
	h.Write([]byte(d.schema))
	d.lockKey = int32(h.Sum32())

	d.mu.Lock()
	defer d.mu.Unlock()
	err = d.retry(ctx, func() error {
		if err := d.connect(ctx, true); err != nil {
			return err
		}
		return d.setup(ctx)
	})
	if err != nil {
		d.dropConn()
		return nil, fmt.Errorf("pgdest: opening schema %q: %w", d.schema, err)
	}
	return d, nil
}

// checkName reports a name Postgres cannot hold as it is: empty, longer
// than 63 bytes (Postgres would cut it, and two long names could become
// one), or holding a NUL byte.
func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty %s name", schema.ErrInvalidTable, what)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %s name %q is not valid UTF-8", schema.ErrInvalidTable, what, name)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("%w: %s name %q holds a NUL byte, which Postgres names cannot", schema.ErrInvalidTable, what, name)
	case len(name) > maxName:
		return fmt.Errorf("%w: %s name %q is %d bytes long; Postgres names hold at most %d", schema.ErrInvalidTable, what, name, len(name), maxName)
	}
	return nil
}

// maxName is the longest name Postgres keeps (NAMEDATALEN - 1).
const maxName = 63

// Schema returns the schema the DB writes to.
func (d *DB) Schema() string { return d.schema }

// Close rolls back the operations since the last checkpoint, which no
// stored state covers, and closes the connection, which releases the
// schema. Closing a closed DB does nothing.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if n := d.pendingOps(); n > 0 {
		d.logger.Info("pgdest: closing: dropped the operations since the last checkpoint", "rows", n)
	}
	d.rollback()
	d.dropPending()
	err := d.keyAll()
	if d.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if cerr := d.conn.Close(ctx); err == nil {
			err = cerr
		}
		cancel()
		d.conn = nil
	}
	if err != nil {
		return fmt.Errorf("pgdest: closing: %w", err)
	}
	return nil
}

// keyAll builds, in a transaction of its own, the primary keys of the
// tables still loaded without them.
func (d *DB) keyAll() error {
	if d.failed != nil {
		return nil
	}
	var names []string
	var stmts []string
	for _, t := range d.tables {
		if t.unkeyed {
			names = append(names, t.name)
			stmts = append(stmts, t.addKeySQL())
		}
	}
	if len(names) == 0 {
		return nil
	}
	ctx := context.Background()
	err := d.retry(ctx, func() error {
		if err := d.connect(ctx, false); err != nil {
			return err
		}
		if err := d.begin(ctx); err != nil {
			return err
		}
		if _, err := d.conn.Exec(ctx, keyMemory); err != nil {
			return err
		}
		for i, q := range stmts {
			if _, err := d.conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("table %q: building its primary key: %w", names[i], err)
			}
			d.keyed[names[i]] = false
		}
		return d.commit(ctx, nil)
	})
	if err != nil {
		return fmt.Errorf("building the primary keys of %q: %w", names, err)
	}
	for _, t := range d.tables {
		t.unkeyed, t.keys = false, nil
	}
	d.logger.Info("pgdest: closing: built the primary keys of the tables loaded without them", "schema", d.schema, "tables", names)
	return nil
}

// Summary returns the operations received per declared table. The entry
// for the empty name "" counts the checkpoints, which belong to no
// table; the table entries count no checkpoints.
func (d *DB) Summary() map[string]ops.Summary {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]ops.Summary, len(d.summary))
	for name, s := range d.summary {
		out[name] = *s
	}
	return out
}

// Write buffers ops, in order, composing the operations of each table
// per row (see the package documentation), and stages and merges a
// table's buffer when it reaches Options.FlushRows rows, in the
// transaction the next checkpoint commits. An operation on an undeclared
// table is an error wrapping [schema.ErrUnknownTable]; the operations
// before it are buffered.
func (d *DB) Write(ctx context.Context, batch []ops.Op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgdest: writing: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return fmt.Errorf("pgdest: writing: %w", err)
	}
	at := d.now().UTC()
	for i := range batch {
		op := &batch[i]
		t := d.tables[op.Table]
		if t == nil {
			return fmt.Errorf("pgdest: %v in table %q: %w", op.Kind, op.Table, schema.ErrUnknownTable)
		}
		switch {
		case op.Kind < ops.OpUpsert || op.Kind > ops.OpDeleteChildren:
			return fmt.Errorf("pgdest: table %q: invalid operation kind %d", op.Table, op.Kind)
		case op.Kind != ops.OpTruncate && len(op.Row) != len(t.cols):
			return fmt.Errorf("pgdest: %v in table %q: %d values for %d columns", op.Kind, op.Table, len(op.Row), len(t.cols))
		case op.Kind == ops.OpDeleteChildren && (op.Set.Len() == 0 || op.Set.Len() >= len(t.key)):
			return fmt.Errorf("pgdest: %v in table %q: a parent key of %d columns for a primary key of %d", op.Kind, op.Table, op.Set.Len(), len(t.key))
		}
		k := -1
		switch op.Kind {
		case ops.OpTruncate:
			k = 0
		case ops.OpDeleteChildren:
			k = op.Set.Len()
		}
		if k >= 0 && t.seg.conflicts(k) {
			if err := d.flush(ctx, t); err != nil {
				return err
			}
		}
		fresh := false
		if t.unkeyed {
			var err error
			if fresh, err = d.loadUnkeyed(ctx, t, op); err != nil {
				return err
			}
		}
		if fresh {
			t.seg.addNew(op, at)
		} else {
			t.seg.add(op, at)
		}
		t.sum.Count(op.Kind)
		if t.seg.size() >= d.flushRows {
			if err := d.flush(ctx, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// MaxUnkeyedRows is the number of rows loaded into a table without its
// primary key after which the key is built (see Options.KeyedLoad): the
// hashes of their keys, which tell a new key from one loaded before, take
// about 16 bytes each.
const MaxUnkeyedRows = 10_000_000

// loadUnkeyed checks that op can go into t, a table without its primary
// key yet: an upsert of a key not loaded before (fresh), or of a key of
// the segment, which replaces its row. Otherwise it builds the key (see
// addKey) first.
func (d *DB) loadUnkeyed(ctx context.Context, t *table, op *ops.Op) (fresh bool, err error) {
	if op.Kind == ops.OpUpsert && t.keys.len() < MaxUnkeyedRows {
		key := t.c.KeyOf(op.Row)
		if t.keys.add(maphash.String(d.seed, key)) {
			return true, nil
		}
		if t.seg.has(key) {
			return false, nil // the segment replaces its row
		}
	}
	return false, d.addKey(ctx, t)
}

// addKey builds the primary key of an unkeyed table, in the open
// transaction, after its buffered rows.
func (d *DB) addKey(ctx context.Context, t *table) error {
	if err := d.flush(ctx, t); err != nil {
		return err
	}
	t.unkeyed, t.keys = false, nil
	d.log = append(d.log, &record{t: t, keyed: t.name, stmts: []stmt{{step: "add primary key", sql: keyMemory}, {step: "add primary key", sql: t.addKeySQL()}}})
	start := time.Now()
	if err := d.retry(ctx, func() error { return d.writeLog(ctx) }); err != nil {
		return fmt.Errorf("pgdest: building the primary key of table %q: %w", t.name, d.fail(err))
	}
	d.logger.Info("pgdest: built the primary key of a table loaded without it", "schema", d.schema, "table", t.name, "took", time.Since(start))
	return nil
}

// usable reports why the DB cannot take operations.
func (d *DB) usable() error {
	switch {
	case d.closed:
		return ErrClosed
	case d.failed != nil:
		return d.rolledBack()
	}
	return nil
}

// rolledBack returns the error of an operation refused after a rollback.
func (d *DB) rolledBack() error {
	return fmt.Errorf("%w after an earlier error (%w); Prepare starts over from the stored state%s", ErrRolledBack, d.failed, d.resumes())
}

// resumes describes the last checkpoint, where a sync resumes.
func (d *DB) resumes() string {
	if d.lastSeq == 0 {
		return ""
	}
	return fmt.Sprintf(" (commit %d, %s)", d.lastSeq, d.lastAt.UTC().Format(time.RFC3339))
}

// pendingOps counts the buffered and flushed rows since the last commit.
func (d *DB) pendingOps() int {
	n := 0
	for _, t := range d.tables {
		n += t.seg.size()
	}
	for _, r := range d.log {
		n += r.rows
	}
	return n
}

// dropPending forgets the operations since the last commit.
func (d *DB) dropPending() {
	for _, t := range d.tables {
		t.seg = newSegment(t)
	}
	for _, r := range d.log {
		_ = r.settle() // no encoding goroutine outlives its record
	}
	d.log = nil
	clear(d.delta)
	clear(d.keyed)
}

// fail handles err, the error of an operation that tried to write: a
// transient failure (retries exhausted) or a cancelled context keeps the
// operations, which the next try writes again; any other error rolls
// the transaction back, drops the operations and refuses checkpoints
// until Prepare.
func (d *DB) fail(err error) error {
	if transient(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		d.dropConn()
		n := d.pendingOps()
		return fmt.Errorf("%w; nothing since the last checkpoint%s is committed: its %d rows are kept for the next checkpoint, and if the sync stops, it resumes from the stored state", err, d.resumes(), n)
	}
	n := d.pendingOps()
	d.rollback()
	d.commitSeq = 0 // the server answered: the commit, if any, failed
	if n == 0 {
		// Nothing was dropped: the stored state still covers what the
		// schema holds.
		return err
	}
	d.dropPending()
	d.failed = err
	d.logger.Error("pgdest: a write failed; rolled back the operations since the last checkpoint", "rows", n, "err", err)
	return fmt.Errorf("%w: rolled back the %d rows since the last checkpoint%s, where the sync resumes", err, n, d.resumes())
}
