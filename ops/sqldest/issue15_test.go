package sqldest_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

// Issue 15 (1): the database file, its WAL and shared memory and the
// lock file are readable by their owner only.
func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	db, path := open(t, sqldest.Options{})
	prepare(t, db, tables...)
	apply(t, db, tables, opstest.Upsert("items", item(1, "one", 1)), opstest.Checkpoint(mark("items", 1)))
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, de := range entries {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		seen[de.Name()] = true
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", de.Name(), fi.Mode().Perm())
		}
	}
	for _, name := range []string{"dest.db", "dest.db-wal", "dest.db-shm"} {
		if !seen[name] {
			t.Errorf("no %s in %v", name, seen)
		}
	}
}

// wantLocked fails the test unless err reports the file in use.
func wantLocked(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ops.ErrLocked) || !strings.Contains(err.Error(), "in use by another sync") {
		t.Fatalf("second Open: error %v, want one wrapping ops.ErrLocked", err)
	}
}

// Issue 15 (3): a second Open of a file in use fails with ops.ErrLocked
// until the first DB is closed (or abandoned, as a killed process).
func TestLock(t *testing.T) {
	ctx := context.Background()
	db, path := open(t, sqldest.Options{})
	prepare(t, db, tables...)
	_, err := sqldest.Open(ctx, path, sqldest.Options{Logger: quiet})
	wantLocked(t, err)
	// The same file through another path.
	_, err = sqldest.Open(ctx, filepath.Join(filepath.Dir(path), ".", "dest.db"), sqldest.Options{Logger: quiet})
	wantLocked(t, err)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, path, sqldest.Options{})
	if err := sqldest.Crash(db); err != nil {
		t.Fatal(err)
	}
	reopen(t, path, sqldest.Options{})
}

// TestLockHelper is the other process of TestLockProcess: it opens the
// database of SQLDEST_LOCK_HELPER, says so and waits until killed.
func TestLockHelper(t *testing.T) {
	path := os.Getenv("SQLDEST_LOCK_HELPER")
	if path == "" {
		t.Skip("run by TestLockProcess")
	}
	db, err := sqldest.Open(context.Background(), path, sqldest.Options{Logger: quiet})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	prepare(t, db, tables...)
	fmt.Println("open")
	_, _ = io.Copy(io.Discard, os.Stdin) // until killed
	os.Exit(0)
}

// Issue 15 (3): another process holding the database makes Open fail;
// its death releases the lock.
func TestLockProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "dest.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "SQLDEST_LOCK_HELPER="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "open\n" {
		t.Fatalf("the other process said %q, %v", line, err)
	}
	_, err = sqldest.Open(context.Background(), path, sqldest.Options{Logger: quiet})
	wantLocked(t, err)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	db := reopen(t, path, sqldest.Options{})
	prepare(t, db, tables...)
}

// checkpointed opens a new DB, loads n rows into items with a
// checkpoint, and closes it (or crashes it).
func checkpointed(t *testing.T, opts sqldest.Options, n int, crash bool) string {
	t.Helper()
	db, path := open(t, opts)
	prepare(t, db, tables...)
	var steps []opstest.Step
	for i := range n {
		steps = append(steps, opstest.Upsert("items", item(int64(i), fmt.Sprint("item ", i), int64(i))))
	}
	steps = append(steps, opstest.Delete("items", schema.Row{"id": int64(0)}), opstest.Checkpoint(mark("items", 1)))
	apply(t, db, tables, steps...)
	var err error
	if crash {
		err = sqldest.Crash(db)
	} else {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Issue 15 (4): a table that does not hold the rows the last checkpoint
// recorded (dropped, emptied, fewer rows, more rows) is corruption at
// Open, and at Prepare of a DB from New; nothing is recreated.
func TestDamage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ name, sql string }{
		{"dropped", `DROP TABLE items`},
		{"emptied", `DELETE FROM items`},
		{"truncated", `DELETE FROM items WHERE id >= 10`},
		{"one row less", `DELETE FROM items WHERE id = 3`},
		{"more rows", `INSERT INTO items (id, name, qty, _connector_deleted) VALUES (1000, 'foreign', 1, 0)`},
	} {
		for _, mode := range []struct {
			name  string
			opts  sqldest.Options
			crash bool
		}{{"closed", sqldest.Options{}, false}, {"crashed", sqldest.Options{}, true}, {"keyed", sqldest.Options{KeyedLoad: true}, false}} {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				path := checkpointed(t, mode.opts, 20, mode.crash)
				raw := rawDB(t, path)
				if _, err := raw.ExecContext(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
				_, err := sqldest.Open(ctx, path, sqldest.Options{Logger: quiet})
				if !errors.Is(err, ops.ErrCorrupt) || !strings.Contains(err.Error(), `"items"`) {
					t.Fatalf("Open: error %v, want one wrapping ops.ErrCorrupt naming items", err)
				}
				// Through New, Prepare finds it.
				sdb, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
				if err != nil {
					t.Fatal(err)
				}
				defer sdb.Close()
				db, err := sqldest.New(sdb, sqldest.SQLite{}, sqldest.Options{Logger: quiet})
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if err := db.Prepare(ctx, tables); !errors.Is(err, ops.ErrCorrupt) {
					t.Fatalf("Prepare: error %v, want one wrapping ops.ErrCorrupt", err)
				}
				if tc.name == "dropped" {
					var n int
					if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'items'`).Scan(&n); err != nil || n != 0 {
						t.Fatalf("the dropped table was recreated: %d, %v", n, err)
					}
				}
			})
		}
	}
}

// TestCountsFollow checks that the recorded counts follow every kind of
// operation and the rollbacks: the DB opens again after each.
func TestCountsFollow(t *testing.T) {
	for _, opts := range []sqldest.Options{{}, {KeyedLoad: true}} {
		db, path := open(t, opts)
		prepare(t, db, tables...)
		steps := []opstest.Step{
			opstest.Upsert("items", item(1, "one", 1)),
			opstest.Upsert("items", item(2, "two", 2)),
			opstest.Checkpoint(mark("items", 1)),
			opstest.Upsert("items", item(2, "two again", 2)),
			opstest.Upsert("items", item(3, "three", 3)),
			opstest.Update("items", schema.Row{"id": int64(4), "name": "four"}),
			opstest.Update("items", schema.Row{"id": int64(1), "name": "one again"}),
			opstest.Delete("items", schema.Row{"id": int64(3)}),
			opstest.Upsert("items", item(3, "three again", 3)),
			opstest.Truncate("items"),
			opstest.Upsert("items", item(5, "five", 5)),
			opstest.Checkpoint(mark("items", 2)),
			opstest.Upsert("items", item(6, "six", 6)), // rolled back by the crash
		}
		apply(t, db, tables, steps...)
		if err := sqldest.Crash(db); err != nil {
			t.Fatal(err)
		}
		db = reopen(t, path, opts)
		prepare(t, db, tables...)
		apply(t, db, tables, opstest.Upsert("items", item(7, "seven", 7)), opstest.Checkpoint(mark("items", 3)))
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		reopen(t, path, opts)
		var rows int
		if err := rawDB(t, path).QueryRow(`SELECT "rows" FROM "_connector_tables" WHERE name = 'items'`).Scan(&rows); err != nil || rows != 6 {
			t.Errorf("recorded rows of items: %d, %v; want 6", rows, err)
		}
	}
}

// TestOldDatabaseCounts checks that a database made before the counts
// were recorded is adopted: its tables are counted once and checked from
// then on.
func TestOldDatabaseCounts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dest.db")
	raw := rawDB(t, path)
	for _, q := range []string{
		sqldest.SQLite{}.CreateTable(items),
		`CREATE TABLE IF NOT EXISTS "_connector_state" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "state" TEXT NOT NULL, "updated_at" TEXT NOT NULL)`,
		`CREATE TABLE "_connector_unkeyed" ("name" TEXT PRIMARY KEY, "key" TEXT NOT NULL)`,
		`INSERT INTO items (id, name, qty, _connector_synced, _connector_deleted) VALUES (1, 'old one', 1, '2024-01-01T00:00:00.000000000Z', 0), (2, 'old two', 2, '2024-01-01T00:00:00.000000000Z', 0)`,
		`INSERT INTO _connector_state VALUES (1, '` + encoded(t, mark("items", 7)) + `', '2024-01-01T00:00:00.000000000Z')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db := reopen(t, path, sqldest.Options{})
	prepare(t, db, tables...)
	apply(t, db, tables, opstest.Upsert("items", item(3, "three", 3)), opstest.Checkpoint(mark("items", 8)))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	reopen(t, path, sqldest.Options{}).Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM items WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := sqldest.Open(ctx, path, sqldest.Options{Logger: quiet}); !errors.Is(err, ops.ErrCorrupt) {
		t.Fatalf("Open after a row of the adopted table was deleted: error %v, want one wrapping ops.ErrCorrupt", err)
	}
}

// TestCountsPrepareMidTransaction checks that a Prepare between two
// checkpoints keeps the count of the rows written before it.
func TestCountsPrepareMidTransaction(t *testing.T) {
	db, path := open(t, sqldest.Options{KeyedLoad: true})
	prepare(t, db, tables...)
	apply(t, db, tables, opstest.Upsert("items", item(1, "one", 1)), opstest.Checkpoint(mark("items", 1)))
	apply(t, db, tables, opstest.Upsert("items", item(2, "two", 2)))
	prepare(t, db, tables...)
	apply(t, db, tables, opstest.Upsert("items", item(3, "three", 3)), opstest.Checkpoint(mark("items", 2)))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	reopen(t, path, sqldest.Options{})
}
