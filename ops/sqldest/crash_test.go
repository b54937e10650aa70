package sqldest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// tables are the tables of the pages.
var tables = []schema.Table{items, wide}

// Two pages of operations on items and wide, each ending with its
// checkpoint, which the tests below cut short in various ways.
func pages() (page1, page2 []opstest.Step) {
	r := rand.New(rand.NewPCG(1, 2))
	var random []opstest.Step
	for _, st := range opstest.RandomSteps(r, 60) {
		if st.Kind != 0 {
			random = append(random, st)
		}
	}
	for i := range 10 {
		page1 = append(page1, opstest.Upsert("items", item(int64(i), fmt.Sprint("item ", i), int64(i))), random[i])
	}
	page1 = append(page1, opstest.Checkpoint(mark("items", 1)))
	for i := 10; i < 15; i++ {
		page2 = append(page2, opstest.Upsert("items", item(int64(i), fmt.Sprint("item ", i), int64(i))))
	}
	page2 = append(page2,
		opstest.Update("items", schema.Row{"id": int64(3), "name": "updated"}),
		opstest.Update("items", schema.Row{"id": int64(99), "qty": int64(1)}),
		opstest.Delete("items", schema.Row{"id": int64(4)}),
		opstest.Truncate("wide"),
	)
	page2 = append(page2, random[10:]...)
	page2 = append(page2,
		opstest.Upsert("items", item(15, "last", 15)),
		opstest.Checkpoint(mark("items", 2)),
	)
	return page1, page2
}

// memoryAfter returns a Memory that received the pages.
func memoryAfter(t *testing.T, seqs ...[]opstest.Step) *ops.Memory {
	m := ops.NewMemory()
	prepare(t, m, tables...)
	for _, seq := range seqs {
		apply(t, m, tables, seq...)
	}
	return m
}

// atCheckpoint fails the test unless db holds exactly what m holds and
// the state st.
func atCheckpoint(t *testing.T, db *sqldest.DB, m *ops.Memory, st *state.State) {
	t.Helper()
	if got, want := encoded(t, load(t, db)), encoded(t, st); got != want {
		t.Fatalf("stored state:\n%s\nwant:\n%s", got, want)
	}
	sameLive(t, m, db, "items")
	sameLive(t, m, db, "wide")
}

// resume reopens the file at path as a new run would, checks that it is
// at the first checkpoint, applies the second page and checks the end.
func resume(t *testing.T, path string, page1, page2 []opstest.Step) {
	t.Helper()
	db := reopen(t, path, sqldest.Options{})
	prepare(t, db, tables...)
	atCheckpoint(t, db, memoryAfter(t, page1), page1[len(page1)-1].State)
	apply(t, db, tables, page2...)
	atCheckpoint(t, db, memoryAfter(t, page1, page2), page2[len(page2)-1].State)
}

// start opens a DB, declares the tables and applies page1.
func start(t *testing.T, opts sqldest.Options, page1 []opstest.Step) (*sqldest.DB, string) {
	db, path := open(t, opts)
	prepare(t, db, tables...)
	apply(t, db, tables, page1...)
	return db, path
}

func TestCloseWithoutCheckpoint(t *testing.T) {
	for _, batch := range []int{1, 0} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			page1, page2 := pages()
			db, path := start(t, sqldest.Options{BatchSize: batch}, page1)
			apply(t, db, tables, page2[:len(page2)-1]...) // all but the checkpoint
			// The DB's own reads see the operations not yet checkpointed.
			sameLive(t, memoryAfter(t, page1, page2[:len(page2)-1]), db, "items")
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			resume(t, path, page1, page2)
		})
	}
}

// TestCrashMidPage kills a process that has written part of a page
// (os.Exit, no Close, no rollback) and resumes from the file.
func TestCrashMidPage(t *testing.T) {
	if path := os.Getenv("SQLDEST_CRASH_PATH"); path != "" {
		crashChild(t, path)
		return
	}
	page1, page2 := pages()
	path := filepath.Join(t.TempDir(), "dest.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidPage$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SQLDEST_CRASH_PATH="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(out), "crashing") {
		t.Fatalf("child = %v, want exit status 3 after \"crashing\"; output:\n%s", err, out)
	}
	resume(t, path, page1, page2)
}

func crashChild(t *testing.T, path string) {
	page1, page2 := pages()
	db, err := sqldest.Open(context.Background(), path, sqldest.Options{BatchSize: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	prepare(t, db, tables...)
	apply(t, db, tables, page1...)
	apply(t, db, tables, page2[:len(page2)-3]...)
	sameLive(t, memoryAfter(t, page1, page2[:len(page2)-3]), db, "items")
	fmt.Println("crashing")
	os.Exit(3)
}

// TestFailureMidPage fails one statement of the second page, or its
// checkpoint, and checks that the first checkpoint is intact and that
// nothing can be checkpointed over the lost rows.
func TestFailureMidPage(t *testing.T) {
	injected := errors.New("injected failure")
	for _, what := range []string{"upsert", "update", "delete", "truncate", "delete children", "state", "commit"} {
		for _, batch := range []int{1, 0} {
			t.Run(fmt.Sprintf("%s batch %d", what, batch), func(t *testing.T) {
				ctx := context.Background()
				page1, page2 := pages()
				db, path := start(t, sqldest.Options{BatchSize: batch}, page1)
				sqldest.SetTestHook(db, func(w string) error {
					if w == what {
						return injected
					}
					return nil
				})
				var failed error
				for _, o := range page2 {
					// One Write per operation, so that those after the
					// failure report it.
					err := opstest.Apply(ctx, db, tables, o)
					if err != nil && failed == nil {
						failed = err
						if !errors.Is(err, injected) {
							t.Fatalf("first error = %v, want the injected failure", err)
						}
						continue
					}
					if failed != nil && !errors.Is(err, sqldest.ErrRolledBack) {
						t.Fatalf("%v after the failure = %v, want ErrRolledBack", o, err)
					}
				}
				if failed == nil {
					t.Fatal("no operation failed")
				}
				sqldest.SetTestHook(db, nil)
				atCheckpoint(t, db, memoryAfter(t, page1), page1[len(page1)-1].State)
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				resume(t, path, page1, page2)
			})
		}
	}
}

// TestPrepareStartsOver checks that after a rollback the next Prepare,
// as a new run does, lets the DB write again from the stored state.
func TestPrepareStartsOver(t *testing.T) {
	ctx := context.Background()
	page1, page2 := pages()
	db, _ := start(t, sqldest.Options{BatchSize: 1}, page1)
	sqldest.SetTestHook(db, func(w string) error { return errors.New("disk on fire") })
	if err := opstest.Apply(ctx, db, tables, opstest.Upsert("items", item(50, "x", 1))); err == nil {
		t.Fatal("no error from the failing begin")
	}
	// A failure to begin loses nothing: the DB goes on.
	sqldest.SetTestHook(db, func(w string) error {
		if w == "upsert" {
			return errors.New("disk on fire")
		}
		return nil
	})
	if err := opstest.Apply(ctx, db, tables, opstest.Upsert("items", item(50, "x", 1))); err == nil || errors.Is(err, sqldest.ErrRolledBack) {
		t.Fatalf("Upsert = %v, want the failure itself", err)
	}
	if err := db.Checkpoint(ctx, mark("items", 9)); !errors.Is(err, sqldest.ErrRolledBack) {
		t.Fatalf("Checkpoint after the failure = %v, want ErrRolledBack", err)
	}
	sqldest.SetTestHook(db, nil)
	prepare(t, db, tables...)
	apply(t, db, tables, page2...)
	atCheckpoint(t, db, memoryAfter(t, page1, page2), page2[len(page2)-1].State)
}

// TestDiskFull fills the database in the middle of a page: SQLite
// fails the statement with SQLITE_FULL, as on a full disk.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	page1, page2 := pages()
	db, path := start(t, sqldest.Options{BatchSize: 1}, page1)
	apply(t, db, tables, page2[:3]...)
	var pagesUsed int64
	if err := db.SQL().QueryRowContext(ctx, "PRAGMA page_count").Scan(&pagesUsed); err != nil {
		t.Fatal(err)
	}
	if err := sqldest.ExecWriter(db, fmt.Sprintf("PRAGMA max_page_count = %d", pagesUsed+1)); err != nil {
		t.Fatal(err)
	}
	big := schema.Row{"tenant": "big", "id": int64(1), "day": t0, "bin": make([]byte, 1<<16)}
	err := opstest.Apply(ctx, db, tables, opstest.Upsert("wide", big))
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("Upsert of a big row into a full database = %v, want a full database", err)
	}
	if err := db.Checkpoint(ctx, mark("items", 9)); !errors.Is(err, sqldest.ErrRolledBack) {
		t.Fatalf("Checkpoint after the failure = %v, want ErrRolledBack", err)
	}
	atCheckpoint(t, db, memoryAfter(t, page1), page1[len(page1)-1].State)
	db.Close()
	resume(t, path, page1, page2)
}
