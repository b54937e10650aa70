package connector_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

// destination is a destination of the end-to-end tests, opened at a
// location and reopened there after a run, as a new process would.
type destination struct {
	name string
	// open opens the destination at loc, a fresh directory of the test.
	open func(t *testing.T, loc string) ops.Destination
	// live returns the live rows of table at loc, once closed.
	live func(t *testing.T, loc, table string) map[string]schema.Row
	// close closes a destination open returned.
	close func(t *testing.T, d ops.Destination)
}

// destinations returns every destination of this module that the
// end-to-end tests run against.
func destinations() []destination {
	mems := map[string]*ops.Memory{}
	return []destination{
		{
			name: "memory",
			open: func(t *testing.T, loc string) ops.Destination {
				if mems[loc] == nil {
					mems[loc] = ops.NewMemory()
				}
				return mems[loc]
			},
			live:  func(t *testing.T, loc, table string) map[string]schema.Row { return mems[loc].Live(table) },
			close: func(*testing.T, ops.Destination) {},
		},
		{
			name: "sqlite",
			open: func(t *testing.T, loc string) ops.Destination {
				db, err := sqldest.Open(context.Background(), filepath.Join(loc, "db.sqlite"), sqldest.Options{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatalf("sqldest.Open: %v", err)
				}
				return db
			},
			live: func(t *testing.T, loc, table string) map[string]schema.Row {
				db, err := sqldest.Open(context.Background(), filepath.Join(loc, "db.sqlite"), sqldest.Options{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatalf("sqldest.Open: %v", err)
				}
				defer db.Close()
				rows, err := db.Live(context.Background(), table)
				if err != nil {
					t.Fatalf("Live(%s): %v", table, err)
				}
				return rows
			},
			close: func(t *testing.T, d ops.Destination) {
				if err := d.(*sqldest.DB).Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			},
		},
		{
			name: "dir",
			open: func(t *testing.T, loc string) ops.Destination {
				d, err := ops.OpenDir(filepath.Join(loc, "out"), ops.DirOptions{Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatalf("OpenDir: %v", err)
				}
				return d
			},
			live: func(t *testing.T, loc, table string) map[string]schema.Row {
				snap, err := ops.ReadDir(filepath.Join(loc, "out"))
				if err != nil {
					t.Fatalf("ReadDir: %v", err)
				}
				return snap.Live(table)
			},
			close: func(t *testing.T, d ops.Destination) {
				if err := d.(*ops.Dir).Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			},
		},
	}
}

// eachDestination runs f once per destination, in a subtest.
func eachDestination(t *testing.T, f func(t *testing.T, d destination)) {
	for _, d := range destinations() {
		t.Run(d.name, func(t *testing.T) { f(t, d) })
	}
}

// runIn opens d at loc, runs f on it, and closes it.
func runIn(t *testing.T, d destination, loc string, f func(ops.Destination) error) error {
	t.Helper()
	dest := d.open(t, loc)
	defer d.close(t, dest)
	return f(dest)
}

// The three connectors of the runtime's end-to-end tests, in each
// destination: a parent table with a child table, a newest-first source
// with numeric ids, and priority-first over a source without recent
// rows. Each syncs in full, syncs changes, and is interrupted at every
// page and resumed; the final tables must equal the source.

func TestEndToEndChildTables(t *testing.T) {
	eachDestination(t, func(t *testing.T, d destination) {
		for failAt := 0; failAt <= 8; failAt++ {
			loc := t.TempDir()
			api := newIssueAPI(20)
			c := api.connector()
			sync := func(fail int) error {
				api.fetches, api.failAt = 0, fail
				return runIn(t, d, loc, func(dest ops.Destination) error {
					_, err := c.Run(context.Background(), dest, quiet())
					return err
				})
			}
			_ = sync(failAt)
			if err := sync(0); err != nil {
				t.Fatalf("fetch %d: resumed sync: %v", failAt, err)
			}
			api.relabel(999999996)                  // every label removed
			api.relabel(1000000002, "x", "p1", "y") // relabelled
			api.relabel(1000000500, "new")          // a new issue
			_ = sync(1 + failAt%3)
			if err := sync(0); err != nil {
				t.Fatalf("fetch %d: sync after changes: %v", failAt, err)
			}
			issues, labels := api.want()
			if diff := cmp.Diff(issues, d.live(t, loc, "issue")); diff != "" {
				t.Errorf("fetch %d: issue table mismatch (-source +destination):\n%s", failAt, diff)
			}
			if diff := cmp.Diff(labels, d.live(t, loc, "issue_label")); diff != "" {
				t.Errorf("fetch %d: issue_label table mismatch (-source +destination):\n%s", failAt, diff)
			}
		}
	})
}

func TestEndToEndNewestFirst(t *testing.T) {
	eachDestination(t, func(t *testing.T, d destination) {
		for failAt := 0; failAt <= 8; failAt++ {
			loc := t.TempDir()
			api := newNewestAPI(25)
			c := api.connector(4)
			sync := func(fail int) error {
				api.fetches, api.failAt = 0, fail
				return runIn(t, d, loc, func(dest ops.Destination) error {
					_, err := c.Run(context.Background(), dest, quiet())
					return err
				})
			}
			_ = sync(failAt)
			if err := sync(0); err != nil {
				t.Fatalf("fetch %d: resumed sync: %v", failAt, err)
			}
			for i := range 10 {
				api.change(int64(999999990+i*6), i%4 == 3)
			}
			api.change(4000000000, false)
			_ = sync(1 + failAt%3)
			if err := sync(0); err != nil {
				t.Fatalf("fetch %d: sync after changes: %v", failAt, err)
			}
			if diff := cmp.Diff(api.rows(), d.live(t, loc, "event")); diff != "" {
				t.Errorf("fetch %d: event table mismatch (-source +destination):\n%s", failAt, diff)
			}
		}
	})
}

func TestEndToEndPriorityFirstWithoutRecentRows(t *testing.T) {
	eachDestination(t, func(t *testing.T, d destination) {
		for failAt := 0; failAt <= 8; failAt++ {
			loc := t.TempDir()
			api := newFakeAPI(120, 3, oneDay) // 40 days of users, none recent
			now := t0.Add(100 * oneDay)
			o := quiet()
			o.Now = func() time.Time { return now }
			c := api.connector(10, connector.PriorityFirst{Recent: oneDay, Window: 10 * oneDay})
			sync := func(fail int) (*connector.Summary, error) {
				api.fetches, api.failAt = 0, fail
				var sum *connector.Summary
				err := runIn(t, d, loc, func(dest ops.Destination) error {
					var err error
					sum, err = c.Run(context.Background(), dest, o)
					return err
				})
				return sum, err
			}
			_, _ = sync(failAt)
			if _, err := sync(0); err != nil {
				t.Fatalf("fetch %d: resumed sync: %v", failAt, err)
			}
			api.update("u0007", now.Add(time.Minute))
			api.update("u0100", now.Add(2*time.Minute))
			now = now.Add(time.Hour)
			sum, err := sync(0)
			if err != nil {
				t.Fatalf("fetch %d: sync after changes: %v", failAt, err)
			}
			if ts, _ := sum.Table("user"); ts.Upserts != 2 {
				t.Errorf("fetch %d: upserts after 2 changes = %d, want 2", failAt, ts.Upserts)
			}
			if diff := cmp.Diff(api.rows(), d.live(t, loc, "user")); diff != "" {
				t.Errorf("fetch %d: user table mismatch (-source +destination):\n%s", failAt, diff)
			}
		}
	})
}
