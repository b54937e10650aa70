package main

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// Customer is a customer as the Stripe-like API serves it: Stripe writes
// unset fields as null, which the pointers keep as NULL. A deleted
// customer comes as a tombstone, {"id":...,"deleted":true,"updated":T}.
type Customer struct {
	ID          string  `json:"id" col:"id"`
	Name        *string `json:"name" col:"name"`
	Email       *string `json:"email" col:"email"`
	Phone       *string `json:"phone" col:"phone"`
	Description *string `json:"description" col:"description"`
	Currency    *string `json:"currency" col:"currency"`
	Balance     int64   `json:"balance" col:"balance"`
	Delinquent  bool    `json:"delinquent" col:"delinquent"`
	Address     *struct {
		City       *string `json:"city" col:"city"`
		Country    *string `json:"country" col:"country"`
		Line1      *string `json:"line1" col:"line1"`
		Line2      *string `json:"line2" col:"line2"`
		PostalCode *string `json:"postal_code" col:"postal_code"`
		State      *string `json:"state" col:"state"`
	} `json:"address" col:"address_,inline"`
	Metadata         map[string]string `json:"metadata" col:"metadata,json"`
	PreferredLocales []string          `json:"preferred_locales" col:"preferred_locales,json"`
	Created          int64             `json:"created" col:"created"`
	Updated          int64             `json:"updated" col:"updated"`
	Deleted          bool              `json:"deleted" col:"-"`
}

var customers = schema.MustStruct[Customer]("customer", "id")

// Connector returns the customers connector: the list endpoint declared
// (starting_after the id of the last customer, has_more), read newest
// first down to the mark of the last complete pass.
func Connector(client *rest.Client, baseURL string) (*connector.Connector, error) {
	src, err := rest.NewSource[Customer](rest.Endpoint{
		Client:   client,
		BaseURL:  baseURL,
		Path:     "/v1/customers",
		Records:  "data",
		HasMore:  "has_more",
		Paging:   rest.KeysetPaging{Param: "starting_after", Field: "id"},
		PageSize: 100,
	})
	if err != nil {
		return nil, err
	}
	stream := connector.Incremental[Customer]{
		Order: connector.NewestFirst,
		// Ask only for what changed at or after the mark; the pass ends
		// there anyway, the filter saves reading what lies beyond.
		Pages: func(w connector.Window) *paginate.Paginator[Customer] {
			q := url.Values{}
			if !w.After.IsZero() {
				q.Set("updated[gte]", strconv.FormatInt(w.After.Cursor.Int(), 10))
			}
			return src.With(q).Paginator()
		},
		Key: func(c Customer) state.Mark {
			return state.Mark{Cursor: state.Int(c.Updated), ID: state.String(c.ID)}
		},
		Check: func(c Customer) error {
			if c.ID == "" || c.Updated == 0 {
				return errors.New("customer without id or updated")
			}
			return nil
		},
		Emit: func(ctx context.Context, w *connector.Writer, c Customer) error {
			if c.Deleted {
				return w.Delete(ctx, "customer", schema.Row{"id": c.ID})
			}
			return w.Upsert(ctx, "customer", customers.Row(&c))
		},
	}
	return &connector.Connector{Name: "stripe", Tables: []connector.Table{{Table: customers.Table(), Stream: stream}}}, nil
}
