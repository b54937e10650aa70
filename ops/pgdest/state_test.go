package pgdest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// TestCorruptState refuses to load or overwrite a stored state that
// cannot be decoded.
func TestCorruptState(t *testing.T) {
	ctx := context.Background()
	opts := pgdest.Options{}
	db, dsn := open(t, &opts)
	if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: item(1, "a", 1)}, {st: mark("items", 1)}}, 0)
	db.Close()
	const bad = `{"version": 2, "tables": {"items": {"cursor": 12}}`
	if err := pgtest.Exec(ctx, dsn, `UPDATE `+opts.Schema+`._connector_state SET state = $1`, bad); err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		var s string
		if err := pgConn(t, dsn).QueryRow(ctx, `SELECT state FROM `+opts.Schema+`._connector_state`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// Checkpoint without LoadState first.
	db = reopen(t, dsn, opts)
	if err := db.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, db, []op{{kind: ops.OpUpsert, table: "items", row: item(2, "b", 2)}}, 0)
	if err := db.Checkpoint(ctx, mark("items", 2)); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Checkpoint over a corrupt state = %v, want an error wrapping state.ErrCorrupt", err)
	}
	if _, err := db.LoadState(ctx); !errors.Is(err, state.ErrCorrupt) || !errors.Is(err, ops.ErrCorrupt) {
		t.Errorf("LoadState = %v, want an error wrapping state.ErrCorrupt and ops.ErrCorrupt", err)
	}
	if err := db.CheckpointMerge(ctx, func(s *state.State) (*state.State, error) { return s, nil }); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("CheckpointMerge over a corrupt state = %v, want an error wrapping state.ErrCorrupt", err)
	}
	if got := stored(); got != bad {
		t.Errorf("stored state = %q, want it kept: %q", got, bad)
	}
}

// TestLock lets one exclusive DB, or any number of shared DBs, hold a
// schema.
func TestLock(t *testing.T) {
	ctx := context.Background()
	opts := pgdest.Options{LockWait: -1}
	a, dsn := open(t, &opts)
	start := time.Now()
	_, err := pgdest.Open(ctx, dsn, opts)
	if !errors.Is(err, pgdest.ErrInUse) || !strings.Contains(err.Error(), "in use by another sync") || !strings.Contains(err.Error(), "connector-pgdest") {
		t.Errorf("second Open = %v, want ErrInUse naming the holder", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open with LockWait -1 took %v", d)
	}
	shared := opts
	shared.Shared = true
	if _, err := pgdest.Open(ctx, dsn, shared); !errors.Is(err, pgdest.ErrInUse) {
		t.Errorf("shared Open beside an exclusive DB = %v, want ErrInUse", err)
	}
	other := opts
	other.Schema += "_other"
	reopen(t, dsn, other) // another schema is another sync

	a.Close()
	s1 := reopen(t, dsn, shared)
	s2 := reopen(t, dsn, shared)
	if _, err := pgdest.Open(ctx, dsn, opts); !errors.Is(err, pgdest.ErrInUse) {
		t.Errorf("exclusive Open beside shared DBs = %v, want ErrInUse", err)
	}
	if err := s1.Checkpoint(ctx, state.New()); err == nil {
		t.Error("Checkpoint of a shared DB succeeded, want an error")
	}
	s1.Close()
	s2.Close()

	// A crashed holder's lock goes with its connection: Open waits for
	// it.
	c := reopen(t, dsn, opts)
	if err := pgdest.Crash(c); err != nil {
		t.Fatal(err)
	}
	wait := opts
	wait.LockWait = 0
	reopen(t, dsn, wait)
}

// TestTakenOver refuses to checkpoint for a DB whose schema another
// sync opened while its connection was broken.
func TestTakenOver(t *testing.T) {
	ctx := context.Background()
	opts := pgdest.Options{RetryBackoff: time.Millisecond}
	a, dsn := open(t, &opts)
	if err := a.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, a, []op{{kind: ops.OpUpsert, table: "items", row: item(1, "a", 1)}}, 0)
	// a's connection breaks; b opens, syncs and closes.
	if err := pgtest.Exec(ctx, dsn, "SELECT pg_terminate_backend($1)", int(pgdest.PID(a))); err != nil {
		t.Fatal(err)
	}
	b := reopen(t, dsn, opts)
	if err := b.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, b, []op{{kind: ops.OpUpsert, table: "items", row: item(2, "b", 2)}, {st: mark("items", 2)}}, 0)
	b.Close()
	err := a.Checkpoint(ctx, mark("items", 1))
	if !errors.Is(err, pgdest.ErrInUse) {
		t.Fatalf("Checkpoint of the DB taken over = %v, want ErrInUse", err)
	}
	c := reopen(t, dsn, opts)
	if diff := cmp.Diff(mark("items", 2), load(t, c)); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

// TestSharedMerge checkpoints two shared DBs of one schema at once, each
// merging its part into the stored state.
func TestSharedMerge(t *testing.T) {
	ctx := context.Background()
	opts := pgdest.Options{Shared: true}
	_, dsn := open(t, &opts)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for p, table := range []string{"items", "labels"} {
		db := reopen(t, dsn, opts)
		wg.Go(func() {
			if err := db.Prepare(ctx, []schema.Table{items, labels}); err != nil {
				errs <- err
				return
			}
			for i := range 20 {
				var o ops.Op
				if table == "items" {
					o = normalize(t, op{kind: ops.OpUpsert, table: table, row: item(int64(i), "x", int64(p))})
				} else {
					o = normalize(t, op{kind: ops.OpUpsert, table: table, row: schema.Row{"item": int64(i), "label": "l", "color": "c"}})
				}
				if err := db.Write(ctx, []ops.Op{o}); err != nil {
					errs <- err
					return
				}
				err := db.CheckpointMerge(ctx, func(stored *state.State) (*state.State, error) {
					out := stored.Clone()
					out.Table(table).Values = map[string]string{"n": string(rune('a' + i))}
					return out, nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := load(t, reopen(t, dsn, opts))
	for _, table := range []string{"items", "labels"} {
		if v := got.Table(table).Values["n"]; v != "t" {
			t.Errorf("state of %s = %q, want %q: a merge lost the other part's progress", table, v, "t")
		}
	}
}
