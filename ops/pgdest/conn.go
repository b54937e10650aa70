package pgdest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The first keys of the advisory locks: lockClass for the lock a DB
// holds on its schema for its lifetime (exclusive, or shared), ddlClass
// for the transaction lock that serializes the DDL of the shared DBs of
// a schema. The second key is a hash of the schema name.
const (
	lockClass int32 = 0x70676473 // "pgds"
	ddlClass  int32 = 0x70676474
)

// connect opens the connection, unless open, and takes the schema's
// lock. On a reconnect (first false) it checks that no other sync opened
// the schema meanwhile, and resolves a commit whose outcome was unknown.
func (d *DB) connect(ctx context.Context, first bool) error {
	if d.conn != nil {
		return nil
	}
	if err := d.hook("connect"); err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, d.cfg)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			closeConn(conn)
		}
	}()
	if err := d.lock(ctx, conn); err != nil {
		return err
	}
	// Checkpoints are durable when COMMIT returns only with
	// synchronous_commit on (or local, or a replication level): a
	// server configured with off could lose the last checkpoints on a
	// crash, after Checkpoint returned.
	var sync string
	if err := conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&sync); err != nil {
		return fmt.Errorf("reading synchronous_commit: %w", err)
	}
	if sync == "off" {
		if _, err := conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
			return fmt.Errorf("setting synchronous_commit: %w", err)
		}
		d.logger.Info("pgdest: the server has synchronous_commit off; this connection sets it on so that checkpoints are durable")
	}
	d.conn, d.staged, d.inTx = conn, make(map[string]bool), false
	if !first {
		if err := d.reconnected(ctx); err != nil {
			d.conn = nil
			return err
		}
	}
	ok = true
	return nil
}

// lock takes the schema's advisory lock on conn, waiting up to
// d.lockWait.
func (d *DB) lock(ctx context.Context, conn *pgx.Conn) error {
	fn := "pg_try_advisory_lock"
	if d.shared {
		fn = "pg_try_advisory_lock_shared"
	}
	deadline := time.Now().Add(d.lockWait)
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT "+fn+"($1::int4, $2::int4)", lockClass, d.lockKey).Scan(&got); err != nil {
			return fmt.Errorf("taking the schema's lock: %w", err)
		}
		if got {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("schema %q of database %q is %w (%s); wait for it to end, or end it", d.schema, d.cfg.Database, ErrInUse, holders(ctx, conn, d.lockKey))
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// holders describes the sessions holding the schema's lock.
func holders(ctx context.Context, conn *pgx.Conn, key int32) string {
	rows, err := conn.Query(ctx, `SELECT l.pid, a.application_name, coalesce(host(a.client_addr), 'local'), l.mode
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.classid = $1::int4::oid AND l.objid = $2::int4::oid AND l.objsubid = 2 AND l.granted
		ORDER BY l.pid`, lockClass, key)
	if err != nil {
		return "holder unknown: " + err.Error()
	}
	var out []string
	for rows.Next() {
		var pid int
		var app, addr, mode string
		if rows.Scan(&pid, &app, &addr, &mode) == nil {
			out = append(out, fmt.Sprintf("pid %d %q from %s, %s", pid, app, addr, mode))
		}
	}
	rows.Close()
	if len(out) == 0 {
		return "held by a session that just ended"
	}
	return "held by " + strings.Join(out, "; ")
}

// setup creates the schema and the state table if missing, and, for an
// exclusive DB, takes the next generation of the schema, which fences off
// an older DB whose connection broke while this one opened.
func (d *DB) setup(ctx context.Context) error {
	st := d.stateIdent()
	err := pgx.BeginFunc(ctx, d.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1::int4, $2::int4)", ddlClass, d.lockKey); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", d.schema).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+quote(d.schema)); err != nil {
				return fmt.Errorf("creating the schema: %w", err)
			}
			d.logger.Info("pgdest: created schema", "schema", d.schema)
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+st+` (
  "id" integer PRIMARY KEY CHECK ("id" = 1),
  "state" text,
  "seq" bigint NOT NULL DEFAULT 0,
  "generation" bigint NOT NULL DEFAULT 0,
  "row_counts" jsonb NOT NULL DEFAULT '{}',
  "unkeyed" jsonb NOT NULL DEFAULT '[]',
  "updated_at" timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return fmt.Errorf("creating %s: %w", StateTable, err)
		}
		q := "INSERT INTO " + st + ` AS s ("id", "generation") VALUES (1, 1)
			ON CONFLICT ("id") DO UPDATE SET "generation" = s."generation" + 1
			RETURNING "generation", "seq", "updated_at"`
		if d.shared {
			if _, err := tx.Exec(ctx, "INSERT INTO "+st+` ("id") VALUES (1) ON CONFLICT ("id") DO NOTHING`); err != nil {
				return err
			}
			q = `SELECT "generation", "seq", "updated_at" FROM ` + st + ` WHERE "id" = 1`
		}
		return tx.QueryRow(ctx, q).Scan(&d.gen, &d.lastSeq, &d.lastAt)
	})
	if err != nil {
		return fmt.Errorf("setting up: %w", err)
	}
	return nil
}

// reconnected checks a new connection that replaces a broken one: the
// schema must not have been opened by another exclusive DB meanwhile,
// and a commit whose answer was lost is found committed or not.
func (d *DB) reconnected(ctx context.Context) error {
	var gen, seq int64
	var at time.Time
	if err := d.conn.QueryRow(ctx, `SELECT "generation", "seq", "updated_at" FROM `+d.stateIdent()+` WHERE "id" = 1`).Scan(&gen, &seq, &at); err != nil {
		return fmt.Errorf("reading %s after reconnecting: %w", StateTable, err)
	}
	if !d.shared && gen != d.gen {
		return fmt.Errorf("schema %q is %w: another sync opened it while this one's connection was broken", d.schema, ErrInUse)
	}
	if d.commitSeq != 0 {
		if seq >= d.commitSeq {
			// The commit went through before the connection broke.
			d.logger.Info("pgdest: the commit whose answer was lost went through", "seq", d.commitSeq)
			d.committed(d.commitSeq, at)
			d.resolved = true
		}
		d.commitSeq = 0
	}
	return nil
}

// stateIdent returns the quoted name of the state table.
func (d *DB) stateIdent() string { return quote(d.schema) + "." + quote(StateTable) }

// closeConn closes conn, waiting at most a few seconds for the server.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// dropConn closes the connection, which rolls back its transaction, and
// forgets what lived in its session.
func (d *DB) dropConn() {
	if d.conn != nil {
		closeConn(d.conn)
	}
	d.conn, d.inTx, d.staged, d.used = nil, false, nil, nil
}

// rollback rolls back the open transaction, dropping the connection if
// that fails.
func (d *DB) rollback() {
	if d.conn == nil || !d.inTx {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.conn.Exec(ctx, "ROLLBACK"); err != nil {
		d.dropConn()
		return
	}
	// Staging tables created in the transaction are gone with it.
	d.inTx, d.staged, d.used = false, make(map[string]bool), nil
}

// begin opens a transaction unless one is open, and writes the flushed
// records of the log into it again: a new transaction replaces one that
// broke.
func (d *DB) begin(ctx context.Context) error {
	if d.inTx {
		return nil
	}
	if err := d.hook("begin"); err != nil {
		return err
	}
	if _, err := d.conn.Exec(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	d.inTx = true
	d.txID++
	d.used = make(map[string]bool)
	clear(d.delta)
	clear(d.keyed)
	for _, r := range d.log {
		if err := d.run(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// run writes a record in the open transaction: its rows into its
// staging table, by COPY, then its statements, which merge them; or, for
// full rows when they are likely new (see table.direct), its rows
// straight into the table.
func (d *DB) run(ctx context.Context, r *record) error {
	t := r.t
	if r.data == nil && r.enc == nil {
		return d.runStmts(ctx, r)
	}
	if r.full && (r.unkeyed || (t.direct && !d.noDirect)) {
		ok, err := d.runDirect(ctx, r)
		if ok || err != nil {
			return err
		}
	}
	if !d.staged[t.stage] {
		if _, err := d.conn.Exec(ctx, t.stageDDL); err != nil {
			return fmt.Errorf("table %q: creating its staging table: %w", t.name, err)
		}
		d.staged[t.stage] = true
	} else if d.used[t.stage] {
		if _, err := d.conn.Exec(ctx, "TRUNCATE "+t.stage); err != nil {
			return fmt.Errorf("table %q: emptying its staging table: %w", t.name, err)
		}
	}
	if err := d.hook("copy"); err != nil {
		return err
	}
	d.used[t.stage] = true
	copySQL := t.copySQL
	if r.full {
		copySQL = t.copyFullSQL
	}
	_, err := d.conn.PgConn().CopyFrom(ctx, r.reader(), copySQL)
	if eerr := r.settle(); eerr != nil {
		return eerr
	}
	if err != nil {
		return fmt.Errorf("table %q: copying %d rows into its staging table: %w", t.name, r.rows, err)
	}
	return d.runStmts(ctx, r)
}

// runStmts runs the statements of a record.
func (d *DB) runStmts(ctx context.Context, r *record) error {
	t := r.t
	for _, s := range r.stmts {
		if err := d.hook(s.step); err != nil {
			return err
		}
		var n int64
		switch s.count {
		case countQuery:
			if err := d.conn.QueryRow(ctx, s.sql).Scan(&n); err != nil {
				return fmt.Errorf("table %q: %s: %w", t.name, s.step, err)
			}
		default:
			tag, err := d.conn.Exec(ctx, s.sql)
			if err != nil {
				return fmt.Errorf("table %q: %s: %w", t.name, s.step, err)
			}
			if s.count == countTag {
				n = tag.RowsAffected()
			}
		}
		if s.count != countNone {
			d.delta[t.name] += n
		}
		if r.full && s.count != countNone {
			t.direct = n == int64(r.rows) // every row was new
		}
	}
	if r.keyed != "" {
		d.keyed[r.keyed] = false
	}
	r.tx = d.txID
	return nil
}

// runDirect COPYs a record of full rows straight into its table, in a
// savepoint. ok is false when a row's key exists (the savepoint is rolled
// back, and the record must be staged); err is another failure.
func (d *DB) runDirect(ctx context.Context, r *record) (ok bool, err error) {
	t := r.t
	if err := d.hook("copy direct"); err != nil {
		return false, err
	}
	if _, err := d.conn.Exec(ctx, "SAVEPOINT pgdest_direct"); err != nil {
		return false, fmt.Errorf("table %q: %w", t.name, err)
	}
	_, err = d.conn.PgConn().CopyFrom(ctx, r.reader(), t.copyDirectSQL)
	if eerr := r.settle(); eerr != nil {
		return false, eerr
	}
	var pe *pgconn.PgError
	switch {
	case err == nil:
		if _, err := d.conn.Exec(ctx, "RELEASE SAVEPOINT pgdest_direct"); err != nil {
			return false, fmt.Errorf("table %q: %w", t.name, err)
		}
		d.delta[t.name] += int64(r.rows)
		d.logger.Debug("pgdest: copied rows straight into the table", "table", t.name, "rows", r.rows)
		r.tx = d.txID
		return true, nil
	case errors.As(err, &pe) && pe.Code == "23505" && !r.unkeyed: // unique_violation: a key exists
		t.direct = false
		if _, err := d.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT pgdest_direct"); err != nil {
			return false, fmt.Errorf("table %q: %w", t.name, err)
		}
		return false, nil
	}
	return false, fmt.Errorf("table %q: copying %d rows: %w", t.name, r.rows, err)
}

// hook runs the test hook for a step.
func (d *DB) hook(step string) error {
	if d.testHook != nil {
		return d.testHook(step)
	}
	return nil
}

// retry runs f, and again on a new connection after a transient
// failure, up to d.retries more times with exponential backoff and full
// jitter. f runs with d.mu held and must start by connecting.
func (d *DB) retry(ctx context.Context, f func() error) error {
	wait := d.backoff
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		if !transient(err) || ctx.Err() != nil {
			return err
		}
		d.dropConn()
		if attempt > d.retries {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		pause := time.Duration(rand.Int64N(int64(wait))) + time.Millisecond
		d.logger.Warn("pgdest: transient failure; retrying on a new connection", "attempt", attempt, "wait", pause, "err", err)
		if err := sleep(ctx, pause); err != nil {
			return err
		}
		wait = min(2*wait, maxBackoff)
	}
}

// sleep waits for d or the end of ctx.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transient reports whether err is a failure that a new connection and
// transaction may not meet again: a connection that broke or could not
// be made, a server shutting down, restarting or starting up, a
// serialization failure or a deadlock.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", // serialization_failure
			"40P01", // deadlock_detected
			"57P01", // admin_shutdown: the server stops, or the backend was terminated
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up or shutting down
			"53300": // too_many_connections
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection exceptions
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || pgconn.SafeToRetry(err) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "conn closed")
}

// quote returns name as a quoted Postgres identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
