package main

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
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
// updated_before, tombstones included.
type API struct {
	Client      *rest.Client
	BaseURL     string
	PageSize    int
	Concurrency int          // pages in flight
	Strategy    string       // "offset" or "keyset"
	Logger      *slog.Logger // paging warnings; nil means slog.Default()
}

// offsetPage is the body of GET /users.
type offsetPage struct {
	Data    []User `json:"data"`
	Total   int64  `json:"total"`
	HasMore bool   `json:"has_more"`
}

// keysetPage is the body of GET /users/keyset.
type keysetPage struct {
	Data    []User `json:"data"`
	HasMore bool   `json:"has_more"`
}

// Pages returns a Paginator over the users updated in w, in
// (updatedAt, id) order.
func (a *API) Pages(w connector.Window) *paginate.Paginator[User] {
	filters := url.Values{"include_deleted": {"true"}}
	if !w.Since.IsZero() {
		filters.Set("updated_since", w.Since.UTC().Format(time.RFC3339Nano))
	}
	if !w.Until.IsZero() {
		filters.Set("updated_before", w.Until.UTC().Format(time.RFC3339Nano))
	}
	opts := func(o *paginate.Options) {
		o.Concurrency = a.Concurrency
		o.Logger = a.Logger
	}
	if a.Strategy == "keyset" {
		src := paginate.SourceFunc[User](func(ctx context.Context, c paginate.Cursor) (paginate.Page[User], error) {
			q := clone(filters)
			q.Set("limit", strconv.Itoa(c.Limit))
			if c.Key != "" {
				q.Set("after", c.Key)
			}
			var body keysetPage
			if _, err := a.Client.GetJSON(ctx, a.BaseURL+"/users/keyset?"+q.Encode(), &body); err != nil {
				return paginate.Page[User]{}, err
			}
			return paginate.Page[User]{Items: body.Data, HasMore: paginate.FlagOf(body.HasMore)}, nil
		})
		return paginate.New(paginate.Keyed(src, userKey), paginate.Keyset(a.PageSize), opts)
	}
	src := paginate.SourceFunc[User](func(ctx context.Context, c paginate.Cursor) (paginate.Page[User], error) {
		q := clone(filters)
		q.Set("offset", strconv.FormatInt(c.Offset, 10))
		q.Set("limit", strconv.Itoa(c.Limit))
		var body offsetPage
		if _, err := a.Client.GetJSON(ctx, a.BaseURL+"/users?"+q.Encode(), &body); err != nil {
			return paginate.Page[User]{}, err
		}
		return paginate.Page[User]{Items: body.Data, Total: body.Total, HasMore: paginate.FlagOf(body.HasMore)}, nil
	})
	return paginate.New(src, paginate.Offset(a.PageSize), opts)
}

// userKey is the API's keyset position: "<updatedAt RFC 3339>,<id>", or
// "" for a record without updatedAt, which cannot be paged after.
func userKey(u User) string {
	if u.UpdatedAt.IsZero() || u.ID == "" {
		return ""
	}
	return u.UpdatedAt.UTC().Format(time.RFC3339Nano) + "," + u.ID
}

func clone(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = vs
	}
	return out
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
