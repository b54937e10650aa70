package connector_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/internal/memsource"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

func TestInterruptedAtEachPageThenResumed(t *testing.T) {
	const n, ties, size = 37, 4, 5 // 8 pages; ties straddle page boundaries
	for failAt := 1; failAt <= 8; failAt++ {
		t.Run(fmt.Sprint("fetch ", failAt), func(t *testing.T) {
			api := newFakeAPI(n, ties, time.Second)
			api.failAt = failAt
			dest := ops.NewMemory()
			c := api.connector(size, connector.PriorityFirst{})
			_, err := c.Run(context.Background(), dest, quiet())
			var te *connector.TableError
			if !errors.As(err, &te) || te.Table != "user" || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("Run() with fetch %d failing = %v, want a *TableError for user", failAt, err)
			}
			if strings.Count(err.Error(), `"user"`) != 1 {
				t.Errorf("Run() error = %q, want the table named once", err)
			}
			first := len(api.emitted)
			if want := (failAt - 1) * size; first != want {
				t.Errorf("rows emitted before the failure = %d, want %d", first, want)
			}
			// The error says where the next run resumes: the state of the
			// last checkpoint, which the destination holds.
			if diff := cmp.Diff(*loadState(dest).Table("user"), te.State); diff != "" {
				t.Errorf("TableError.State differs from the checkpointed state (-checkpointed +error):\n%s", diff)
			}
			api.failAt = 0
			if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
				t.Fatalf("resumed Run() = %v", err)
			}
			if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
				t.Errorf("table after resume mismatch (-source +destination):\n%s", diff)
			}
			// Ties at the boundary neither repeat nor vanish: every row is
			// emitted exactly once over both runs.
			if len(api.emitted) != n {
				t.Errorf("rows emitted over both runs = %d, want %d", len(api.emitted), n)
			}
		})
	}
}

func TestIncrementalSyncsOnlyChanges(t *testing.T) {
	api := newFakeAPI(30, 3, time.Second)
	dest := ops.NewMemory()
	c := api.connector(4, connector.PriorityFirst{})
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	for _, id := range []string{"u0003", "u0010", "u0029"} {
		api.update(id, later) // three changes at one timestamp
	}
	api.takeEmitted()
	sum, err := c.Run(context.Background(), dest, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(api.takeEmitted()); got != 3 {
		t.Errorf("rows emitted by the incremental run = %d, want 3", got)
	}
	if ts, _ := sum.Table("user"); ts.Upserts != 3 {
		t.Errorf("Summary upserts = %d, want 3", ts.Upserts)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table mismatch (-source +destination):\n%s", diff)
	}
	// A third run with nothing new emits nothing.
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	if got := len(api.takeEmitted()); got != 0 {
		t.Errorf("rows emitted with nothing changed = %d, want 0", got)
	}
}

func TestLookbackReReads(t *testing.T) {
	api := newFakeAPI(20, 2, time.Minute)
	dest := ops.NewMemory()
	inc := api.stream(5, connector.PriorityFirst{})
	inc.Lookback = 3 * time.Minute
	c := &connector.Connector{Name: "users", Tables: []connector.Table{{Table: userTable, Stream: inc}}}
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	api.takeEmitted()
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	// The mark is at minute 9; minutes 6 to 9 hold 8 rows, read again.
	if got := len(api.takeEmitted()); got != 8 {
		t.Errorf("rows re-read with a 3 minute lookback = %d, want 8", got)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table mismatch (-source +destination):\n%s", diff)
	}
}

func TestCheckSkipsInvalidRows(t *testing.T) {
	users := []user{{"a", "x", t0}, {"b", "", time.Time{}}, {"c", "z", t0.Add(time.Second)}}
	c := &connector.Connector{Name: "check", Tables: []connector.Table{{Table: userTable,
		Stream: connector.Incremental[user]{
			Pages: func(connector.Window) *paginate.Paginator[user] {
				return paginate.New(&memsource.Source[user]{Items: users, Kind: paginate.KindOffset}, paginate.Offset(10))
			},
			Key: user.key,
			Check: func(u user) error {
				if u.UpdatedAt.IsZero() {
					return errors.New("no updatedAt")
				}
				return nil
			},
			Emit: func(ctx context.Context, w *connector.Writer, u user) error { return w.Upsert(ctx, "user", u.row()) },
		}}}}
	dest := ops.NewMemory()
	sum, err := c.Run(context.Background(), dest, quiet())
	if err != nil {
		t.Fatalf("Run() = %v, want the invalid row skipped", err)
	}
	if ts, _ := sum.Table("user"); ts.Skipped != 1 || ts.Upserts != 2 {
		t.Errorf("summary = %+v, want 1 skipped and 2 upserts", ts)
	}
	if m := loadState(dest).Tables["user"].Mark; !m.ID.Equal(state.String("c")) {
		t.Errorf("mark = %v, want the last valid row c", m)
	}
}

// scriptedUsers serves fixed pages of users, one per fetch.
func scriptedUsers(pages ...[]user) *paginate.Paginator[user] {
	n := 0
	src := paginate.SourceFunc[user](func(context.Context, paginate.Cursor) (paginate.Page[user], error) {
		n++
		if n > len(pages) {
			return paginate.Page[user]{}, nil
		}
		return paginate.Page[user]{Items: pages[n-1]}, nil
	})
	return paginate.New(src, paginate.Offset(10))
}

func TestRowsAcrossPages(t *testing.T) {
	a, b, c, d := user{"a", "1", t0}, user{"b", "2", t0.Add(time.Second)}, user{"c", "3", t0.Add(2 * time.Second)}, user{"d", "4", t0.Add(3 * time.Second)}
	tests := []struct {
		name    string
		pages   [][]user
		want    []string // ids emitted
		wantErr error
	}{
		{"boundary row repeated", [][]user{{a, b}, {b, c}, {d}}, []string{"a", "b", "c", "d"}, nil},
		{"two rows repeated", [][]user{{a, b, c}, {b, c, d}}, []string{"a", "b", "c", "d"}, nil},
		{"unseen older row is written", [][]user{{a, c}, {b, d}}, []string{"a", "c", "b", "d"}, nil},
		{"disorder inside a response", [][]user{{b, a}}, []string{"b"}, connector.ErrOutOfOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			c := &connector.Connector{Name: "drift", Tables: []connector.Table{{Table: userTable,
				Stream: connector.Incremental[user]{
					Pages: func(connector.Window) *paginate.Paginator[user] { return scriptedUsers(tt.pages...) },
					Key:   user.key,
					Emit: func(ctx context.Context, w *connector.Writer, u user) error {
						got = append(got, u.ID)
						return w.Upsert(ctx, "user", u.row())
					},
				}}}}
			_, err := c.Run(context.Background(), ops.NewMemory(), quiet())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Run() = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("emitted %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOutOfOrderSourceIsAnError(t *testing.T) {
	users := []user{{"a", "x", t0.Add(time.Second)}, {"b", "y", t0}}
	c := &connector.Connector{Name: "bad", Tables: []connector.Table{{Table: userTable,
		Stream: connector.Incremental[user]{
			Pages: func(connector.Window) *paginate.Paginator[user] {
				return paginate.New(&memsource.Source[user]{Items: users, Kind: paginate.KindOffset}, paginate.Offset(10))
			},
			Key:  user.key,
			Emit: func(ctx context.Context, w *connector.Writer, u user) error { return w.Upsert(ctx, "user", u.row()) },
		}}}}
	_, err := c.Run(context.Background(), ops.NewMemory(), quiet())
	if !errors.Is(err, connector.ErrOutOfOrder) {
		t.Errorf("Run() over an unsorted source = %v, want ErrOutOfOrder", err)
	}
}

func TestWindowsFollowTheGranularity(t *testing.T) {
	// Users every 250ms; an API that takes whole seconds, and ignores the
	// upper bound of a window.
	api := newFakeAPI(40, 1, 250*time.Millisecond)
	now := t0.Add(10*time.Second + 700*time.Millisecond)
	inc := api.stream(3, connector.PriorityFirst{Recent: 3500 * time.Millisecond, Window: 1500 * time.Millisecond})
	inc.Granularity = time.Second
	inc.Pages = func(w connector.Window) *paginate.Paginator[user] {
		return api.pages(connector.Window{Since: w.Since}, 3) // no until parameter
	}
	api.windows = nil
	c := &connector.Connector{Name: "g", Tables: []connector.Table{{Table: userTable, Stream: inc}}}
	o := quiet()
	o.Now = func() time.Time { return now }
	dest := ops.NewMemory()
	for range 6 {
		if _, err := c.Run(context.Background(), dest, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range api.windows {
		if w.Since.Truncate(time.Second) != w.Since || w.Until.Truncate(time.Second) != w.Until {
			t.Errorf("window %v is not in whole seconds", w)
		}
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table mismatch (-source +destination), rows lost with whole-second windows and no upper bound:\n%s", diff)
	}
	if h := loadState(dest).Tables["user"].History; h == nil || !h.Done {
		t.Errorf("history = %+v, want done", h)
	}
	// Each row was emitted once, although the source ignored Until: rows
	// past a window are dropped, not written twice.
	if got := len(api.takeEmitted()); got != 40 {
		t.Errorf("rows emitted = %d, want 40, each once", got)
	}
}

// numbered is a record with a numeric id and a sequence number, listed
// by (seq, id).
type numbered struct {
	ID  int64
	Seq int64
}

func TestNumericIDsCompareAsNumbers(t *testing.T) {
	// Ids cross a digit boundary inside one tie group: as text
	// "1000000000" would sort before "999999999".
	var items []numbered
	for i := range int64(6) {
		items = append(items, numbered{ID: 999999997 + i, Seq: 7})
	}
	tbl := numberedTable("n")
	var emitted []int64
	c := &connector.Connector{Tables: []connector.Table{{Table: tbl, Stream: connector.Incremental[numbered]{
		Pages: func(w connector.Window) *paginate.Paginator[numbered] {
			after := w.After
			var match []numbered
			for _, it := range items {
				k := state.Mark{Cursor: state.Int(it.Seq), ID: state.Int(it.ID)}
				if after.IsZero() || after.Before(k) {
					match = append(match, it)
				}
			}
			return paginate.New(&memsource.Source[numbered]{Items: match, Kind: paginate.KindOffset}, paginate.Offset(2))
		},
		Key: func(n numbered) state.Mark { return state.Mark{Cursor: state.Int(n.Seq), ID: state.Int(n.ID)} },
		Emit: func(ctx context.Context, w *connector.Writer, n numbered) error {
			emitted = append(emitted, n.ID)
			return w.Upsert(ctx, "n", schema.Row{"id": n.ID, "seq": n.Seq})
		},
	}}}}
	dest := ops.NewMemory()
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if len(emitted) != 6 {
		t.Errorf("emitted %v, want the 6 rows", emitted)
	}
	want := state.Mark{Cursor: state.Int(7), ID: state.Int(1000000002)}
	if m := loadState(dest).Tables["n"].Mark; !m.Cursor.Equal(want.Cursor) || !m.ID.Equal(want.ID) {
		t.Errorf("mark = %v, want %v", m, want)
	}
	// A second run finds nothing new, and is not stuck.
	emitted = nil
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil || len(emitted) != 0 {
		t.Errorf("second Run() = %v, emitted %v; want nil and nothing", err, emitted)
	}
}

func TestVersion1MarkMigratesToNumericIDs(t *testing.T) {
	// A state written by the version 1 library, with a string id, where
	// "999999999" sorted after the next row "1000000000" and stuck the
	// table with ErrOutOfOrder.
	doc := `{"version":1,"tables":{"n":{"mark":{"updatedAt":"2024-01-01T00:00:00Z","id":"999999999"}}}}`
	st, err := state.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	items := []numbered{{ID: 999999998}, {ID: 999999999}, {ID: 1000000000}, {ID: 1000000001}}
	var emitted []int64
	c := &connector.Connector{Tables: []connector.Table{{Table: numberedTable("n"), Stream: connector.Incremental[numbered]{
		Pages: func(w connector.Window) *paginate.Paginator[numbered] {
			return paginate.New(&memsource.Source[numbered]{Items: items, Kind: paginate.KindOffset}, paginate.Offset(10))
		},
		Key: func(n numbered) state.Mark { return state.Mark{Cursor: state.Time(t0), ID: state.Int(n.ID)} },
		Emit: func(ctx context.Context, w *connector.Writer, n numbered) error {
			emitted = append(emitted, n.ID)
			return w.Upsert(ctx, "n", schema.Row{"id": n.ID, "seq": n.Seq})
		},
	}}}}
	dest := stateless{ops.NewMemory()}
	o := quiet()
	o.Store = &state.Memory{}
	if err := o.Store.Save(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), dest, o); err != nil {
		t.Fatalf("Run() from a version 1 state = %v", err)
	}
	if !slices.Equal(emitted, []int64{1000000000, 1000000001}) {
		t.Errorf("emitted %v, want the two rows after the migrated mark", emitted)
	}
}

func TestStateOfAnotherStreamIsRejected(t *testing.T) {
	api := newFakeAPI(5, 1, time.Second)
	for name, st := range map[string]state.Table{
		"full refresh cursor":   {Cursor: paginate.Cursor{Offset: 40}},
		"newest-first pass":     {Pass: &state.Pass{Last: state.Mark{Cursor: state.Time(t0)}}},
		"cursor without a pass": {Cursor: paginate.Cursor{Token: "x"}, Mark: state.Mark{Cursor: state.Time(t0)}},
	} {
		t.Run(name, func(t *testing.T) {
			o := quiet()
			o.Store = &state.Memory{}
			s := state.New()
			*s.Table("user") = st
			if err := o.Store.Save(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			_, err := api.connector(2, connector.PriorityFirst{}).Run(context.Background(), stateless{ops.NewMemory()}, o)
			if !errors.Is(err, connector.ErrStateMismatch) {
				t.Errorf("Run() with the state of %s = %v, want ErrStateMismatch", name, err)
			}
		})
	}
}
