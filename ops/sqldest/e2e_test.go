package sqldest_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/internal/memsource"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

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

// source is a users API listing users by (updatedAt, id).
type source struct {
	mu      sync.Mutex
	users   map[string]user
	emitted int
}

func (s *source) sorted() []user {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.users))
	slices.SortFunc(out, func(a, b user) int { return a.key().Compare(b.key()) })
	return out
}

func (s *source) rows() map[string]schema.Row {
	out := make(map[string]schema.Row)
	for _, u := range s.sorted() {
		out[u.ID] = u.row()
	}
	return out
}

func (s *source) connector(pageSize int) *connector.Connector {
	return &connector.Connector{Name: "users", Tables: []connector.Table{{
		Table: userTable,
		Stream: connector.Incremental[user]{
			Pages: func(w connector.Window) *paginate.Paginator[user] {
				var items []user
				for _, u := range s.sorted() {
					if w.Contains(u.UpdatedAt) {
						items = append(items, u)
					}
				}
				return paginate.New(&memsource.Source[user]{Items: items, Kind: paginate.KindOffset, HasMore: true}, paginate.Offset(pageSize))
			},
			Key: user.key,
			Emit: func(ctx context.Context, w *connector.Writer, u user) error {
				s.mu.Lock()
				s.emitted++
				s.mu.Unlock()
				return w.Upsert(ctx, "user", u.row())
			},
		},
	}}}
}

// TestEndToEnd runs a connector into a DB that is also its state store:
// a full sync, then, from the file alone, an incremental sync.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	src := &source{users: make(map[string]user)}
	for i := range 23 {
		u := user{ID: fmt.Sprintf("u%03d", i), Name: fmt.Sprint("name ", i), UpdatedAt: t0.Add(time.Duration(i/2) * time.Second)}
		src.users[u.ID] = u
	}
	c := src.connector(5)
	db, path := open(t, sqldest.Options{})
	sum, err := c.Run(ctx, db, connector.Options{Logger: quiet, Checkpoint: connector.CheckpointPolicy{EveryRecords: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(src.rows(), live(t, db, "user")); diff != "" {
		t.Fatalf("after the full sync (-source +destination):\n%s", diff)
	}
	if ts, _ := sum.Table("user"); ts.Upserts != 23 || src.emitted != 23 {
		t.Errorf("full sync upserts = %d, emitted %d; want 23", ts.Upserts, src.emitted)
	}
	if got := db.Summary()[""].Checkpoints; got < 5 {
		t.Errorf("checkpoints = %d, want one per page", got)
	}
	db.Close()

	// Changes at the source; a new process resumes from the file.
	later := t0.Add(time.Hour)
	src.users["u004"] = user{ID: "u004", Name: "renamed", UpdatedAt: later}
	src.users["u100"] = user{ID: "u100", Name: "new", UpdatedAt: later}
	src.emitted = 0
	db = reopen(t, path, sqldest.Options{})
	if _, err := c.Run(ctx, db, connector.Options{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if src.emitted != 2 {
		t.Errorf("incremental sync emitted %d rows, want the 2 changed", src.emitted)
	}
	if diff := cmp.Diff(src.rows(), live(t, db, "user")); diff != "" {
		t.Errorf("after the incremental sync (-source +destination):\n%s", diff)
	}
	st := load(t, db)
	if m := st.Tables["user"].Mark; m.ID != state.String("u100") || !m.Cursor.Time().Equal(later) {
		t.Errorf("stored mark = %v, want u100 at %v", m, later)
	}
}
