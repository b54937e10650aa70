package sqldest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// TestStateTable reads the stored state as another program would.
func TestStateTable(t *testing.T) {
	ctx := context.Background()
	db, _ := open(t, sqldest.Options{})
	prepare(t, db, items)
	apply(t, db, []schema.Table{items}, opstest.Checkpoint(mark("items", 5)))
	var doc, updated string
	if err := db.SQL().QueryRowContext(ctx, `SELECT state, updated_at FROM _connector_state WHERE id = 1`).Scan(&doc, &updated); err != nil {
		t.Fatal(err)
	}
	if doc != encoded(t, mark("items", 5)) {
		t.Errorf("state = %s, want %s", doc, encoded(t, mark("items", 5)))
	}
	if _, err := time.Parse(time.RFC3339Nano, updated); err != nil || len(updated) != len("2006-01-02T15:04:05.000000000Z") {
		t.Errorf("updated_at = %q, %v", updated, err)
	}
}

func TestCorruptState(t *testing.T) {
	ctx := context.Background()
	for _, loadFirst := range []bool{true, false} {
		t.Run(fmt.Sprint("load first ", loadFirst), func(t *testing.T) {
			db, path := open(t, sqldest.Options{})
			prepare(t, db, items)
			apply(t, db, []schema.Table{items}, opstest.Upsert("items", item(1, "a", 1)), opstest.Checkpoint(mark("items", 1)))
			const garbage = `{"version": 1, "tables": {"items": {"mark": 12}}`
			if _, err := db.SQL().ExecContext(ctx, `UPDATE _connector_state SET state = ?`, garbage); err != nil {
				t.Fatal(err)
			}
			db.Close()
			db = reopen(t, path, sqldest.Options{})
			prepare(t, db, items)
			if loadFirst {
				if _, err := db.LoadState(ctx); !errors.Is(err, state.ErrCorrupt) {
					t.Fatalf("Load of a corrupt state = %v, want state.ErrCorrupt", err)
				}
			}
			apply(t, db, []schema.Table{items}, opstest.Upsert("items", item(2, "b", 2)))
			if err := db.Checkpoint(ctx, mark("items", 2)); !errors.Is(err, state.ErrCorrupt) {
				t.Errorf("Checkpoint over a corrupt state = %v, want state.ErrCorrupt", err)
			}
			merge := func(st *state.State) (*state.State, error) { return st, nil }
			if err := db.CheckpointMerge(ctx, merge); !errors.Is(err, state.ErrCorrupt) {
				t.Errorf("CheckpointMerge over a corrupt state = %v, want state.ErrCorrupt", err)
			}
			db.Close()
			db = reopen(t, path, sqldest.Options{})
			var got string
			if err := db.SQL().QueryRowContext(ctx, `SELECT state FROM _connector_state`).Scan(&got); err != nil || got != garbage {
				t.Errorf("stored state = %q, %v; want it untouched", got, err)
			}
			prepare(t, db, items)
			if n := len(live(t, db, "items")); n != 1 {
				t.Errorf("rows = %d, want the 1 checkpointed before", n)
			}
			// Once a person repairs the state, the DB goes on.
			if _, err := db.SQL().ExecContext(ctx, `UPDATE _connector_state SET state = '{}'`); err != nil {
				t.Fatal(err)
			}
			load(t, db)
			if err := db.Checkpoint(ctx, mark("items", 3)); err != nil {
				t.Errorf("Checkpoint after the repair = %v", err)
			}
		})
	}
}

func TestOpenPaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := dir + "/odd name?x=1#frag%41.db"
	db := reopen(t, path, sqldest.Options{})
	prepare(t, db, items)
	apply(t, db, []schema.Table{items}, opstest.Upsert("items", item(1, "a", 1)), opstest.Checkpoint(mark("items", 1)))
	var mode string
	if err := db.SQL().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var sync int
	if err := db.SQL().QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
	if _, err := sqldest.Open(ctx, dir+"/missing/dir/x.db", sqldest.Options{Logger: quiet}); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	if _, err := sqldest.Open(ctx, "", sqldest.Options{}); err == nil {
		t.Error("Open of an empty path succeeded")
	}
	if _, err := sqldest.New(nil, sqldest.SQLite{}, sqldest.Options{}); err == nil {
		t.Error("New with a nil *sql.DB succeeded")
	}
}

// TestNew uses a caller's *sql.DB limited to one connection, which the
// DB holds while open and gives back at Close.
func TestNew(t *testing.T) {
	ctx := context.Background()
	sdb, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	sdb.SetMaxOpenConns(1)
	db, err := sqldest.New(sdb, sqldest.SQLite{}, sqldest.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	load(t, db)
	prepare(t, db, items)
	apply(t, db, []schema.Table{items}, opstest.Upsert("items", item(1, "a", 1)), opstest.Checkpoint(mark("items", 1)))
	if n := len(live(t, db, "items")); n != 1 {
		t.Errorf("rows = %d, want 1", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := sdb.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows seen through the caller's *sql.DB after Close = %d, %v", n, err)
	}
}
