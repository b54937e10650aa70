package connector_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

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

func (u user) key() state.Mark { return state.Mark{UpdatedAt: u.UpdatedAt, ID: u.ID} }

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

// pages returns an offset paginator over the users in w, from a snapshot.
func (a *fakeAPI) pages(w connector.Window, size int) *paginate.Paginator[user] {
	var items []user
	for _, u := range a.sorted() {
		if w.Contains(u.UpdatedAt) {
			items = append(items, u)
		}
	}
	src := &memsource.Source[user]{Items: items, Kind: paginate.KindOffset, HasMore: true,
		Fail: func(int64, paginate.Cursor) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.fetches++
			if a.fetches == a.failAt {
				return fmt.Errorf("injected failure of fetch %d", a.fetches)
			}
			return nil
		}}
	return paginate.New(src, paginate.Offset(size))
}

func (a *fakeAPI) connector(size int, pf *connector.PriorityFirst) *connector.Connector {
	return &connector.Connector{Name: "users", Tables: []connector.Table{{
		Table: userTable,
		Sync: func(ctx context.Context, s *connector.Sync) error {
			return connector.Incremental[user]{
				Pages:         func(w connector.Window) *paginate.Paginator[user] { return a.pages(w, size) },
				Key:           user.key,
				PriorityFirst: pf,
			}.Sync(ctx, s, func(ctx context.Context, u user) error {
				a.mu.Lock()
				a.emitted = append(a.emitted, u)
				a.mu.Unlock()
				return s.Upsert(ctx, u.row())
			})
		},
	}}}
}

func quiet() connector.Options {
	return connector.Options{Logger: slog.New(slog.DiscardHandler), Progress: -1}
}

func TestInterruptedAtEachPageThenResumed(t *testing.T) {
	const n, ties, size = 37, 4, 5 // 8 pages; ties straddle page boundaries
	for failAt := 1; failAt <= 8; failAt++ {
		t.Run(fmt.Sprint("fetch ", failAt), func(t *testing.T) {
			api := newFakeAPI(n, ties, time.Second)
			api.failAt = failAt
			dest := ops.NewMemory()
			c := api.connector(size, nil)
			_, err := c.Run(context.Background(), dest, quiet())
			var te *connector.TableError
			if !errors.As(err, &te) || te.Table != "user" || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("Run() with fetch %d failing = %v, want a *TableError for user", failAt, err)
			}
			first := len(api.emitted)
			if want := (failAt - 1) * size; first != want {
				t.Errorf("rows emitted before the failure = %d, want %d", first, want)
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
	c := api.connector(4, nil)
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	for _, id := range []string{"u0003", "u0010", "u0029"} {
		api.update(id, later) // three changes at one timestamp
	}
	api.emitted = nil
	sum, err := c.Run(context.Background(), dest, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(api.emitted); got != 3 {
		t.Errorf("rows emitted by the incremental run = %d, want 3", got)
	}
	if ts, _ := sum.Table("user"); ts.Upserts != 3 {
		t.Errorf("Summary upserts = %d, want 3", ts.Upserts)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table mismatch (-source +destination):\n%s", diff)
	}
	// A third run with nothing new emits nothing.
	api.emitted = nil
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	if len(api.emitted) != 0 {
		t.Errorf("rows emitted with nothing changed = %d, want 0", len(api.emitted))
	}
}

func TestLookbackReReads(t *testing.T) {
	api := newFakeAPI(20, 2, time.Minute)
	dest := ops.NewMemory()
	c := &connector.Connector{Name: "users", Tables: []connector.Table{{Table: userTable,
		Sync: func(ctx context.Context, s *connector.Sync) error {
			return connector.Incremental[user]{
				Pages:    func(w connector.Window) *paginate.Paginator[user] { return api.pages(w, 5) },
				Key:      user.key,
				Lookback: 3 * time.Minute,
			}.Sync(ctx, s, func(ctx context.Context, u user) error {
				api.emitted = append(api.emitted, u)
				return s.Upsert(ctx, u.row())
			})
		}}}}
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	api.emitted = nil
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	// The mark is at minute 9; minutes 6 to 9 hold 8 rows, read again.
	if got := len(api.emitted); got != 8 {
		t.Errorf("rows re-read with a 3 minute lookback = %d, want 8", got)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table mismatch (-source +destination):\n%s", diff)
	}
}

func TestCheckSkipsInvalidRows(t *testing.T) {
	users := []user{{"a", "x", t0}, {"b", "", time.Time{}}, {"c", "z", t0.Add(time.Second)}}
	c := &connector.Connector{Name: "check", Tables: []connector.Table{{Table: userTable,
		Sync: func(ctx context.Context, s *connector.Sync) error {
			return connector.Incremental[user]{
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
			}.Sync(ctx, s, func(ctx context.Context, u user) error { return s.Upsert(ctx, u.row()) })
		}}}}
	dest := ops.NewMemory()
	sum, err := c.Run(context.Background(), dest, quiet())
	if err != nil {
		t.Fatalf("Run() = %v, want the invalid row skipped", err)
	}
	if ts, _ := sum.Table("user"); ts.Skipped != 1 || ts.Upserts != 2 {
		t.Errorf("summary = %+v, want 1 skipped and 2 upserts", ts)
	}
	st, _ := dest.Load(context.Background())
	if m := st.Tables["user"].Mark; m.ID != "c" {
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
				Sync: func(ctx context.Context, s *connector.Sync) error {
					return connector.Incremental[user]{
						Pages: func(connector.Window) *paginate.Paginator[user] { return scriptedUsers(tt.pages...) },
						Key:   user.key,
					}.Sync(ctx, s, func(ctx context.Context, u user) error {
						got = append(got, u.ID)
						return s.Upsert(ctx, u.row())
					})
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
		Sync: func(ctx context.Context, s *connector.Sync) error {
			return connector.Incremental[user]{
				Pages: func(connector.Window) *paginate.Paginator[user] {
					return paginate.New(&memsource.Source[user]{Items: users, Kind: paginate.KindOffset}, paginate.Offset(10))
				},
				Key: user.key,
			}.Sync(ctx, s, func(ctx context.Context, u user) error { return s.Upsert(ctx, u.row()) })
		}}}}
	_, err := c.Run(context.Background(), ops.NewMemory(), quiet())
	if !errors.Is(err, connector.ErrOutOfOrder) {
		t.Errorf("Run() over an unsorted source = %v, want ErrOutOfOrder", err)
	}
}

func TestPriorityFirst(t *testing.T) {
	const day = 24 * time.Hour
	api := newFakeAPI(200, 2, day) // two users a day for 100 days
	now := t0.Add(100 * day)
	pf := &connector.PriorityFirst{Recent: 10 * day, Window: 20 * day, MaxWindows: 2}
	dest := ops.NewMemory()
	c := api.connector(7, pf)
	o := quiet()
	o.Now = func() time.Time { return now }

	// Sync 1: the recent ten days first, then two windows of history.
	if _, err := c.Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	edge := now.Add(-10 * day)
	seenHistory := false
	for i, u := range api.emitted {
		recent := !u.UpdatedAt.Before(edge)
		if recent && seenHistory {
			t.Fatalf("row %d (%v) is recent but came after a historical row", i, u.UpdatedAt)
		}
		seenHistory = seenHistory || !recent
	}
	if want := 20 + 40 + 40; len(api.emitted) != want {
		t.Errorf("rows in sync 1 = %d, want %d (10 recent days and two 20-day windows)", len(api.emitted), want)
	}
	st, _ := dest.Load(context.Background())
	if h := st.Tables["user"].History; h == nil || !h.Until.Equal(now.Add(-50*day)) || h.Done {
		t.Errorf("history after sync 1 = %+v, want until %v, not done", h, now.Add(-50*day))
	}

	// A change during history: the row moves to now, the forward pass
	// of the next sync picks it up.
	api.update("u0001", now.Add(time.Hour))
	now = now.Add(2 * time.Hour)
	for sync := 2; sync <= 4; sync++ {
		if _, err := c.Run(context.Background(), dest, o); err != nil {
			t.Fatal(err)
		}
	}
	st, _ = dest.Load(context.Background())
	if h := st.Tables["user"].History; h == nil || !h.Done {
		t.Errorf("history after 4 syncs = %+v, want done", h)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table after priority-first syncs mismatch (-source +destination):\n%s", diff)
	}
}

func TestPriorityFirstWithOldest(t *testing.T) {
	const day = 24 * time.Hour
	api := newFakeAPI(100, 1, day)
	now := t0.Add(100 * day)
	pf := &connector.PriorityFirst{Recent: 30 * day, Oldest: t0.Add(50 * day)}
	dest := ops.NewMemory()
	o := quiet()
	o.Now = func() time.Time { return now }
	if _, err := api.connector(10, pf).Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	if got := len(dest.Live("user")); got != 50 {
		t.Errorf("rows synced back to Oldest = %d, want 50", got)
	}
	st, _ := dest.Load(context.Background())
	if h := st.Tables["user"].History; h == nil || !h.Done || !h.Until.Equal(pf.Oldest) {
		t.Errorf("history = %+v, want done at %v", h, pf.Oldest)
	}
}

func TestPriorityFirstRecentReachesOldest(t *testing.T) {
	const day = 24 * time.Hour
	api := newFakeAPI(20, 1, day)
	now := t0.Add(20 * day)
	var windows []connector.Window
	c := &connector.Connector{Name: "users", Tables: []connector.Table{{Table: userTable,
		Sync: func(ctx context.Context, s *connector.Sync) error {
			return connector.Incremental[user]{
				Pages: func(w connector.Window) *paginate.Paginator[user] {
					windows = append(windows, w)
					return api.pages(w, 5)
				},
				Key:           user.key,
				PriorityFirst: &connector.PriorityFirst{Recent: 30 * day, Oldest: t0.Add(-5 * day)},
			}.Sync(ctx, s, func(ctx context.Context, u user) error { return s.Upsert(ctx, u.row()) })
		}}}}
	dest := ops.NewMemory()
	o := quiet()
	o.Now = func() time.Time { return now }
	if _, err := c.Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	for _, w := range windows {
		if !w.Until.IsZero() && !w.Since.Before(w.Until) {
			t.Errorf("asked the source for the empty or inverted window %v", w)
		}
	}
	st, _ := dest.Load(context.Background())
	if h := st.Tables["user"].History; h == nil || !h.Done {
		t.Errorf("history = %+v, want done: the recent window reaches past Oldest", h)
	}
	if got := len(dest.Live("user")); got != 20 {
		t.Errorf("rows = %d, want 20", got)
	}
}

// failingStore saves to a file, but "crashes" on a chosen save: the
// destination has made the operations durable, the state is not written.
type failingStore struct {
	*state.File
	saves, failAt int
}

func (f *failingStore) Save(ctx context.Context, s *state.State) error {
	f.saves++
	if f.saves == f.failAt {
		return errors.New("crash before the state was written")
	}
	return f.File.Save(ctx, s)
}

func TestCrashBetweenOperationsAndState(t *testing.T) {
	for failAt := 1; failAt <= 4; failAt++ {
		t.Run(fmt.Sprint("save ", failAt), func(t *testing.T) {
			api := newFakeAPI(23, 3, time.Second)
			dir := t.TempDir()
			store := &failingStore{File: state.NewFile(filepath.Join(dir, "state.json")), failAt: failAt}
			c := api.connector(5, nil)
			run := func() error {
				dest, err := ops.OpenDir(filepath.Join(dir, "out"), ops.DirOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer dest.Close()
				o := quiet()
				o.Store = store
				_, err = c.Run(context.Background(), dest, o)
				return err
			}
			if err := run(); err == nil {
				t.Fatalf("Run() with save %d failing = nil, want an error", failAt)
			}
			if err := run(); err != nil {
				t.Fatalf("resumed Run() = %v", err)
			}
			snap, err := ops.ReadDir(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(api.rows(), snap.Live("user")); diff != "" {
				t.Errorf("replayed table mismatch (-source +destination):\n%s", diff)
			}
		})
	}
}

func TestCorruptStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	garbage := []byte(`{"version":1,"tables":{"user":{"cursor":{"offset":-5}}}}`)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(5, 1, time.Second)
	o := quiet()
	o.Store = state.NewFile(path)
	_, err := api.connector(2, nil).Run(context.Background(), ops.NewMemory(), o)
	if !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), "loading state") {
		t.Errorf("Run() with a corrupt state file = %v, want ErrCorrupt while loading state", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, garbage) {
		t.Errorf("corrupt state file was changed to %q", got)
	}
	if len(api.emitted) != 0 {
		t.Errorf("rows emitted with a corrupt state = %d, want 0", len(api.emitted))
	}
}

func TestBadRows(t *testing.T) {
	tests := []struct {
		name    string
		op      func(ctx context.Context, s *connector.Sync) error
		wantIs  error
		wantMsg string
	}{
		{"wrong type", func(ctx context.Context, s *connector.Sync) error {
			return s.Upsert(ctx, schema.Row{"id": "a", "name": 42, "updatedAt": t0})
		}, schema.ErrWrongType, `column "name"`},
		{"missing key", func(ctx context.Context, s *connector.Sync) error {
			return s.Upsert(ctx, schema.Row{"name": "x", "updatedAt": t0})
		}, schema.ErrMissingKey, `column "id"`},
		{"unknown column", func(ctx context.Context, s *connector.Sync) error {
			return s.Upsert(ctx, schema.Row{"id": "a", "nmae": "typo"})
		}, schema.ErrUnknownColumn, `"nmae"`},
		{"bad timestamp", func(ctx context.Context, s *connector.Sync) error {
			return s.Upsert(ctx, schema.Row{"id": "a", "updatedAt": "yesterday"})
		}, schema.ErrWrongType, "yesterday"},
		{"update without key", func(ctx context.Context, s *connector.Sync) error {
			return s.Update(ctx, schema.Row{"name": "x"})
		}, schema.ErrMissingKey, `column "id"`},
		{"delete without key", func(ctx context.Context, s *connector.Sync) error {
			return s.Delete(ctx, schema.Row{})
		}, schema.ErrMissingKey, `column "id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &connector.Connector{Name: "bad", Tables: []connector.Table{{Table: userTable, Sync: tt.op}}}
			dest := ops.NewMemory()
			_, err := c.Run(context.Background(), dest, quiet())
			var te *connector.TableError
			var ve *schema.ValueError
			if !errors.As(err, &te) || !errors.As(err, &ve) || !errors.Is(err, tt.wantIs) {
				t.Fatalf("Run() = %v, want a *TableError wrapping a *schema.ValueError and %v", err, tt.wantIs)
			}
			if ve.Table != "user" || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Run() = %q, want it to name table user and contain %s", err, tt.wantMsg)
			}
			if n := len(dest.Rows("user")); n != 0 {
				t.Errorf("rows written = %d, want 0", n)
			}
		})
	}
}

func TestInvalidConnector(t *testing.T) {
	sync := func(context.Context, *connector.Sync) error { return nil }
	tests := []struct {
		name string
		c    connector.Connector
	}{
		{"no tables", connector.Connector{}},
		{"no sync", connector.Connector{Tables: []connector.Table{{Table: userTable}}}},
		{"duplicate", connector.Connector{Tables: []connector.Table{{Table: userTable, Sync: sync}, {Table: userTable, Sync: sync}}}},
		{"bad schema", connector.Connector{Tables: []connector.Table{{Table: schema.Table{Name: "t"}, Sync: sync}}}},
	}
	for _, tt := range tests {
		if _, err := tt.c.Run(context.Background(), ops.NewMemory(), quiet()); !errors.Is(err, connector.ErrInvalidConnector) {
			t.Errorf("%s: Run() = %v, want ErrInvalidConnector", tt.name, err)
		}
	}
}

func TestSkipIsLoggedAndCounted(t *testing.T) {
	var logs bytes.Buffer
	c := &connector.Connector{Name: "skip", Tables: []connector.Table{{Table: userTable,
		Sync: func(ctx context.Context, s *connector.Sync) error {
			for i, name := range []string{"ok", "", "fine", ""} {
				u := user{ID: fmt.Sprint(i), Name: name, UpdatedAt: t0}
				if u.Name == "" {
					s.Skip(errors.New("no name"), u.ID)
					continue
				}
				if err := s.Upsert(ctx, u.row()); err != nil {
					return err
				}
			}
			return s.Commit(ctx, state.Table{})
		}}}}
	o := quiet()
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	sum, err := c.Run(context.Background(), ops.NewMemory(), o)
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := sum.Table("user")
	if ts.Skipped != 2 || ts.Upserts != 2 {
		t.Errorf("summary = %+v, want 2 skipped and 2 upserts", ts)
	}
	if got := strings.Count(logs.String(), "skipped a record"); got != 2 {
		t.Errorf("skip warnings logged = %d, want 2:\n%s", got, logs.String())
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	c := &connector.Connector{Name: "secret", Tables: []connector.Table{{Table: userTable,
		Sync: func(ctx context.Context, s *connector.Sync) error {
			s.Logger().Info("configured", "config", s.Config())
			s.Logger().Info(fmt.Sprintf("%v %+v %#v %s", s.Config(), s.Config(), s.Config(), s.Config()))
			return nil
		}}}}
	o := quiet()
	o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	o.Config = connector.Config{"api_key": "sk-live-123", "clientSecret": "hunter2", "password": "pw-456", "base_url": "https://api.example.com"}
	if _, err := c.Run(context.Background(), ops.NewMemory(), o); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"sk-live-123", "hunter2", "pw-456"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains the secret %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "https://api.example.com") {
		t.Errorf("log lacks the non-secret base_url:\n%s", logs.String())
	}
}

func TestCheckpointPolicy(t *testing.T) {
	tests := []struct {
		name   string
		policy connector.CheckpointPolicy
		want   int
	}{
		{"every page", connector.CheckpointPolicy{}, 6},                       // 6 pages, the last says has_more=false
		{"every 10 records", connector.CheckpointPolicy{EveryRecords: 10}, 3}, // after pages 2, 4 and 6
		{"every hour", connector.CheckpointPolicy{Every: time.Hour}, 1},       // the end only
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(30, 1, time.Second)
			dest := ops.NewMemory()
			o := quiet()
			o.Checkpoint = tt.policy
			sum, err := api.connector(5, nil).Run(context.Background(), dest, o)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(dest.Checkpoints()); got != tt.want || sum.Checkpoints != int64(tt.want) {
				t.Errorf("checkpoints = %d (summary %d), want %d", got, sum.Checkpoints, tt.want)
			}
			if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
				t.Errorf("table mismatch (-source +destination):\n%s", diff)
			}
		})
	}
}

func TestSeveralTablesAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	apis := make([]*fakeAPI, 6)
	var tables []connector.Table
	for i := range apis {
		api := newFakeAPI(40+i, 2, time.Second)
		apis[i] = api
		tbl := userTable
		tbl.Name = fmt.Sprintf("user_%d", i)
		base := api.connector(3, nil).Tables[0]
		base.Table = tbl
		base.Priority = i
		tables = append(tables, base)
	}
	c := &connector.Connector{Name: "many", Tables: tables}
	dest := ops.NewMemory()
	o := quiet()
	o.Concurrency = 4
	sum, err := c.Run(context.Background(), dest, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, api := range apis {
		if diff := cmp.Diff(api.rows(), dest.Live(fmt.Sprintf("user_%d", i))); diff != "" {
			t.Errorf("table user_%d mismatch (-source +destination):\n%s", i, diff)
		}
	}
	// Tables start in priority order: highest first.
	var order []string
	for _, ts := range sum.Tables {
		order = append(order, ts.Table)
	}
	if want := []string{"user_5", "user_4", "user_3", "user_2", "user_1", "user_0"}; !slices.Equal(order, want) {
		t.Errorf("table order = %v, want %v", order, want)
	}
	// Every checkpoint holds, for every table, a mark no later than the
	// rows written before it: the final state matches the final rows.
	st, _ := dest.Load(context.Background())
	for i := range apis {
		if st.Tables[fmt.Sprintf("user_%d", i)].Mark.IsZero() {
			t.Errorf("table user_%d has no mark in the final state", i)
		}
	}
}

func TestErrorsFromSeveralTablesAreJoined(t *testing.T) {
	boom := func(msg string) connector.SyncFunc {
		return func(context.Context, *connector.Sync) error { return errors.New(msg) }
	}
	a, b := userTable, userTable
	a.Name, b.Name = "a", "b"
	c := &connector.Connector{Tables: []connector.Table{{Table: a, Sync: boom("first")}, {Table: b, Sync: boom("second")}}}
	_, err := c.Run(context.Background(), ops.NewMemory(), quiet())
	if err == nil || !strings.Contains(err.Error(), "first") || !strings.Contains(err.Error(), "second") {
		t.Errorf("Run() = %v, want both tables' errors", err)
	}
}

func TestCancelSavesCommittedProgress(t *testing.T) {
	api := newFakeAPI(50, 1, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &connector.Connector{Name: "cancel", Tables: []connector.Table{{Table: userTable,
		Sync: func(ctx context.Context, s *connector.Sync) error {
			return connector.Incremental[user]{
				Pages: func(w connector.Window) *paginate.Paginator[user] { return api.pages(w, 5) },
				Key:   user.key,
			}.Sync(ctx, s, func(ctx context.Context, u user) error {
				if u.Name == "name 17" {
					cancel()
				}
				return s.Upsert(ctx, u.row())
			})
		}}}}
	dest := ops.NewMemory()
	o := quiet()
	o.Checkpoint.EveryRecords = 1000 // only the final checkpoint
	_, err := c.Run(ctx, dest, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v, want context.Canceled", err)
	}
	st, _ := dest.Load(context.Background())
	if m := st.Tables["user"].Mark; !m.UpdatedAt.Equal(t0.Add(14 * time.Second)) {
		t.Errorf("mark saved after cancel = %v, want the end of page 3 (%v)", m, t0.Add(14*time.Second))
	}
	if _, err := c.Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(api.rows(), dest.Live("user")); diff != "" {
		t.Errorf("table after resume mismatch (-source +destination):\n%s", diff)
	}
}

// signalHandler reports the first record whose message matches.
type signalHandler struct {
	slog.Handler
	msg  string
	once *sync.Once
	ch   chan struct{}
}

func (h *signalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &signalHandler{Handler: h.Handler.WithAttrs(as), msg: h.msg, ch: h.ch, once: h.once}
}

func (h *signalHandler) WithGroup(name string) slog.Handler {
	return &signalHandler{Handler: h.Handler.WithGroup(name), msg: h.msg, ch: h.ch, once: h.once}
}

func (h *signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.ch) })
	}
	return h.Handler.Handle(ctx, r)
}

func TestProgressIsLogged(t *testing.T) {
	defer goleak.VerifyNone(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	h := &signalHandler{Handler: slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil), msg: "sync progress", ch: make(chan struct{}), once: new(sync.Once)}
	c := &connector.Connector{Name: "slow", Tables: []connector.Table{{Table: userTable,
		Sync: func(ctx context.Context, s *connector.Sync) error {
			if err := s.Upsert(ctx, user{ID: "a", Name: "x", UpdatedAt: t0}.row()); err != nil {
				return err
			}
			select { // wait until progress was logged
			case <-h.ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		}}}}
	o := connector.Options{Logger: slog.New(h), Progress: time.Millisecond}
	if _, err := c.Run(context.Background(), ops.NewMemory(), o); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "records=1") {
		t.Errorf("progress log lacks the record count:\n%s", logs.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestSummaryTable(t *testing.T) {
	s := &connector.Summary{Checkpoints: 3, Tables: []connector.TableSummary{
		{Table: "user", Summary: ops.Summary{Upserts: 100, Deletes: 2, Checkpoints: 3}, Skipped: 1, Pages: 3, Duration: 1500 * time.Millisecond},
		{Table: "org", Summary: ops.Summary{Updates: 5}, Pages: 1, Failed: true},
	}}
	want := "" +
		"         table  upserts  updates  deletes  truncates  checkpoints  skipped  pages  duration\n" +
		"          user      100        0        2          0            3        1      3      1.5s\n" +
		"  org (failed)        0        5        0          0            0        0      1        0s\n" +
		"         TOTAL      100        5        2          0            3        1      4        0s\n"
	if got := s.String(); got != want {
		t.Errorf("Summary.String() =\n%s\nwant\n%s", got, want)
	}
}

func TestSyncPagesResumesAndRestarts(t *testing.T) {
	items := memsource.Ints(23)
	failAt := 3
	fetches := 0
	src := &memsource.Source[int]{Items: items, Kind: paginate.KindToken, Fail: func(int64, paginate.Cursor) error {
		fetches++
		if fetches == failAt {
			return errors.New("injected")
		}
		return nil
	}}
	tbl := schema.Table{Name: "n", PrimaryKey: []string{"n"}, Columns: []schema.Column{{Name: "n", Type: schema.Long}}}
	var emitted []int
	c := &connector.Connector{Tables: []connector.Table{{Table: tbl, Sync: func(ctx context.Context, s *connector.Sync) error {
		return connector.SyncPages(ctx, s, func(start paginate.Cursor) *paginate.Paginator[int] {
			return paginate.New(src, paginate.Token().WithLimit(5), paginate.StartAt(start))
		}, func(ctx context.Context, n int) error {
			emitted = append(emitted, n)
			return s.Upsert(ctx, schema.Row{"n": n})
		})
	}}}}
	dest := ops.NewMemory()
	if _, err := c.Run(context.Background(), dest, quiet()); err == nil {
		t.Fatal("Run() with a failing fetch = nil, want an error")
	}
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(emitted, items) {
		t.Errorf("emitted over a failed and a resumed run = %v, want each item once: %v", emitted, items)
	}
	// The run reached the end: the next one starts over (full refresh).
	emitted = nil
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(emitted, items) {
		t.Errorf("emitted by the run after a complete one = %v, want all items again", emitted)
	}
}

// orderCheckingDest records the rows it received and checks, at every
// checkpoint, that the state covers only rows it already holds.
type orderCheckingDest struct {
	*ops.Memory
	t        *testing.T
	received map[string]bool // "updatedAt|id" of every row upserted
	checks   int
}

func (d *orderCheckingDest) Upsert(ctx context.Context, table string, row schema.Row) error {
	d.received[row["updatedAt"].(time.Time).Format(time.RFC3339Nano)+"|"+row["id"].(string)] = true
	return d.Memory.Upsert(ctx, table, row)
}

func (d *orderCheckingDest) Checkpoint(ctx context.Context, st *state.State) error {
	if m := st.Tables["user"].Mark; !m.IsZero() {
		d.checks++
		if !d.received[m.UpdatedAt.Format(time.RFC3339Nano)+"|"+m.ID] {
			d.t.Errorf("checkpoint %d saves mark %v before the destination received that row", d.checks, m)
		}
	}
	return d.Memory.Checkpoint(ctx, st)
}

func TestStateNeverAheadOfRows(t *testing.T) {
	api := newFakeAPI(40, 3, time.Second)
	dest := &orderCheckingDest{Memory: ops.NewMemory(), t: t, received: map[string]bool{}}
	if _, err := api.connector(6, nil).Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	if dest.checks < 7 {
		t.Errorf("checkpoints with a mark = %d, want one per page (7)", dest.checks)
	}
}

func TestStateStaysBounded(t *testing.T) {
	api := newFakeAPI(50, 2, time.Second)
	dest := ops.NewMemory()
	c := api.connector(5, &connector.PriorityFirst{Recent: 10 * time.Second, MaxWindows: 1})
	o := quiet()
	now := t0.Add(time.Minute)
	o.Now = func() time.Time { return now }
	var sizes []int
	for sync := range 30 {
		for i := range 5 { // changes between syncs
			api.update(fmt.Sprintf("u%04d", (sync*5+i)%50), now)
		}
		now = now.Add(time.Minute)
		if _, err := c.Run(context.Background(), dest, o); err != nil {
			t.Fatal(err)
		}
		st, _ := dest.Load(context.Background())
		b, err := st.Encode()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(b))
	}
	// Once history is done, the state holds one mark and one history edge
	// whatever the number of rows synced: its size no longer changes.
	steady := sizes[10:]
	if slices.Min(steady) != slices.Max(steady) || slices.Max(sizes) > 512 {
		t.Errorf("state sizes over 30 syncs = %v bytes, want them constant after the history is done and under 512", sizes)
	}
}
