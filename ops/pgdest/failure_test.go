package pgdest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/schema"
)

// pages returns n pages of random operations on items and labels, each
// ending with a checkpoint: upserts, updates, deletes, and children
// replaced, with updates then deletes of one row in a page (whose merge,
// written twice, would not give the same row).
func pages(seed uint64, n int) []op {
	r := rand.New(rand.NewPCG(seed, 99))
	var out []op
	for p := range n {
		for range 30 {
			id := int64(r.IntN(20))
			switch x := r.IntN(10); {
			case x < 4:
				out = append(out, op{kind: ops.OpUpsert, table: "items", row: item(id, fmt.Sprint("n", r.IntN(100)), int64(r.IntN(100)))})
			case x < 6:
				out = append(out, op{kind: ops.OpUpdate, table: "items", row: schema.Row{"id": id, "qty": int64(r.IntN(100))}},
					op{kind: ops.OpDelete, table: "items", row: schema.Row{"id": id}})
			case x < 7:
				out = append(out, op{kind: ops.OpDelete, table: "items", row: schema.Row{"id": id}})
			default:
				out = append(out, op{kind: ops.OpDeleteChildren, table: "labels", row: schema.Row{"item": id}})
				for l := range r.IntN(3) {
					out = append(out, op{kind: ops.OpUpsert, table: "labels", row: schema.Row{"item": id, "label": fmt.Sprint("l", l+r.IntN(2)), "color": fmt.Sprint(p)}})
				}
			}
		}
		out = append(out, op{st: mark("items", p)})
	}
	return out
}

// failing runs pages through a DB that the hooks of setup break, and
// through Memory, and checks that every checkpoint succeeded (retried),
// that the rows equal Memory's, that each checkpoint committed once and
// that a reopened DB finds the row counts it recorded.
func failing(t *testing.T, opts pgdest.Options, setup func(db *pgdest.DB, dsn, app string)) {
	t.Helper()
	ctx := context.Background()
	dsn, name := pgtest.Schema(t)
	app := "victim_" + name
	opts.Schema, opts.Now, opts.Logger = name, clock(), quiet
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 10 * time.Millisecond
	}
	db := reopen(t, pgtest.WithApp(dsn, app), opts)
	mem := ops.NewMemory()
	mem.Now = clock()
	for _, d := range []ops.Destination{mem, db} {
		if err := d.Prepare(ctx, []schema.Table{items, labels}); err != nil {
			t.Fatal(err)
		}
	}
	seq0 := seqOf(t, dsn, name)
	setup(db, dsn, app)
	seq := pages(1, 4)
	apply(t, mem, seq, 7)
	apply(t, db, seq, 7)
	pgdest.SetTestHook(db, nil)
	pgdest.SetTestAfter(db, nil)
	sameRows(t, mem, db, "items")
	sameRows(t, mem, db, "labels")
	if got := seqOf(t, dsn, name) - seq0; got != 4 {
		t.Errorf("commits for 4 checkpoints = %d, want 4", got)
	}
	db.Close()
	db = reopen(t, dsn, opts)
	if err := db.Prepare(ctx, []schema.Table{items, labels}); err != nil {
		t.Errorf("Prepare after the failures: %v", err)
	}
	if diff := cmp.Diff(mark("items", 3), load(t, db)); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

// seqOf returns the commit sequence number stored in schema.
func seqOf(t *testing.T, dsn, schema string) int64 {
	t.Helper()
	var n int64
	if err := pgConn(t, dsn).QueryRow(context.Background(), `SELECT seq FROM `+schema+`._connector_state`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// nth returns a hook that runs f at the n-th time (from 1) of step, and
// at the times n*factor, n*factor², ... after (factor 0: once). A
// replayed transaction repeats its steps, so the failures thin out.
func nth(step string, n, factor int, f func() error) func(string) error {
	var count int
	next := n
	return func(s string) error {
		if s != step {
			return nil
		}
		count++
		if count != next {
			return nil
		}
		if next *= factor; factor > 1 && next == count {
			next++
		}
		if factor == 0 {
			next = -1
		}
		return f()
	}
}

// both runs the hooks a and b.
func both(a, b func(string) error) func(string) error {
	return func(s string) error {
		if err := a(s); err != nil {
			return err
		}
		return b(s)
	}
}

// TestTerminatedBackend ends the DB's server process (as an
// administrator, or a crash of that backend, would) at each step of the
// checkpoint transactions; the transaction is written again on a new
// connection.
func TestTerminatedBackend(t *testing.T) {
	for _, step := range []string{"connect", "begin", "copy", "copy direct", "delete children", "upsert", "update", "update missing", "delete", "state", "commit"} {
		t.Run(step, func(t *testing.T) {
			var ended atomic.Int64
			failing(t, pgdest.Options{FlushRows: 10}, func(db *pgdest.DB, dsn, app string) {
				terminate := func() error {
					n, err := pgtest.Terminate(context.Background(), dsn, app)
					ended.Add(int64(n))
					return err
				}
				if step == "connect" {
					// The connection breaks, then the first two tries
					// to connect again are refused.
					refused := func() error {
						return &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
					}
					pgdest.SetTestHook(db, both(nth("upsert", 2, 0, terminate), both(nth("connect", 1, 0, refused), nth("connect", 2, 0, refused))))
					return
				}
				pgdest.SetTestHook(db, nth(step, 2, 4, terminate))
			})
			if ended.Load() == 0 {
				t.Errorf("no backend was ended at %s", step)
			}
		})
	}
}

// TestLostCommitAnswer loses the answer of COMMITs that went through:
// the DB finds them committed on its next connection and does not
// commit them again.
func TestLostCommitAnswer(t *testing.T) {
	failing(t, pgdest.Options{}, func(db *pgdest.DB, dsn, app string) {
		pgdest.SetTestAfter(db, nth("commit", 1, 2, func() error {
			if _, err := pgtest.Terminate(context.Background(), dsn, app); err != nil {
				return err
			}
			return fmt.Errorf("reading the answer: %w", io.ErrUnexpectedEOF)
		}))
	})
}

// TestSerializationFailure retries a transaction that failed with a
// serialization failure or a deadlock.
func TestSerializationFailure(t *testing.T) {
	for _, code := range []string{"40001", "40P01"} {
		t.Run(code, func(t *testing.T) {
			failing(t, pgdest.Options{}, func(db *pgdest.DB, dsn, app string) {
				pgdest.SetTestHook(db, nth("upsert", 1, 3, func() error {
					return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "could not serialize access"}
				}))
			})
		})
	}
}

// TestRetriesExhausted fails a checkpoint whose transaction keeps
// failing, with an error that says nothing was committed, keeps its
// operations, and commits them at the next checkpoint.
func TestRetriesExhausted(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, &pgdest.Options{MaxRetries: 2, RetryBackoff: time.Millisecond})
	if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: item(1, "a", 1)}, {st: mark("items", 1)}}, 0)
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: item(2, "b", 2)}}, 0)
	var tries atomic.Int64
	pgdest.SetTestHook(db, func(step string) error {
		if step == "copy" || step == "copy direct" {
			tries.Add(1)
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	err := db.Checkpoint(ctx, mark("items", 2))
	for _, want := range []string{"gave up after 3 attempts", "nothing since the last checkpoint (commit", "1 rows are kept"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Checkpoint = %v, want an error saying %q", err, want)
		}
	}
	if n := tries.Load(); n != 3 {
		t.Errorf("tries = %d, want 3", n)
	}
	pgdest.SetTestHook(db, nil)
	if err := db.Checkpoint(ctx, mark("items", 2)); err != nil {
		t.Fatalf("Checkpoint after the failures: %v", err)
	}
	if n := len(live(t, db, "items")); n != 2 {
		t.Errorf("rows = %d, want 2", n)
	}
	if diff := cmp.Diff(mark("items", 2), load(t, db)); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

// TestCancelledCheckpoint keeps the operations of a checkpoint whose
// context ends mid-transaction.
func TestCancelledCheckpoint(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, &pgdest.Options{})
	if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: item(1, "a", 1)}}, 0)
	cctx, cancel := context.WithCancel(ctx)
	pgdest.SetTestHook(db, func(step string) error {
		if step == "state" {
			cancel()
		}
		return nil
	})
	if err := db.Checkpoint(cctx, mark("items", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Checkpoint with its context cancelled = %v, want context.Canceled", err)
	}
	pgdest.SetTestHook(db, nil)
	if err := db.Checkpoint(ctx, mark("items", 1)); err != nil {
		t.Fatal(err)
	}
	if n := len(live(t, db, "items")); n != 1 {
		t.Errorf("rows = %d, want 1", n)
	}
}

// TestValuesPostgresCannotHold fails on a value Postgres cannot hold,
// naming the table, row and column, rolls back, and refuses further
// operations until Prepare.
func TestValuesPostgresCannotHold(t *testing.T) {
	ctx := context.Background()
	wideC := compiled["wide"]
	for _, tc := range []struct {
		name string
		col  string
		val  any
		want string
	}{
		{"NUL in text", "s", "a\x00b", `column "s": value Postgres cannot hold: text with a NUL byte`},
		{"date past 5874897", "nd", time.Date(5874898, 1, 1, 0, 0, 0, 0, time.UTC), `column "nd": value Postgres cannot hold: date`},
		{"time before 4714 BC", "utc", time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), `column "utc": value Postgres cannot hold: time`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := open(t, &pgdest.Options{})
			if err := db.Prepare(ctx, []schema.Table{wide}); err != nil {
				t.Fatal(err)
			}
			good := schema.Row{"tenant": "a", "id": int64(1), "day": t0.Truncate(24 * time.Hour)}
			apply(t, db, []op{{kind: ops.OpUpsert, table: "wide", row: good}, {st: mark("wide", 1)}}, 0)
			bad := schema.Row{"tenant": "a", "id": int64(2), "day": t0.Truncate(24 * time.Hour), tc.col: tc.val}
			o, err := ops.OpUpsert.Normalize(wideC, bad)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Write(ctx, []ops.Op{o}); err != nil {
				t.Fatal(err)
			}
			err = db.Checkpoint(ctx, mark("wide", 2))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `table "wide", row`) {
				t.Fatalf("Checkpoint = %v, want an error saying %q", err, tc.want)
			}
			if err := db.Write(ctx, []ops.Op{normalize(t, op{kind: ops.OpUpsert, table: "wide", row: good})}); !errors.Is(err, pgdest.ErrRolledBack) {
				t.Errorf("Write after the failure = %v, want ErrRolledBack", err)
			}
			if err := db.Prepare(ctx, []schema.Table{wide}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(mark("wide", 1), load(t, db)); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			apply(t, db, []op{{kind: ops.OpUpsert, table: "wide", row: good}, {st: mark("wide", 3)}}, 0)
		})
	}
}

// TestServerRestart restarts the server (pg_ctl restart -m fast) while
// a transaction is open, and at each step of a checkpoint.
func TestServerRestart(t *testing.T) {
	s := pgtest.Managed(t)
	for _, step := range []string{"upsert", "state", "commit"} {
		t.Run(step, func(t *testing.T) {
			failing(t, pgdest.Options{FlushRows: 10}, func(db *pgdest.DB, dsn, app string) {
				pgdest.SetTestHook(db, nth(step, 2, 0, func() error {
					return s.Restart(context.Background())
				}))
			})
		})
	}
}

// TestServerDown stops the server during a checkpoint and starts it a
// second later: the checkpoint waits through its retries.
func TestServerDown(t *testing.T) {
	s := pgtest.Managed(t)
	var wg sync.WaitGroup
	defer wg.Wait()
	failing(t, pgdest.Options{RetryBackoff: 100 * time.Millisecond}, func(db *pgdest.DB, dsn, app string) {
		pgdest.SetTestHook(db, nth("state", 2, 0, func() error {
			ctx := context.Background()
			if err := s.StopServer(ctx); err != nil {
				return err
			}
			wg.Go(func() {
				time.Sleep(time.Second)
				if err := s.StartServer(ctx); err != nil {
					t.Error(err)
				}
			})
			return nil
		}))
	})
}
