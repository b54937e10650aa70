package sqldest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

func TestLoadAndSave(t *testing.T) {
	ctx := context.Background()
	db, path := open(t, sqldest.Options{})
	// A new file holds no state, before and after Prepare.
	if got := encoded(t, load(t, db)); got != encoded(t, state.New()) {
		t.Errorf("Load of a new database = %s, want state.New()", got)
	}
	if err := prepare(ctx, db, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	if got := encoded(t, load(t, db)); got != encoded(t, state.New()) {
		t.Errorf("Load after Prepare = %s, want state.New()", got)
	}
	st := mark("items", 5)
	st.Table("items").Values = map[string]string{"etag": `"x"`}
	if err := db.Checkpoint(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got := db.Summary()[""].Checkpoints; got != 1 {
		t.Errorf("checkpoints counted = %d, want 1", got)
	}
	st.Table("items").Values["etag"] = "changed after Checkpoint"
	db.Close()
	db = reopen(t, path, sqldest.Options{})
	got := load(t, db)
	if want := mark("items", 5); cmp.Diff(want.Tables["items"].Mark, got.Tables["items"].Mark) != "" || got.Tables["items"].Values["etag"] != `"x"` {
		t.Errorf("Load after reopening = %s", encoded(t, got))
	}
	var updated string
	if err := db.SQL().QueryRowContext(ctx, `SELECT updated_at FROM _connector_state WHERE id = 1`).Scan(&updated); err != nil || len(updated) != len("2006-01-02T15:04:05.000000000Z") {
		t.Errorf("updated_at = %q, %v", updated, err)
	}
}

func TestCorruptState(t *testing.T) {
	ctx := context.Background()
	for _, loadFirst := range []bool{true, false} {
		t.Run(fmt.Sprint("load first ", loadFirst), func(t *testing.T) {
			db, path := open(t, sqldest.Options{})
			if err := prepare(ctx, db, []schema.Table{items}); err != nil {
				t.Fatal(err)
			}
			apply(t, db, []op{{kind: "upsert", table: "items", row: item(1, "a", 1)}, {kind: "checkpoint", st: mark("items", 1)}})
			const garbage = `{"version": 1, "tables": {"items": {"mark": 12}}`
			if _, err := db.SQL().ExecContext(ctx, `UPDATE _connector_state SET state = ?`, garbage); err != nil {
				t.Fatal(err)
			}
			db.Close()
			db = reopen(t, path, sqldest.Options{})
			if err := prepare(ctx, db, []schema.Table{items}); err != nil {
				t.Fatal(err)
			}
			if loadFirst {
				if _, err := db.LoadState(ctx); !errors.Is(err, state.ErrCorrupt) {
					t.Fatalf("Load of a corrupt state = %v, want state.ErrCorrupt", err)
				}
			}
			apply(t, db, []op{{kind: "upsert", table: "items", row: item(2, "b", 2)}})
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
			if err := prepare(ctx, db, []schema.Table{items}); err != nil {
				t.Fatal(err)
			}
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

// TestConcurrentWriters writes several tables from several goroutines,
// each checkpointing now and then, as the runner does with Concurrency
// above 1.
func TestConcurrentWriters(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	const tables, perTable = 4, 60
	var decl []schema.Table
	for i := range tables {
		tt := items
		tt.Name = fmt.Sprint("items", i)
		decl = append(decl, tt)
	}
	path := t.TempDir() + "/dest.db"
	db, err := sqldest.Open(ctx, path, sqldest.Options{Logger: quiet, BatchSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	mem := ops.NewMemory()
	for _, d := range []ops.Destination{db, mem} {
		if err := prepare(ctx, d, decl); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, tables*2)
	for g := range tables {
		name := decl[g].Name
		wg.Go(func() {
			for i := range perTable {
				var err error
				switch {
				case i%10 == 9:
					err = db.Checkpoint(ctx, mark(name, i))
				case i%7 == 6:
					err = write1(ctx, db, op{kind: "delete", table: name, row: schema.Row{"id": int64(i - 3)}})
				case i%5 == 4:
					err = write1(ctx, db, op{kind: "update", table: name, row: schema.Row{"id": int64(i - 1), "qty": int64(-i)}})
				default:
					err = write1(ctx, db, op{kind: "upsert", table: name, row: item(int64(i), name, int64(i))})
				}
				if err != nil {
					errs <- err
					return
				}
				wg.Go(func() { _, _ = db.Live(ctx, name) }) // readers too
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The same operations, one table after the other, in Memory.
	for g := range tables {
		name := decl[g].Name
		for i := range perTable {
			switch {
			case i%10 == 9:
			case i%7 == 6:
				apply(t, mem, []op{{kind: "delete", table: name, row: schema.Row{"id": int64(i - 3)}}})
			case i%5 == 4:
				apply(t, mem, []op{{kind: "update", table: name, row: schema.Row{"id": int64(i - 1), "qty": int64(-i)}}})
			default:
				apply(t, mem, []op{{kind: "upsert", table: name, row: item(int64(i), name, int64(i))}})
			}
		}
	}
	if err := db.Checkpoint(ctx, mark("end", 0)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range decl {
		sameLive(t, mem, db, tt.Name)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, path, sqldest.Options{})
	if err := prepare(ctx, db, decl); err != nil {
		t.Fatal(err)
	}
	for _, tt := range decl {
		sameLive(t, mem, db, tt.Name)
	}
	db.Close()
}

func TestOpenPaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := dir + "/odd name?x=1#frag%41.db"
	db := reopen(t, path, sqldest.Options{})
	if err := prepare(ctx, db, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, db, []op{{kind: "upsert", table: "items", row: item(1, "a", 1)}, {kind: "checkpoint", st: mark("items", 1)}})
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
	if err := prepare(ctx, db, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	apply(t, db, []op{{kind: "upsert", table: "items", row: item(1, "a", 1)}, {kind: "checkpoint", st: mark("items", 1)}})
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
