package connector_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/internal/memsource"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type user struct {
	ID        string
	Name      string
	UpdatedAt time.Time
}

func (u user) key() state.Mark {
	return state.Mark{Cursor: state.Time(u.UpdatedAt), ID: state.String(u.ID)}
}

func (u user) row() schema.Row {
	return schema.Row{"id": u.ID, "name": u.Name, "updatedAt": u.UpdatedAt}
}

var userTable = schema.Table{
	Name:       "user",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.String},
		{Name: "name", Type: schema.String},
		{Name: "updatedAt", Type: schema.UTCDateTime},
	},
}

// fakeAPI is a users API sorted by (updatedAt, id) that can fail a chosen
// fetch and change while it serves.
type fakeAPI struct {
	mu      sync.Mutex
	users   map[string]user
	fetches int
	failAt  int // the fetch number that fails; 0 for none
	emitted []user
	windows []connector.Window
}

// newFakeAPI returns n users, ties of them sharing each updatedAt, one
// timestamp every step.
func newFakeAPI(n, ties int, step time.Duration) *fakeAPI {
	a := &fakeAPI{users: make(map[string]user)}
	for i := range n {
		u := user{ID: fmt.Sprintf("u%04d", (i*7919)%n), Name: fmt.Sprintf("name %d", i), UpdatedAt: t0.Add(time.Duration(i/ties) * step)}
		a.users[u.ID] = u
	}
	return a
}

// sorted returns the users in (updatedAt, id) order.
func (a *fakeAPI) sorted() []user {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]user, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(x, y user) int { return x.key().Compare(y.key()) })
	return out
}

// rows returns what the destination should hold.
func (a *fakeAPI) rows() map[string]schema.Row {
	out := make(map[string]schema.Row)
	for _, u := range a.sorted() {
		out[u.ID] = u.row()
	}
	return out
}

func (a *fakeAPI) update(id string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users[id]
	u.Name += " (updated)"
	u.UpdatedAt = at
	a.users[id] = u
}

func (a *fakeAPI) fail() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fetches++
	if a.fetches == a.failAt {
		return fmt.Errorf("injected failure of fetch %d", a.fetches)
	}
	return nil
}

// pages returns an offset paginator over the users in w, from a snapshot.
func (a *fakeAPI) pages(w connector.Window, size int) *paginate.Paginator[user] {
	a.mu.Lock()
	a.windows = append(a.windows, w)
	a.mu.Unlock()
	var items []user
	for _, u := range a.sorted() {
		if w.Contains(u.UpdatedAt) {
			items = append(items, u)
		}
	}
	src := &memsource.Source[user]{Items: items, Kind: paginate.KindOffset, HasMore: true,
		Fail: func(int64, paginate.Cursor) error { return a.fail() }}
	return paginate.New(src, paginate.Offset(size))
}

// emit records u and upserts it.
func (a *fakeAPI) emit(ctx context.Context, w *connector.Writer, u user) error {
	a.mu.Lock()
	a.emitted = append(a.emitted, u)
	a.mu.Unlock()
	return w.Upsert(ctx, "user", u.row())
}

func (a *fakeAPI) takeEmitted() []user {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.emitted
	a.emitted = nil
	return e
}

// stream returns the incremental stream of the users, size per page.
func (a *fakeAPI) stream(size int, pf connector.PriorityFirst) connector.Incremental[user] {
	return connector.Incremental[user]{
		Pages:         func(w connector.Window) *paginate.Paginator[user] { return a.pages(w, size) },
		Key:           user.key,
		Emit:          a.emit,
		PriorityFirst: pf,
	}
}

func (a *fakeAPI) connector(size int, pf connector.PriorityFirst) *connector.Connector {
	return &connector.Connector{Name: "users", Tables: []connector.Table{{Table: userTable, Stream: a.stream(size, pf)}}}
}

func quiet() connector.Options {
	return connector.Options{Logger: slog.New(slog.DiscardHandler), Progress: -1}
}

// stateless hides the state of a destination: Run then needs a
// state.Store, as for a destination that cannot keep state.
type stateless struct{ ops.Destination }

// loadState returns the state a destination holds.
func loadState(d ops.StateLoader) *state.State {
	st, err := d.LoadState(context.Background())
	if err != nil {
		panic(err)
	}
	return st
}

// numberedTable is the table of numbered records: id and seq, both LONG.
func numberedTable(name string) schema.Table {
	return schema.Table{Name: name, PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", Type: schema.Long}, {Name: "seq", Type: schema.Long},
	}}
}
