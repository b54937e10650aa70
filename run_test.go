package connector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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

func TestBadRows(t *testing.T) {
	tests := []struct {
		name    string
		op      func(ctx context.Context, w *connector.Writer) error
		wantIs  error
		wantMsg string
	}{
		{"wrong type", func(ctx context.Context, w *connector.Writer) error {
			return w.Upsert(ctx, "user", schema.Row{"id": "a", "name": 42, "updatedAt": t0})
		}, schema.ErrWrongType, `column "name"`},
		{"missing key", func(ctx context.Context, w *connector.Writer) error {
			return w.Upsert(ctx, "user", schema.Row{"name": "x", "updatedAt": t0})
		}, schema.ErrMissingKey, `column "id"`},
		{"unknown column", func(ctx context.Context, w *connector.Writer) error {
			return w.Upsert(ctx, "user", schema.Row{"id": "a", "nmae": "typo"})
		}, schema.ErrUnknownColumn, `"nmae"`},
		{"bad timestamp", func(ctx context.Context, w *connector.Writer) error {
			return w.Upsert(ctx, "user", schema.Row{"id": "a", "updatedAt": "yesterday"})
		}, schema.ErrWrongType, "yesterday"},
		{"invalid UTF-8", func(ctx context.Context, w *connector.Writer) error {
			return w.Upsert(ctx, "user", schema.Row{"id": "k\xff"})
		}, schema.ErrWrongType, "UTF-8"},
		{"update without key", func(ctx context.Context, w *connector.Writer) error {
			return w.Update(ctx, "user", schema.Row{"name": "x"})
		}, schema.ErrMissingKey, `column "id"`},
		{"delete without key", func(ctx context.Context, w *connector.Writer) error {
			return w.Delete(ctx, "user", schema.Row{})
		}, schema.ErrMissingKey, `column "id"`},
		{"values of another table", func(ctx context.Context, w *connector.Writer) error {
			other := schema.MustStruct[struct {
				ID int64 `col:"id"`
			}]("other", "id")
			return w.Upsert(ctx, "user", other.Row(&struct {
				ID int64 `col:"id"`
			}{1}))
		}, schema.ErrWrongTable, `table "other"`},
		{"unknown table", func(ctx context.Context, w *connector.Writer) error {
			return w.Upsert(ctx, "users", schema.Row{"id": "a"})
		}, schema.ErrUnknownTable, `"users"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &connector.Connector{Name: "bad", Tables: []connector.Table{{Table: userTable, Stream: connector.StreamFunc(tt.op)}}}
			dest := ops.NewMemory()
			_, err := c.Run(context.Background(), dest, quiet())
			var te *connector.TableError
			if !errors.As(err, &te) || !errors.Is(err, tt.wantIs) {
				t.Fatalf("Run() = %v, want a *TableError wrapping %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Run() = %q, want it to contain %s", err, tt.wantMsg)
			}
			var ve *schema.ValueError
			if errors.As(err, &ve) && ve.Table != "user" {
				t.Errorf("ValueError.Table = %q, want user", ve.Table)
			}
			if n := len(dest.Rows("user")); n != 0 {
				t.Errorf("rows written = %d, want 0", n)
			}
		})
	}
}

func TestInvalidConnector(t *testing.T) {
	stream := connector.StreamFunc(func(context.Context, *connector.Writer) error { return nil })
	tests := []struct {
		name string
		c    connector.Connector
	}{
		{"no tables", connector.Connector{}},
		{"no stream", connector.Connector{Tables: []connector.Table{{Table: userTable}}}},
		{"duplicate", connector.Connector{Tables: []connector.Table{{Table: userTable, Stream: stream}, {Table: userTable, Stream: stream}}}},
		{"bad schema", connector.Connector{Tables: []connector.Table{{Table: schema.Table{Name: "t"}, Stream: stream}}}},
	}
	for _, tt := range tests {
		if _, err := tt.c.Run(context.Background(), ops.NewMemory(), quiet()); !errors.Is(err, connector.ErrInvalidConnector) {
			t.Errorf("%s: Run() = %v, want ErrInvalidConnector", tt.name, err)
		}
	}
}

func TestSkipIsLoggedAndCounted(t *testing.T) {
	for _, n := range []int{4, 1000} {
		t.Run(fmt.Sprint(n, " records"), func(t *testing.T) {
			var logs bytes.Buffer
			c := &connector.Connector{Name: "skip", Tables: []connector.Table{{Table: userTable,
				Stream: connector.StreamFunc(func(ctx context.Context, w *connector.Writer) error {
					for i := range n {
						u := user{ID: fmt.Sprint(i), UpdatedAt: t0}
						if i%2 == 1 {
							w.Skip(errors.New("no name"), u.ID)
							continue
						}
						if err := w.Upsert(ctx, "user", u.row()); err != nil {
							return err
						}
					}
					return w.Commit(ctx, state.Table{})
				})}}}
			o := quiet()
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			sum, err := c.Run(context.Background(), ops.NewMemory(), o)
			if err != nil {
				t.Fatal(err)
			}
			ts, _ := sum.Table("user")
			if ts.Skipped != int64(n/2) || ts.Upserts != int64(n/2) {
				t.Errorf("summary = %+v, want %d skipped and %d upserts", ts, n/2, n/2)
			}
			// The first ten are logged one by one, the rest summed up.
			want := min(n/2, 10)
			if got := strings.Count(logs.String(), "skipped a record"); got != want {
				t.Errorf("skip warnings logged = %d, want %d", got, want)
			}
			if n/2 > 10 && !strings.Contains(logs.String(), fmt.Sprintf("skipped records\" table=user skipped=%d", n/2)) {
				t.Errorf("log lacks the total of skipped records:\n%s", logs.String())
			}
		})
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	cfg := connector.Config{"api_key": "sk-live-123", "clientSecret": "hunter2", "password": "pw-456", "hapikey": "hub-789", "base_url": "https://api.example.com"}
	c := &connector.Connector{Name: "secret", Tables: []connector.Table{{Table: userTable,
		Stream: connector.StreamFunc(func(ctx context.Context, w *connector.Writer) error {
			w.Logger().Info("configured", "config", w.Config())
			w.Logger().Info(fmt.Sprintf("%v %+v %#v %s", w.Config(), w.Config(), w.Config(), w.Config()))
			b, err := json.Marshal(w.Config())
			if err != nil {
				return err
			}
			w.Logger().Info("as JSON", "config", string(b))
			return nil
		})}}}
	o := quiet()
	o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	o.Config = cfg
	if _, err := c.Run(context.Background(), ops.NewMemory(), o); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"sk-live-123", "hunter2", "pw-456", "hub-789"} {
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
		{"default: a second", connector.CheckpointPolicy{}, 1},                // a fast sync: the end only
		{"every page", connector.CheckpointPolicy{EveryRecords: 1}, 6},        // 6 pages, the last says has_more=false
		{"every 10 records", connector.CheckpointPolicy{EveryRecords: 10}, 3}, // after pages 2, 4 and 6
		{"every hour", connector.CheckpointPolicy{Every: time.Hour}, 1},       // the end only
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(30, 1, time.Second)
			dest := ops.NewMemory()
			o := quiet()
			o.Checkpoint = tt.policy
			sum, err := api.connector(5, connector.PriorityFirst{}).Run(context.Background(), dest, o)
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

func TestTableErrorNamesTheCheckpointedState(t *testing.T) {
	// Checkpoints every 10 records, pages of 5: a failure at fetch 4
	// leaves pages 1-3 committed, 1-2 checkpointed; the final checkpoint
	// of the run then saves page 3, and the error says so.
	api := newFakeAPI(30, 1, time.Second)
	api.failAt = 4
	dest := ops.NewMemory()
	o := quiet()
	o.Checkpoint = connector.CheckpointPolicy{EveryRecords: 10}
	sum, err := api.connector(5, connector.PriorityFirst{}).Run(context.Background(), dest, o)
	var te *connector.TableError
	if !errors.As(err, &te) {
		t.Fatalf("Run() = %v, want a TableError", err)
	}
	saved := *loadState(dest).Table("user")
	if diff := cmp.Diff(saved, te.State); diff != "" {
		t.Errorf("TableError.State differs from the saved state (-saved +error):\n%s", diff)
	}
	if want := t0.Add(14 * time.Second); !saved.Mark.Cursor.Time().Equal(want) {
		t.Errorf("saved mark = %v, want the end of page 3 (%v)", saved.Mark, want)
	}
	if ts, _ := sum.Table("user"); ts.Pages != 3 || !ts.Failed {
		t.Errorf("summary of the failed run = %+v, want the 3 pages it committed, failed", ts)
	}
	if !strings.Contains(err.Error(), "resumes at mark 2024-01-01T00:00:14Z") {
		t.Errorf("Run() = %q, want it to say where it resumes", err)
	}
}

func TestStateOwner(t *testing.T) {
	api := newFakeAPI(10, 1, time.Second)
	c := api.connector(5, connector.PriorityFirst{})
	o := quiet()
	o.Store = &state.Memory{}
	if _, err := c.Run(context.Background(), ops.NewMemory(), o); !errors.Is(err, connector.ErrStateOwner) {
		t.Errorf("Run() with a Store and a destination that keeps state = %v, want ErrStateOwner", err)
	}
	// A destination without state uses the Store, which resumes the next
	// run.
	store := &state.Memory{}
	o.Store = store
	dest := stateless{ops.NewMemory()}
	if _, err := c.Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	if store.Saves() == 0 {
		t.Errorf("the Store saved nothing")
	}
	api.takeEmitted()
	if _, err := c.Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	if got := len(api.takeEmitted()); got != 0 {
		t.Errorf("rows emitted by a second run from the Store = %d, want 0", got)
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
		inc := api.stream(3, connector.PriorityFirst{})
		inc.Emit = func(ctx context.Context, w *connector.Writer, u user) error { return w.Upsert(ctx, tbl.Name, u.row()) }
		tables = append(tables, connector.Table{Table: tbl, Priority: i, Stream: inc})
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
	// The summary lists the streams in the order they start: priority
	// first.
	var order []string
	for _, ts := range sum.Tables {
		order = append(order, ts.Table)
	}
	if want := []string{"user_5", "user_4", "user_3", "user_2", "user_1", "user_0"}; !slices.Equal(order, want) {
		t.Errorf("table order = %v, want %v", order, want)
	}
	st := loadState(dest)
	for i := range apis {
		if st.Tables[fmt.Sprintf("user_%d", i)].Mark.IsZero() {
			t.Errorf("table user_%d has no mark in the final state", i)
		}
	}
}

func TestErrorsFromSeveralTablesAreJoined(t *testing.T) {
	boom := func(msg string) connector.Stream {
		return connector.StreamFunc(func(context.Context, *connector.Writer) error { return errors.New(msg) })
	}
	a, b := userTable, userTable
	a.Name, b.Name = "a", "b"
	c := &connector.Connector{Tables: []connector.Table{{Table: a, Stream: boom("first")}, {Table: b, Stream: boom("second")}}}
	_, err := c.Run(context.Background(), ops.NewMemory(), quiet())
	if err == nil || !strings.Contains(err.Error(), "first") || !strings.Contains(err.Error(), "second") {
		t.Errorf("Run() = %v, want both tables' errors", err)
	}
}

func TestCancelSavesCommittedProgress(t *testing.T) {
	api := newFakeAPI(50, 1, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inc := api.stream(5, connector.PriorityFirst{})
	inc.Emit = func(ctx context.Context, w *connector.Writer, u user) error {
		if u.Name == "name 17" {
			cancel()
		}
		return w.Upsert(ctx, "user", u.row())
	}
	c := &connector.Connector{Name: "cancel", Tables: []connector.Table{{Table: userTable, Stream: inc}}}
	dest := ops.NewMemory()
	o := quiet()
	o.Checkpoint.EveryRecords = 1000 // only the final checkpoint
	_, err := c.Run(ctx, dest, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v, want context.Canceled", err)
	}
	if m := loadState(dest).Tables["user"].Mark; !m.Cursor.Time().Equal(t0.Add(14 * time.Second)) {
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
		Stream: connector.StreamFunc(func(ctx context.Context, w *connector.Writer) error {
			if err := w.Upsert(ctx, "user", user{ID: "a", Name: "x", UpdatedAt: t0}.row()); err != nil {
				return err
			}
			if err := w.Commit(ctx, state.Table{}); err != nil {
				return err
			}
			select { // wait until progress was logged
			case <-h.ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})}}}
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
		"         table  upserts  updates  deletes  truncates  replaces  checkpoints  skipped  pages  duration\n" +
		"          user      100        0        2          0         0            3        1      3      1.5s\n" +
		"  org (failed)        0        5        0          0         0            0        0      1        0s\n" +
		"         TOTAL      100        5        2          0         0            3        1      4        0s\n"
	if got := s.String(); got != want {
		t.Errorf("Summary.String() =\n%s\nwant\n%s", got, want)
	}
}

func TestFullRefreshResumesAndRestarts(t *testing.T) {
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
	c := &connector.Connector{Tables: []connector.Table{{Table: tbl, Stream: connector.FullRefresh[int]{
		Pages: func(connector.Window) *paginate.Paginator[int] {
			return paginate.New(src, paginate.Token().WithLimit(5))
		},
		Emit: func(ctx context.Context, w *connector.Writer, n int) error {
			emitted = append(emitted, n)
			return w.Upsert(ctx, "n", schema.Row{"n": n})
		},
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

func TestFullRefreshTruncateDeletesWhatIsGone(t *testing.T) {
	items := []int{1, 2, 3, 4, 5}
	tbl := schema.Table{Name: "n", PrimaryKey: []string{"n"}, Columns: []schema.Column{{Name: "n", Type: schema.Long}}}
	c := &connector.Connector{Tables: []connector.Table{{Table: tbl, Stream: connector.FullRefresh[int]{
		Pages: func(connector.Window) *paginate.Paginator[int] {
			return paginate.New(&memsource.Source[int]{Items: items, Kind: paginate.KindOffset, HasMore: true}, paginate.Offset(2))
		},
		Emit: func(ctx context.Context, w *connector.Writer, n int) error {
			return w.Upsert(ctx, "n", schema.Row{"n": n})
		},
		Truncate: true,
	}}}}
	dest := ops.NewMemory()
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	items = []int{1, 3, 5, 6}
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	var live []int64
	for _, row := range dest.Live("n") {
		live = append(live, row["n"].(int64))
	}
	slices.Sort(live)
	if !slices.Equal(live, []int64{1, 3, 5, 6}) {
		t.Errorf("live rows after a truncating full refresh = %v, want [1 3 5 6]", live)
	}
}

// orderCheckingDest checks, at every checkpoint, that the state covers
// only rows it already received.
type orderCheckingDest struct {
	*ops.Memory
	t        *testing.T
	received map[string]bool // the key of every row upserted
	checks   int
}

func (d *orderCheckingDest) Write(ctx context.Context, batch []ops.Op) error {
	for _, op := range batch {
		if op.Kind == ops.OpUpsert {
			d.received[state.Mark{Cursor: state.Time(op.Row[2].(time.Time)), ID: state.String(op.Row[0].(string))}.String()] = true
		}
	}
	return d.Memory.Write(ctx, batch)
}

func (d *orderCheckingDest) Checkpoint(ctx context.Context, st *state.State) error {
	if m := st.Tables["user"].Mark; !m.IsZero() {
		d.checks++
		if !d.received[m.String()] {
			d.t.Errorf("checkpoint %d saves mark %v before the destination received that row", d.checks, m)
		}
	}
	return d.Memory.Checkpoint(ctx, st)
}

func TestStateNeverAheadOfRows(t *testing.T) {
	api := newFakeAPI(40, 3, time.Second)
	dest := &orderCheckingDest{Memory: ops.NewMemory(), t: t, received: map[string]bool{}}
	o := quiet()
	o.Checkpoint.EveryRecords = 1
	if _, err := api.connector(6, connector.PriorityFirst{}).Run(context.Background(), dest, o); err != nil {
		t.Fatal(err)
	}
	if dest.checks < 7 {
		t.Errorf("checkpoints with a mark = %d, want one per page (7)", dest.checks)
	}
}

func TestStateStaysBounded(t *testing.T) {
	api := newFakeAPI(50, 2, time.Second)
	dest := ops.NewMemory()
	c := api.connector(5, connector.PriorityFirst{Recent: 10 * time.Second, MaxWindows: 1})
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
		b, err := loadState(dest).Encode()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(b))
	}
	// Once history is done, the state holds one mark and one history edge
	// whatever the number of rows synced: its size no longer changes.
	steady := sizes[10:]
	if slices.Min(steady) != slices.Max(steady) || slices.Max(sizes) > 640 {
		t.Errorf("state sizes over 30 syncs = %v bytes, want them constant after the history is done and under 640", sizes)
	}
}
