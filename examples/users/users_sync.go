package main

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// User is a user as the API serves it. The col tags name the columns of
// the destination table; the Go types give their types (string: STRING,
// time.Time: UTC_DATETIME).
type User struct {
	ID        string    `json:"id" col:"id"`
	Name      string    `json:"name" col:"name"`
	Email     string    `json:"email" col:"email"`
	Address   string    `json:"address" col:"address"`
	Company   string    `json:"company" col:"company"`
	Job       string    `json:"job" col:"job"`
	UpdatedAt time.Time `json:"updatedAt" col:"updatedAt"`
	CreatedAt time.Time `json:"createdAt" col:"createdAt"`
	Deleted   bool      `json:"deleted" col:"-"` // a tombstone
}

// users is the destination table "user", primary key id, derived from User.
var users = schema.MustStruct[User]("user", "id")

// API reads users from the users API: GET /users (offset) or
// GET /users/keyset (keyset), filtered by updated_since and
// updated_before, tombstones included. Both endpoints are declared, not
// hand-written: see Sources.
type API struct {
	Client      *rest.Client
	BaseURL     string
	PageSize    int
	Concurrency int          // pages in flight
	Strategy    string       // "offset" or "keyset"
	Logger      *slog.Logger // paging warnings; nil means slog.Default()

	once sync.Once
	src  *rest.Source[User]
	err  error
}

// source returns the declared endpoint of the API's strategy.
func (a *API) source() (*rest.Source[User], error) {
	a.once.Do(func() {
		e := rest.Endpoint{
			Client: a.Client, BaseURL: a.BaseURL,
			Query:   url.Values{"include_deleted": {"true"}},
			Records: "data", HasMore: "has_more",
			PageSize: a.PageSize,
		}
		if a.Strategy == "keyset" {
			// after=<updatedAt>,<id> of the last user of a page.
			e.Path, e.Paging = "/users/keyset", rest.KeysetPaging{Param: "after", Field: "updatedAt", Tie: "id"}
		} else {
			e.Path, e.Paging, e.Total = "/users", rest.OffsetPaging{}, "total"
		}
		a.src, a.err = rest.NewSource[User](e)
	})
	return a.src, a.err
}

// Pages returns a Paginator over the users updated in w, in
// (updatedAt, id) order.
func (a *API) Pages(w connector.Window) *paginate.Paginator[User] {
	opts := func(o *paginate.Options) {
		o.Concurrency = a.Concurrency
		o.Logger = a.Logger
	}
	src, err := a.source()
	if err != nil {
		return paginate.New(paginate.SourceFunc[User](func(context.Context, paginate.Cursor) (paginate.Page[User], error) {
			return paginate.Page[User]{}, err
		}), paginate.Offset(a.PageSize))
	}
	filters := url.Values{}
	if !w.Since.IsZero() {
		filters.Set("updated_since", w.Since.UTC().Format(time.RFC3339Nano))
	}
	if !w.Until.IsZero() {
		filters.Set("updated_before", w.Until.UTC().Format(time.RFC3339Nano))
	}
	return src.With(filters).Paginator(opts)
}

// checkUser rejects records the table cannot take: every user needs an id
// and an updatedAt (the incremental cursor); a live user needs a name and
// an email too.
func checkUser(u User) error {
	switch {
	case u.ID == "":
		return errors.New("user without id")
	case u.UpdatedAt.IsZero():
		return errors.New("user without updatedAt")
	case !u.Deleted && (u.Name == "" || u.Email == ""):
		return errors.New("user without name or email")
	}
	return nil
}

// userMark is a user's position in the incremental order: (updatedAt,
// id).
func userMark(u User) state.Mark {
	return state.Mark{Cursor: state.Time(u.UpdatedAt), ID: state.String(u.ID)}
}

// writeUser writes one user: an upsert, or a delete for a tombstone.
func writeUser(ctx context.Context, w *connector.Writer, u User) error {
	if u.Deleted {
		return w.Delete(ctx, "user", schema.Row{"id": u.ID})
	}
	return w.Upsert(ctx, "user", users.Row(&u))
}

// Stream is the user table's stream: incremental on (updatedAt, id), a
// checkpoint after every page, users changed since the last checkpoint
// upserted and deleted ones marked deleted.
func (a *API) Stream() connector.Incremental[User] {
	return connector.Incremental[User]{
		Pages: a.Pages,
		Key:   userMark,
		Check: checkUser,
		Emit:  writeUser,
	}
}

// Connector returns the users connector: one table, "user".
func (a *API) Connector() *connector.Connector {
	return &connector.Connector{
		Name:   "users",
		Tables: []connector.Table{{Table: users.Table(), Stream: a.Stream()}},
	}
}
