package connector_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// issue is a record of a GitHub-like API: issues with nested labels,
// listed by (updated, id), with numeric ids.
type issue struct {
	ID      int64
	Title   string
	Updated time.Time
	Labels  []string
}

func (is issue) key() state.Mark {
	return state.Mark{Cursor: state.Time(is.Updated), ID: state.Int(is.ID)}
}

var (
	issueTable = schema.Table{Name: "issue", PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", Type: schema.Long}, {Name: "title", Type: schema.String}, {Name: "updated", Type: schema.UTCDateTime},
	}}
	labelTable = schema.Table{Name: "issue_label", PrimaryKey: []string{"issue_id", "name"}, Columns: []schema.Column{
		{Name: "issue_id", Type: schema.Long}, {Name: "name", Type: schema.String},
	}}
)

// issueAPI holds issues that change, and can fail a fetch.
type issueAPI struct {
	mu      sync.Mutex
	issues  map[int64]issue
	now     time.Time
	fetches int
	failAt  int
}

func newIssueAPI(n int) *issueAPI {
	a := &issueAPI{issues: map[int64]issue{}, now: t0.Add(time.Duration(n) * time.Minute)}
	names := []string{"bug", "docs", "p1", "p2", "wontfix"}
	for i := range n {
		id := int64(999999995 + i) // ids cross the 999999999 boundary
		var labels []string
		for j, name := range names {
			if (i+j)%3 == 0 {
				labels = append(labels, name)
			}
		}
		a.issues[id] = issue{ID: id, Title: fmt.Sprintf("issue %d", i), Updated: t0.Add(time.Duration(i/2) * time.Minute), Labels: labels}
	}
	return a
}

// relabel changes an issue's labels: labels removed, labels added.
func (a *issueAPI) relabel(id int64, labels ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(time.Second)
	is := a.issues[id]
	is.ID, is.Labels, is.Updated = id, labels, a.now
	if is.Title == "" {
		is.Title = "new issue"
	}
	a.issues[id] = is
}

func (a *issueAPI) pages(w connector.Window) *paginate.Paginator[issue] {
	a.mu.Lock()
	var items []issue
	for _, is := range a.issues {
		if w.Contains(is.Updated) {
			items = append(items, is)
		}
	}
	a.mu.Unlock()
	slices.SortFunc(items, func(x, y issue) int { return x.key().Compare(y.key()) })
	return paginate.New(&memsource.Source[issue]{Items: items, Kind: paginate.KindPageNumber, First: 1, HasMore: true,
		Fail: func(int64, paginate.Cursor) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.fetches++
			if a.fetches == a.failAt {
				return errors.New("injected failure")
			}
			return nil
		}}, paginate.PageNumber(1, 3))
}

// want returns what the issue and label tables should hold.
func (a *issueAPI) want() (issues, labels map[string]schema.Row) {
	a.mu.Lock()
	defer a.mu.Unlock()
	issues, labels = map[string]schema.Row{}, map[string]schema.Row{}
	lc, err := labelTable.Compile()
	if err != nil {
		panic(err)
	}
	for _, is := range a.issues {
		issues[strconv.FormatInt(is.ID, 10)] = schema.Row{"id": is.ID, "title": is.Title, "updated": is.Updated}
		for _, l := range is.Labels {
			vals, err := lc.Normalize(schema.Row{"issue_id": is.ID, "name": l})
			if err != nil {
				panic(err)
			}
			labels[lc.KeyOf(vals)] = schema.Row{"issue_id": is.ID, "name": l}
		}
	}
	return issues, labels
}

// connector returns the connector of the issues and their labels: one
// stream fills both tables.
func (a *issueAPI) connector() *connector.Connector {
	return &connector.Connector{Name: "github", Tables: []connector.Table{
		{Table: issueTable, Stream: connector.Incremental[issue]{
			Pages: a.pages,
			Key:   issue.key,
			Emit: func(ctx context.Context, w *connector.Writer, is issue) error {
				if err := w.Upsert(ctx, "issue", schema.Row{"id": is.ID, "title": is.Title, "updated": is.Updated}); err != nil {
					return err
				}
				labels := make([]schema.AnyRow, len(is.Labels))
				for i, l := range is.Labels {
					labels[i] = schema.Row{"name": l} // issue_id comes from the parent
				}
				return w.ReplaceChildren(ctx, "issue_label", schema.Row{"issue_id": is.ID}, labels...)
			},
		}},
		{Table: labelTable}, // written by the issue stream only
	}}
}

func checkIssues(t *testing.T, a *issueAPI, dest *ops.Memory) {
	t.Helper()
	issues, labels := a.want()
	if diff := cmp.Diff(issues, dest.Live("issue")); diff != "" {
		t.Errorf("issue table mismatch (-source +destination):\n%s", diff)
	}
	if diff := cmp.Diff(labels, dest.Live("issue_label")); diff != "" {
		t.Errorf("issue_label table mismatch (-source +destination):\n%s", diff)
	}
}

func TestChildTables(t *testing.T) {
	api := newIssueAPI(20)
	dest := ops.NewMemory()
	c := api.connector()
	sum, err := c.Run(context.Background(), dest, quiet())
	if err != nil {
		t.Fatal(err)
	}
	checkIssues(t, api, dest)
	_, labels := api.want()
	if ts, _ := sum.Table("issue_label"); ts.Upserts != int64(len(labels)) || ts.Pages != 0 {
		t.Errorf("issue_label summary = %+v, want %d upserts counted for the child table", ts, len(labels))
	}

	// Labels removed, replaced and added; a new issue.
	api.relabel(999999995)                   // every label removed
	api.relabel(1000000001, "p1", "feature") // some kept, some new
	api.relabel(1000000100, "new")
	if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
		t.Fatal(err)
	}
	checkIssues(t, api, dest)
}

func TestChildTablesCrashAtEveryPage(t *testing.T) {
	for failAt := 1; failAt <= 8; failAt++ {
		t.Run(fmt.Sprint("fetch ", failAt), func(t *testing.T) {
			api := newIssueAPI(20)
			dest := ops.NewMemory()
			c := api.connector()
			api.failAt = failAt
			_, _ = c.Run(context.Background(), dest, quiet())
			api.failAt = 0
			if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
				t.Fatal(err)
			}
			api.relabel(999999996)
			api.relabel(1000000002, "x", "y")
			api.fetches, api.failAt = 0, 1
			_, _ = c.Run(context.Background(), dest, quiet())
			api.failAt = 0
			if _, err := c.Run(context.Background(), dest, quiet()); err != nil {
				t.Fatal(err)
			}
			checkIssues(t, api, dest)
		})
	}
}

func TestReplaceChildrenErrors(t *testing.T) {
	tests := []struct {
		name   string
		parent schema.Row
		rows   []schema.AnyRow
		want   string
	}{
		{"whole key as parent", schema.Row{"issue_id": int64(1), "name": "x"}, nil, "leading columns"},
		{"not a prefix", schema.Row{"name": "x"}, nil, "leading columns"},
		{"null parent", schema.Row{"issue_id": nil}, nil, "missing or null"},
		{"child of another parent", schema.Row{"issue_id": int64(1)}, []schema.AnyRow{schema.Row{"issue_id": int64(2), "name": "x"}}, "is not the parent's"},
		{"unknown table", nil, nil, "unknown table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := "issue_label"
			if tt.parent == nil {
				table = "nope"
			}
			c := &connector.Connector{Tables: []connector.Table{
				{Table: issueTable, Stream: connector.StreamFunc(func(ctx context.Context, w *connector.Writer) error {
					return w.ReplaceChildren(ctx, table, tt.parent, tt.rows...)
				})},
				{Table: labelTable},
			}}
			_, err := c.Run(context.Background(), ops.NewMemory(), quiet())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReplaceChildren = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
