package main

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// Issue is an issue as GitHub's REST API serves it. The col tags name
// the columns of the issue table; the nested user becomes the user_login
// and user_id columns; the labels go to a child table.
type Issue struct {
	ID     int64   `json:"id" col:"id"`
	Number int     `json:"number" col:"number"`
	Title  string  `json:"title" col:"title"`
	State  string  `json:"state" col:"state"`
	Body   *string `json:"body" col:"body"`
	User   struct {
		Login string `json:"login" col:"login"`
		ID    int64  `json:"id" col:"id"`
	} `json:"user" col:"user_,inline"`
	Labels    []Label    `json:"labels" col:"-"`
	Comments  int        `json:"comments" col:"comments"`
	CreatedAt time.Time  `json:"created_at" col:"created_at"`
	UpdatedAt time.Time  `json:"updated_at" col:"updated_at"`
	ClosedAt  *time.Time `json:"closed_at" col:"closed_at"`
}

// Label is a label of an issue: a row of the child table issue_label,
// keyed by (issue_id, id).
type Label struct {
	IssueID int64  `json:"-" col:"issue_id"`
	ID      int64  `json:"id" col:"id"`
	Name    string `json:"name" col:"name"`
	Color   string `json:"color" col:"color"`
}

var (
	issues = schema.MustStruct[Issue]("issue", "id")
	labels = schema.MustStruct[Label]("issue_label", "issue_id", "id")
)

// API is a GitHub repository's issues endpoint, declared.
type API struct {
	Client   *rest.Client
	BaseURL  string // https://api.github.com, or a mock's URL
	Repo     string // owner/repo
	PageSize int
	Recent   time.Duration // priority-first: how far back the first sync reaches first
}

// Connector returns the connector of the repository's issues and their
// labels: one stream, priority-first, fills both tables.
func (a *API) Connector() (*connector.Connector, error) {
	src, err := rest.NewSource[Issue](rest.Endpoint{
		Client:   a.Client,
		BaseURL:  a.BaseURL,
		Path:     "/repos/" + a.Repo + "/issues",
		Query:    url.Values{"state": {"all"}, "sort": {"updated"}, "direction": {"asc"}},
		Paging:   rest.LinkPaging{Limit: "per_page"},
		PageSize: a.PageSize,
	})
	if err != nil {
		return nil, err
	}
	stream := connector.Incremental[Issue]{
		// GitHub filters by since= (inclusive, whole seconds) and has no
		// upper bound: the driver drops rows past a history window.
		Pages: func(w connector.Window) *paginate.Paginator[Issue] {
			q := url.Values{}
			if !w.Since.IsZero() {
				q.Set("since", w.Since.UTC().Format(time.RFC3339))
			}
			return src.With(q).Paginator()
		},
		Key: func(is Issue) state.Mark {
			return state.Mark{Cursor: state.Time(is.UpdatedAt), ID: state.Int(is.ID)}
		},
		Check:         checkIssue,
		Emit:          writeIssue,
		Granularity:   time.Second,
		PriorityFirst: connector.PriorityFirst{Recent: a.Recent},
	}
	return &connector.Connector{Name: "github", Tables: []connector.Table{
		{Table: issues.Table(), Stream: stream},
		{Table: labels.Table()}, // filled by the issue stream
	}}, nil
}

// checkIssue rejects the records the tables cannot take.
func checkIssue(is Issue) error {
	switch {
	case is.ID == 0:
		return errors.New("issue without id")
	case is.UpdatedAt.IsZero():
		return errors.New("issue without updated_at")
	}
	return nil
}

// writeIssue upserts an issue and makes its labels exactly those it has
// now: a label removed at the source is marked deleted.
func writeIssue(ctx context.Context, w *connector.Writer, is Issue) error {
	if err := w.Upsert(ctx, "issue", issues.Row(&is)); err != nil {
		return err
	}
	rows := make([]schema.AnyRow, len(is.Labels))
	for i := range is.Labels {
		l := is.Labels[i]
		l.IssueID = is.ID
		rows[i] = labels.Row(&l)
	}
	return w.ReplaceChildren(ctx, "issue_label", schema.Row{"issue_id": is.ID}, rows...)
}
