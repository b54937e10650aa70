// Package users is the users connector of examples/users, partitioned
// for Temporal: users synced incrementally on (updatedAt, id) from the
// mock API's offset endpoint, priority-first, with the history split
// into time windows that run as parts. The tests, the benchmark and the
// runnable example of the temporal module share it.
package users

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
	"github.com/connectkit/connector/temporal"
)

// Name is the connector's name, as workflow inputs give it.
const Name = "users"

// User is a user as the API serves it.
type User struct {
	ID        string    `json:"id" col:"id"`
	Name      string    `json:"name" col:"name"`
	Email     string    `json:"email" col:"email"`
	Address   string    `json:"address" col:"address"`
	Company   string    `json:"company" col:"company"`
	Job       string    `json:"job" col:"job"`
	UpdatedAt time.Time `json:"updatedAt" col:"updatedAt"`
	CreatedAt time.Time `json:"createdAt" col:"createdAt"`
	Deleted   bool      `json:"deleted" col:"-"`
}

// Table is the destination table "user", primary key id.
var Table = schema.MustStruct[User]("user", "id")

// ErrConfig reports a config value that cannot be read.
var ErrConfig = errors.New("users: bad config")

// Config keys of the connector.
const (
	KeyURL      = "url"       // the API's base URL (required)
	KeySchema   = "schema"    // the Postgres schema; "" means public
	KeyPageSize = "page_size" // users per page; default 100
	KeyRecent   = "recent"    // the forward pass's window; default 1h
	KeyWindow   = "window"    // the span of each history partition; default 1h
	KeyOldest   = "oldest"    // RFC 3339: the oldest updatedAt wanted (required)
)

// Connector returns the users connector for config.
func Connector(config connector.Config) (*connector.Connector, error) {
	if err := config.Require(KeyURL, KeyOldest); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	size, err := config.Int(KeyPageSize, 100)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	recent, err := config.Duration(KeyRecent, time.Hour)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	window, err := config.Duration(KeyWindow, time.Hour)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	oldest, err := time.Parse(time.RFC3339, config.Get(KeyOldest, ""))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, KeyOldest, err)
	}
	src, err := rest.NewSource[User](rest.Endpoint{
		BaseURL: config.Get(KeyURL, ""), Path: "/users",
		Query:   url.Values{"include_deleted": {"true"}},
		Records: "data", HasMore: "has_more", Total: "total",
		Paging: rest.OffsetPaging{}, PageSize: size,
	})
	if err != nil {
		return nil, fmt.Errorf("users: declaring the source: %w", err)
	}
	pages := func(w connector.Window) *paginate.Paginator[User] {
		f := url.Values{}
		since := w.Since
		if t := w.After.Cursor.Time(); t.After(since) {
			since = t // a resumed pass asks from its mark on (inclusive: the driver drops the rows at or before it)
		}
		if !since.IsZero() {
			f.Set("updated_since", since.UTC().Format(time.RFC3339Nano))
		}
		if !w.Until.IsZero() {
			f.Set("updated_before", w.Until.UTC().Format(time.RFC3339Nano))
		}
		return src.With(f).Paginator()
	}
	stream := connector.Incremental[User]{
		Pages: pages,
		Key: func(u User) state.Mark {
			return state.Mark{Cursor: state.Time(u.UpdatedAt), ID: state.String(u.ID)}
		},
		Emit: func(ctx context.Context, w *connector.Writer, u User) error {
			if u.Deleted {
				return w.Delete(ctx, "user", schema.Row{"id": u.ID})
			}
			return w.Upsert(ctx, "user", Table.Row(&u))
		},
		Granularity:   time.Second,
		PriorityFirst: connector.PriorityFirst{Recent: recent, Window: window, Oldest: oldest, Partitioned: true},
	}
	return &connector.Connector{Name: Name, Tables: []connector.Table{{Table: Table.Table(), Stream: stream}}}, nil
}

// Factory returns the connector's temporal.Factory: each activity builds
// the connector from the workflow's config and opens the Postgres
// database dsn (given to the worker, not in the config) shared, with a
// checkpoint after every page.
func Factory(dsn string) temporal.Factory {
	return func(ctx context.Context, config connector.Config) (*temporal.Instance, error) {
		c, err := Connector(config)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", temporal.ErrInvalidInput, err) // no retry fixes a config
		}
		db, err := pgdest.Open(ctx, dsn, pgdest.Options{Schema: config.Get(KeySchema, ""), Shared: true})
		if err != nil {
			return nil, fmt.Errorf("users: opening the destination: %w", err)
		}
		return &temporal.Instance{
			Connector:   c,
			Destination: db,
			Options: connector.Options{
				Checkpoint: connector.CheckpointPolicy{EveryRecords: 1},
				Progress:   -1,
			},
		}, nil
	}
}
