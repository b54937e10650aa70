package connector_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// event is a record of a Stripe-like API: listed newest first by
// (version, id), with numeric ids, paged with starting_after=<id>.
type event struct {
	ID      int64
	Version int64
	Amount  int64
	Deleted bool
}

func (e event) key() state.Mark { return state.Mark{Cursor: state.Int(e.Version), ID: state.Int(e.ID)} }

var eventTable = schema.Table{Name: "event", PrimaryKey: []string{"id"}, Columns: []schema.Column{
	{Name: "id", Type: schema.Long}, {Name: "version", Type: schema.Long}, {Name: "amount", Type: schema.Long},
}}

// newestAPI serves events newest first and changes between fetches.
type newestAPI struct {
	mu      sync.Mutex
	events  map[int64]event
	next    int64 // the next version
	fetches int
	failAt  int
	emitted int
	between func() // runs before each fetch, to change the source mid-pass
}

func newNewestAPI(n int) *newestAPI {
	a := &newestAPI{events: map[int64]event{}, next: 1}
	for i := range n {
		// Ids cross the 999999999 / 1000000000 boundary; versions tie in
		// pairs.
		id := int64(999999990 + i*3)
		a.events[id] = event{ID: id, Version: int64(i / 2), Amount: int64(i)}
	}
	a.next = int64(n/2 + 1)
	return a
}

// change updates the event id (or inserts it), giving it a new version.
func (a *newestAPI) change(id int64, deleted bool) {
	e := a.events[id]
	e.ID, e.Version, e.Amount, e.Deleted = id, a.next, e.Amount+1000, deleted
	a.next++
	a.events[id] = e
}

func (a *newestAPI) sorted() []event {
	out := make([]event, 0, len(a.events))
	for _, e := range a.events {
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y event) int { return y.key().Compare(x.key()) }) // newest first
	return out
}

// pages is a keyset paginator: each request asks for the events after
// the last one received, in newest-first order.
func (a *newestAPI) pages(size int) *paginate.Paginator[event] {
	src := paginate.SourceFunc[event](func(ctx context.Context, c paginate.Cursor) (paginate.Page[event], error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.fetches++
		if a.fetches == a.failAt {
			return paginate.Page[event]{}, errors.New("injected failure")
		}
		if a.between != nil {
			a.between()
		}
		all := a.sorted()
		start := 0
		if c.Key != "" {
			var v, id int64
			if _, err := fmt.Sscanf(c.Key, "%d/%d", &v, &id); err != nil {
				return paginate.Page[event]{}, err
			}
			after := state.Mark{Cursor: state.Int(v), ID: state.Int(id)}
			start, _ = slices.BinarySearchFunc(all, after, func(e event, m state.Mark) int { return m.Compare(e.key()) })
			if start < len(all) && all[start].key().Compare(after) == 0 {
				start++
			}
		}
		end := min(start+c.Limit, len(all))
		return paginate.Page[event]{Items: all[start:end], HasMore: paginate.FlagOf(end < len(all))}, nil
	})
	return paginate.New(paginate.Keyed(src, func(e event) string {
		return strconv.FormatInt(e.Version, 10) + "/" + strconv.FormatInt(e.ID, 10)
	}), paginate.Keyset(size))
}

func (a *newestAPI) rows() map[string]schema.Row {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]schema.Row{}
	for _, e := range a.events {
		if !e.Deleted {
			out[strconv.FormatInt(e.ID, 10)] = schema.Row{"id": e.ID, "version": e.Version, "amount": e.Amount}
		}
	}
	return out
}

func (a *newestAPI) connector(size int) *connector.Connector {
	return &connector.Connector{Name: "events", Tables: []connector.Table{{Table: eventTable, Stream: connector.Incremental[event]{
		Order: connector.NewestFirst,
		Pages: func(connector.Window) *paginate.Paginator[event] { return a.pages(size) },
		Key:   event.key,
		Emit: func(ctx context.Context, w *connector.Writer, e event) error {
			a.emitted++
			if e.Deleted {
				return w.Delete(ctx, "event", schema.Row{"id": e.ID})
			}
			return w.Upsert(ctx, "event", schema.Row{"id": e.ID, "version": e.Version, "amount": e.Amount})
		},
	}}}}
}

func TestNewestFirst(t *testing.T) {
	api := newNewestAPI(25)
	dest := ops.NewMemory()
	c := api.connector(4)
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("event")); diff != "" {
		t.Fatalf("table after the first sync mismatch (-source +destination):\n%s", diff)
	}
	st := loadState(dest).Tables["event"]
	if st.Pass != nil || !st.Cursor.IsZero() || !st.Mark.Cursor.Equal(state.Int(12)) {
		t.Errorf("state after a complete pass = %+v, want the newest row's mark and no pass", st)
	}
	// Changes: updates, an insert, a delete; only they are read again.
	api.change(999999990, false)
	api.change(1000000011, false)
	api.change(2000000000, false)
	api.change(999999996, true)
	api.emitted = 0
	sum, err := c.Run(context.Background(), dest, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if api.emitted != 4 {
		t.Errorf("rows emitted by the second sync = %d, want the 4 changes", api.emitted)
	}
	if ts, _ := sum.Table("event"); ts.Upserts != 3 || ts.Deletes != 1 {
		t.Errorf("second sync summary = %+v, want 3 upserts and 1 delete", ts)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("event")); diff != "" {
		t.Errorf("table after the changes mismatch (-source +destination):\n%s", diff)
	}
}

func TestNewestFirstCrashAtEveryPage(t *testing.T) {
	for failAt := 1; failAt <= 8; failAt++ {
		t.Run(fmt.Sprint("fetch ", failAt), func(t *testing.T) {
			api := newNewestAPI(25)
			dest := ops.NewMemory()
			c := api.connector(4)
			// A first sync, then changes, then a second sync that fails
			// at a fetch and a third that resumes it. Rows also change
			// while the failing pass runs.
			if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				api.change(int64(999999990+i*6), i%4 == 3)
			}
			api.fetches, api.failAt = 0, failAt
			changed := false
			api.between = func() {
				if !changed && api.fetches == 2 {
					changed = true
					api.change(999999993, false)
					api.change(3000000000, false)
				}
			}
			_, err := c.Run(context.Background(), dest, quiet())
			failed := err != nil
			api.between, api.failAt = nil, 0
			if failed {
				st := loadState(dest).Tables["event"]
				if st.Pass == nil && failAt > 1 {
					t.Errorf("state after a failed pass = %+v, want the pass in progress", st)
				}
			}
			if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
				t.Fatalf("resumed Run() = %v", err)
			}
			if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
				t.Fatalf("last Run() = %v", err)
			}
			if diff := cmp.Diff(api.rows(), dest.Live("event")); diff != "" {
				t.Errorf("table mismatch (-source +destination):\n%s", diff)
			}
		})
	}
}

func TestNewestFirstOutOfOrder(t *testing.T) {
	items := []event{{ID: 1, Version: 1}, {ID: 2, Version: 2}}
	c := &connector.Connector{Tables: []connector.Table{{Table: eventTable, Stream: connector.Incremental[event]{
		Order: connector.NewestFirst,
		Pages: func(connector.Window) *paginate.Paginator[event] {
			return paginate.New(paginate.SourceFunc[event](func(context.Context, paginate.Cursor) (paginate.Page[event], error) {
				return paginate.Page[event]{Items: items, HasMore: paginate.No}, nil
			}), paginate.Offset(10))
		},
		Key:  event.key,
		Emit: func(ctx context.Context, w *connector.Writer, e event) error { return nil },
	}}}}
	if _, err := c.Run(context.Background(), ops.NewMemory(), quiet()); !errors.Is(err, connector.ErrOutOfOrder) {
		t.Errorf("Run() over an oldest-first source declared newest first = %v, want ErrOutOfOrder", err)
	}
}
