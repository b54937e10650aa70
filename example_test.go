package connector_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// Person is a record of a hypothetical people API.
type Person struct {
	ID        string    `col:"id"`
	Name      string    `col:"name"`
	UpdatedAt time.Time `col:"updated_at"`
}

// people is the destination table, derived from Person.
var people = schema.MustStruct[Person]("person", "id")

// peopleAPI stands in for an HTTP API that lists people updated in a
// window, in (updated_at, id) order, with offset paging.
type peopleAPI struct{ rows []Person }

func (a *peopleAPI) pages(w connector.Window) *paginate.Paginator[Person] {
	var match []Person
	for _, p := range a.rows {
		if w.Contains(p.UpdatedAt) {
			match = append(match, p)
		}
	}
	sort.Slice(match, func(i, j int) bool {
		return match[i].UpdatedAt.Before(match[j].UpdatedAt) ||
			match[i].UpdatedAt.Equal(match[j].UpdatedAt) && match[i].ID < match[j].ID
	})
	src := paginate.SourceFunc[Person](func(_ context.Context, c paginate.Cursor) (paginate.Page[Person], error) {
		start := min(int(c.Offset), len(match))
		end := min(start+c.Limit, len(match))
		return paginate.Page[Person]{Items: match[start:end], Total: int64(len(match))}, nil
	})
	return paginate.New(src, paginate.Offset(2))
}

// A connector with one table synced incrementally: the second run reads
// only the row that changed.
func Example() {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	api := &peopleAPI{rows: []Person{
		{"p1", "Ada", day(1)}, {"p2", "Grace", day(1)}, {"p3", "Alan", day(2)}, {"p4", "Edsger", day(3)},
	}}
	c := &connector.Connector{Name: "people", Tables: []connector.Table{{
		Table: people.Table(),
		Sync: func(ctx context.Context, s *connector.Sync) error {
			return connector.Incremental[Person]{
				Pages: api.pages,
				Key:   func(p Person) state.Mark { return state.Mark{UpdatedAt: p.UpdatedAt, ID: p.ID} },
			}.Sync(ctx, s, func(ctx context.Context, p Person) error {
				return s.Upsert(ctx, people.Row(&p))
			})
		},
	}}}
	dest := ops.NewMemory() // also keeps the state between runs
	opts := connector.Options{Logger: slog.New(slog.DiscardHandler)}

	sum, err := c.Run(context.Background(), dest, opts)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	ts, _ := sum.Table("person")
	fmt.Println("first run upserts:", ts.Upserts, "pages:", ts.Pages)

	api.rows[1] = Person{"p2", "Grace Hopper", day(4)} // changes at the source
	sum, _ = c.Run(context.Background(), dest, opts)
	ts, _ = sum.Table("person")
	fmt.Println("second run upserts:", ts.Upserts)
	fmt.Println("p2 is now:", dest.Live("person")["p2"]["name"])

	st, _ := dest.Load(context.Background())
	fmt.Println("mark:", st.Tables["person"].Mark)
	// Output:
	// first run upserts: 4 pages: 2
	// second run upserts: 1
	// p2 is now: Grace Hopper
	// mark: 2024-01-04T00:00:00Z id="p2"
}

// Configuration values whose keys look secret never reach a log.
func ExampleConfig() {
	cfg := connector.Config{"base_url": "https://api.example.com", "api_key": "sk-live-42"}
	fmt.Println(cfg)
	n, err := cfg.Int("page_size", 100)
	fmt.Println(n, err)
	// Output:
	// map[api_key:REDACTED base_url:https://api.example.com]
	// 100 <nil>
}

// SyncPages is the full-refresh sync of a table that cannot be read by
// update time: it resumes from the last checkpointed page after a crash
// and starts over once it has reached the end.
func ExampleSyncPages() {
	colors := schema.Table{Name: "color", PrimaryKey: []string{"name"}, Columns: []schema.Column{{Name: "name", Type: schema.String}}}
	all := []string{"red", "green", "blue"}
	src := paginate.SourceFunc[string](func(_ context.Context, c paginate.Cursor) (paginate.Page[string], error) {
		start := min(int(c.Offset), len(all))
		end := min(start+c.Limit, len(all))
		return paginate.Page[string]{Items: all[start:end], HasMore: paginate.FlagOf(end < len(all))}, nil
	})
	c := &connector.Connector{Tables: []connector.Table{{Table: colors, Sync: func(ctx context.Context, s *connector.Sync) error {
		return connector.SyncPages(ctx, s, func(start paginate.Cursor) *paginate.Paginator[string] {
			return paginate.New(src, paginate.Offset(2), paginate.StartAt(start))
		}, func(ctx context.Context, name string) error {
			return s.Upsert(ctx, schema.Row{"name": name})
		})
	}}}}
	dest := ops.NewMemory()
	sum, err := c.Run(context.Background(), dest, connector.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	ts, _ := sum.Table("color")
	fmt.Println(len(dest.Live("color")), "colors in", ts.Pages, "pages,", sum.Checkpoints, "checkpoints")
	// Output: 3 colors in 2 pages, 2 checkpoints
}
