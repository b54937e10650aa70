package sqldest_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// The shared fixtures of ops/opstest, under short names.
var (
	t0    = opstest.T0
	items = opstest.Items
	item  = opstest.Item
	wide  = opstest.Wide
	mark  = opstest.Mark
)

var quiet = slog.New(slog.DiscardHandler)

// open opens a DB in a temporary directory, closed at the end of the
// test, and returns it with its path.
func open(t testing.TB, opts sqldest.Options) (*sqldest.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dest.db")
	return reopen(t, path, opts), path
}

// reopen opens the DB at path, closed at the end of the test.
func reopen(t testing.TB, path string, opts sqldest.Options) *sqldest.DB {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	db, err := sqldest.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// prepare declares tables on d, failing the test on an error.
func prepare(t testing.TB, d ops.Destination, tables ...schema.Table) {
	t.Helper()
	if err := d.Prepare(context.Background(), tables); err != nil {
		t.Fatal(err)
	}
}

// apply sends steps to d, prepared with tables, as the runner does
// (opstest.Apply), failing the test on an error.
func apply(t testing.TB, d ops.Destination, tables []schema.Table, steps ...opstest.Step) {
	t.Helper()
	if err := opstest.Apply(context.Background(), d, tables, steps...); err != nil {
		t.Fatal(err)
	}
}

// live returns db.Live(table), failing the test on an error.
func live(t testing.TB, db *sqldest.DB, table string) map[string]schema.Row {
	t.Helper()
	got, err := db.Live(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// load returns db.LoadState, failing the test on an error.
func load(t testing.TB, db *sqldest.DB) *state.State {
	t.Helper()
	st, err := db.LoadState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sameLive fails the test unless db's live rows of table equal m's.
func sameLive(t testing.TB, m *ops.Memory, db *sqldest.DB, table string) {
	t.Helper()
	if diff := cmp.Diff(m.Live(table), live(t, db, table)); diff != "" {
		t.Fatalf("Live(%q) mismatch (-memory +sqldest):\n%s", table, diff)
	}
}

// encoded returns st as its document, for comparisons.
func encoded(t testing.TB, st *state.State) string {
	t.Helper()
	b, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
