package sqldest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

// keyOf reports how table is keyed in the file: "pk" (PRIMARY KEY),
// "index" (the unique index sqldest.KeyIndex), or "none"; and whether
// sqldest.UnkeyedTable lists it.
func keyOf(t *testing.T, db *sql.DB, table string) (key string, listed bool) {
	t.Helper()
	ctx := context.Background()
	var pk, idx, n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE pk > 0`, table).Scan(&pk); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name = ?`, sqldest.KeyIndex(table), table).Scan(&idx); err != nil {
		t.Fatal(err)
	}
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM "_connector_unkeyed" WHERE name = ?`, table).Scan(&n)
	if err != nil && !strings.Contains(err.Error(), "no such table") {
		t.Fatal(err)
	}
	switch {
	case pk > 0:
		key = "pk"
	case idx > 0:
		key = "index"
	default:
		key = "none"
	}
	return key, n > 0
}

func wantKey(t *testing.T, db *sql.DB, table, key string, listed bool) {
	t.Helper()
	if k, l := keyOf(t, db, table); k != key || l != listed {
		t.Fatalf("table %q: key %s, listed %v; want key %s, listed %v", table, k, l, key, listed)
	}
}

// rawDB opens the file for inspection.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestInitialLoad checks that a new table is loaded without its key
// while only new keys arrive, stays so across checkpoints, and gets its
// key at Close, with the rows of ops.Memory throughout.
func TestInitialLoad(t *testing.T) {
	ctx := context.Background()
	db, path := open(t, sqldest.Options{})
	m := ops.NewMemory()
	both := []ops.Destination{db, m}
	for _, d := range both {
		prepare(t, d, tables...)
	}
	raw := rawDB(t, path)
	wantKey(t, raw, "items", "none", true)
	wantKey(t, raw, "wide", "none", true)
	var steps []opstest.Step
	for i := range 25 {
		steps = append(steps, opstest.Upsert("items", item(int64(i), fmt.Sprint("item ", i), int64(i))))
	}
	steps = append(steps, opstest.Checkpoint(mark("items", 1)))
	for _, d := range both {
		apply(t, d, tables, steps...)
	}
	wantKey(t, raw, "items", "none", true)
	sameLive(t, m, db, "items")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantKey(t, raw, "items", "index", false)
	wantKey(t, raw, "wide", "index", false)

	// Reopened, the table is keyed: upserts of existing keys replace.
	db = reopen(t, path, sqldest.Options{})
	prepare(t, db, tables...)
	wantKey(t, raw, "items", "index", false)
	both = []ops.Destination{db, m}
	more := []opstest.Step{opstest.Upsert("items", item(3, "again", 30)), opstest.Checkpoint(mark("items", 2))}
	for _, d := range both {
		apply(t, d, tables, more...)
	}
	sameLive(t, m, db, "items")
	if _, err := raw.ExecContext(ctx, `INSERT INTO items (id, name, qty, _connector_deleted) VALUES (3, 'dup', 1, 0)`); err == nil {
		t.Fatal("a duplicate key went in: the table has no key")
	}
}

// TestLoadBuildsKey checks that the key is built in the transaction of
// the first operation that needs it: an upsert of a key loaded before
// (in the buffer or in the table), or any other kind, with the
// semantics of ops.Memory; and that a rollback of that transaction
// leaves the table loading, its key built at the next Prepare.
func TestLoadBuildsKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   opstest.Step
	}{
		{"upsert of a buffered key", opstest.Upsert("items", item(9, "nine again", 90))},
		{"upsert of a loaded key", opstest.Upsert("items", item(2, "two again", 20))},
		{"update", opstest.Update("items", schema.Row{"id": int64(3), "name": "updated"})},
		{"delete", opstest.Delete("items", schema.Row{"id": int64(4)})},
		{"truncate", opstest.Truncate("items")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, path := open(t, sqldest.Options{})
			raw := rawDB(t, path)
			m := ops.NewMemory()
			both := []ops.Destination{db, m}
			var page1, page2 []opstest.Step
			for i := range 5 {
				page1 = append(page1, opstest.Upsert("items", item(int64(i), fmt.Sprint("item ", i), int64(i))))
			}
			page1 = append(page1, opstest.Checkpoint(mark("items", 1)))
			for i := 5; i < 10; i++ {
				page2 = append(page2, opstest.Upsert("items", item(int64(i), fmt.Sprint("item ", i), int64(i))))
			}
			page2 = append(page2, tc.op, opstest.Upsert("items", item(10, "ten", 10)))
			for _, d := range both {
				prepare(t, d, tables...)
				apply(t, d, tables, page1...)
				apply(t, d, tables, page2...)
			}
			sameLive(t, m, db, "items")
			// Not committed yet: the other connections see no key.
			wantKey(t, raw, "items", "none", true)
			for _, d := range both {
				apply(t, d, tables, opstest.Checkpoint(mark("items", 2)))
			}
			wantKey(t, raw, "items", "index", false)
			sameLive(t, m, db, "items")
			if err := sqldest.Crash(db); err != nil {
				t.Fatal(err)
			}

			// The same, rolled back by a crash: the next Prepare builds
			// the key of the checkpointed rows.
			db2, path2 := open(t, sqldest.Options{})
			raw2 := rawDB(t, path2)
			prepare(t, db2, tables...)
			apply(t, db2, tables, page1...)
			apply(t, db2, tables, page2...)
			if err := sqldest.Crash(db2); err != nil {
				t.Fatal(err)
			}
			wantKey(t, raw2, "items", "none", true)
			db3 := reopen(t, path2, sqldest.Options{})
			prepare(t, db3, tables...)
			wantKey(t, raw2, "items", "index", false)
			m1 := ops.NewMemory()
			prepare(t, m1, tables...)
			apply(t, m1, tables, page1...)
			sameLive(t, m1, db3, "items")
		})
	}
}

// TestLoadCrash crashes in the middle of a load: the next run finds
// the checkpointed rows, builds the key at Prepare and goes on.
func TestLoadCrash(t *testing.T) {
	page1, page2 := pages()
	db, path := start(t, sqldest.Options{}, page1)
	raw := rawDB(t, path)
	apply(t, db, tables, page2[:4]...)
	if err := sqldest.Crash(db); err != nil {
		t.Fatal(err)
	}
	resume(t, path, page1, page2)
	wantKey(t, raw, "items", "index", false)
}

// TestLoadOtherWriter checks that a DB loading a table without its key
// notices when another DB on the file built the key (at its Prepare),
// and upserts from then on. Open locks the file, so two DBs on one file
// come from New, each over a *sql.DB of its own.
func TestLoadOtherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dest.db")
	raw := rawDB(t, path)
	newDB := func() *sqldest.DB {
		sdb, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sdb.Close() })
		db, err := sqldest.New(sdb, sqldest.SQLite{}, sqldest.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db := newDB()
	prepare(t, db, tables...)
	apply(t, db, tables, opstest.Upsert("items", item(1, "one", 1)), opstest.Checkpoint(mark("items", 1)))
	other := newDB()
	prepare(t, other, tables...)
	wantKey(t, raw, "items", "index", false)
	apply(t, other, tables, opstest.Upsert("items", item(2, "two", 2)), opstest.Checkpoint(mark("items", 2)))
	// db has not seen key 2: an insert would fail or duplicate it.
	apply(t, db, tables, opstest.Upsert("items", item(2, "two by db", 2)), opstest.Checkpoint(mark("items", 3)))
	m := ops.NewMemory()
	prepare(t, m, tables...)
	apply(t, m, tables, opstest.Upsert("items", item(1, "one", 1)), opstest.Upsert("items", item(2, "two by db", 2)))
	sameLive(t, m, db, "items")
	// Both recorded the rows they added: the file opens.
	for _, d := range []*sqldest.DB{db, other} {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	reopen(t, path, sqldest.Options{})
}

// TestKeyedLoad checks Options.KeyedLoad: tables are created with
// their PRIMARY KEY.
func TestKeyedLoad(t *testing.T) {
	db, path := open(t, sqldest.Options{KeyedLoad: true})
	raw := rawDB(t, path)
	prepare(t, db, tables...)
	wantKey(t, raw, "items", "pk", false)
	apply(t, db, tables, opstest.Upsert("items", item(1, "one", 1)), opstest.Checkpoint(mark("items", 1)))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantKey(t, raw, "items", "pk", false)
}

func TestConformanceKeyedLoad(t *testing.T) {
	opstest.RunOptions(t, harness(sqldest.Options{KeyedLoad: true}), opstest.Options{Run: "Semantics|Durability|Random", Seeds: []uint64{5}})
}

// TestOldDatabase opens a file made by the sqldest before loads
// without the key (tables with a PRIMARY KEY, no _connector_unkeyed):
// its tables stay keyed, the state resumes, new tables load without
// their key.
func TestOldDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dest.db")
	raw := rawDB(t, path)
	// The statements of the sqldest of commit c0f69bc.
	for _, q := range []string{
		sqldest.SQLite{}.CreateTable(items),
		`CREATE TABLE IF NOT EXISTS "_connector_state" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "state" TEXT NOT NULL, "updated_at" TEXT NOT NULL)`,
		`INSERT INTO items (id, name, qty, _connector_synced, _connector_deleted) VALUES (1, 'old one', 1, '2024-01-01T00:00:00.000000000Z', 0), (2, 'old two', 2, '2024-01-01T00:00:00.000000000Z', 0)`,
		`INSERT INTO _connector_state VALUES (1, '` + encoded(t, mark("items", 7)) + `', '2024-01-01T00:00:00.000000000Z')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db := reopen(t, path, sqldest.Options{})
	if got, want := encoded(t, load(t, db)), encoded(t, mark("items", 7)); got != want {
		t.Fatalf("LoadState = %s, want %s", got, want)
	}
	prepare(t, db, tables...)
	wantKey(t, raw, "items", "pk", false)
	wantKey(t, raw, "wide", "none", true)
	m := ops.NewMemory()
	prepare(t, m, tables...)
	steps := []opstest.Step{
		opstest.Upsert("items", item(1, "one", 1)),
		opstest.Upsert("items", item(2, "two", 2)),
		opstest.Upsert("items", item(3, "three", 3)),
		opstest.Delete("items", schema.Row{"id": int64(2)}),
		opstest.Checkpoint(mark("items", 8)),
	}
	apply(t, db, tables, steps...)
	apply(t, m, tables, steps...)
	sameLive(t, m, db, "items")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantKey(t, raw, "items", "pk", false)
	wantKey(t, raw, "wide", "index", false)
	db = reopen(t, path, sqldest.Options{})
	prepare(t, db, tables...)
	sameLive(t, m, db, "items")
}

// TestReservedNames checks that the hidden names cannot be declared.
func TestReservedNames(t *testing.T) {
	db, _ := open(t, sqldest.Options{})
	for _, name := range []string{sqldest.UnkeyedTable, sqldest.KeyIndex("items")} {
		tt := items
		tt.Name = name
		if err := db.Prepare(context.Background(), []schema.Table{tt}); !errors.Is(err, schema.ErrInvalidTable) {
			t.Errorf("Prepare(%q) = %v, want ErrInvalidTable", name, err)
		}
	}
}

// TestLoadLimit checks that the key is built once MaxUnkeyedRows rows
// are loaded.
func TestLoadLimit(t *testing.T) {
	sqldest.SetMaxUnkeyed(t, 3)
	db, path := open(t, sqldest.Options{})
	raw := rawDB(t, path)
	m := ops.NewMemory()
	var steps []opstest.Step
	for i := range 3 {
		steps = append(steps, opstest.Upsert("items", item(int64(i), "x", 1)))
	}
	steps = append(steps, opstest.Checkpoint(mark("items", 1)))
	for _, d := range []ops.Destination{db, m} {
		prepare(t, d, tables...)
		apply(t, d, tables, steps...)
	}
	wantKey(t, raw, "items", "none", true)
	more := []opstest.Step{opstest.Upsert("items", item(3, "y", 2)), opstest.Checkpoint(mark("items", 2))}
	for _, d := range []ops.Destination{db, m} {
		apply(t, d, tables, more...)
	}
	wantKey(t, raw, "items", "index", false)
	sameLive(t, m, db, "items")
}
