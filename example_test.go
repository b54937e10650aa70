package connector_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
	slices.SortFunc(match, func(x, y Person) int { return personKey(x).Compare(personKey(y)) })
	src := paginate.SourceFunc[Person](func(_ context.Context, c paginate.Cursor) (paginate.Page[Person], error) {
		start := min(int(c.Offset), len(match))
		end := min(start+c.Limit, len(match))
		return paginate.Page[Person]{Items: match[start:end], Total: int64(len(match))}, nil
	})
	return paginate.New(src, paginate.Offset(2))
}

func personKey(p Person) state.Mark {
	return state.Mark{Cursor: state.Time(p.UpdatedAt), ID: state.String(p.ID)}
}

func upsertPerson(ctx context.Context, w *connector.Writer, p Person) error {
	return w.Upsert(ctx, "person", people.Row(&p))
}

func day(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }

var quietOptions = connector.Options{Logger: slog.New(slog.DiscardHandler), Progress: -1}

// A connector with one table synced incrementally: the second run reads
// only the row that changed.
func Example() {
	api := &peopleAPI{rows: []Person{
		{"p1", "Ada", day(1)}, {"p2", "Grace", day(1)}, {"p3", "Alan", day(2)}, {"p4", "Edsger", day(3)},
	}}
	c := &connector.Connector{Name: "people", Tables: []connector.Table{{
		Table:  people.Table(),
		Stream: connector.Incremental[Person]{Pages: api.pages, Key: personKey, Emit: upsertPerson},
	}}}
	dest := ops.NewMemory() // also keeps the state between runs

	sum, err := c.Run(context.Background(), dest, quietOptions)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	ts, _ := sum.Table("person")
	fmt.Println("first run upserts:", ts.Upserts, "pages:", ts.Pages)

	api.rows[1] = Person{"p2", "Grace Hopper", day(4)} // changes at the source
	sum, _ = c.Run(context.Background(), dest, quietOptions)
	ts, _ = sum.Table("person")
	fmt.Println("second run upserts:", ts.Upserts)
	fmt.Println("p2 is now:", dest.Live("person")["p2"]["name"])

	st, _ := dest.LoadState(context.Background())
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

// FullRefresh syncs a table that cannot be read by update time: it
// resumes from the last checkpointed page after a crash and starts over
// once it has reached the end. With Truncate, rows gone from the source
// end up deleted.
func ExampleFullRefresh() {
	colors := schema.Table{Name: "color", PrimaryKey: []string{"name"}, Columns: []schema.Column{{Name: "name", Type: schema.String}}}
	all := []string{"red", "green", "blue"}
	src := paginate.SourceFunc[string](func(_ context.Context, c paginate.Cursor) (paginate.Page[string], error) {
		start := min(int(c.Offset), len(all))
		end := min(start+c.Limit, len(all))
		return paginate.Page[string]{Items: all[start:end], HasMore: paginate.FlagOf(end < len(all))}, nil
	})
	c := &connector.Connector{Tables: []connector.Table{{Table: colors, Stream: connector.FullRefresh[string]{
		Pages: func(connector.Window) *paginate.Paginator[string] { return paginate.New(src, paginate.Offset(2)) },
		Emit: func(ctx context.Context, w *connector.Writer, name string) error {
			return w.Upsert(ctx, "color", schema.Row{"name": name})
		},
		Truncate: true,
	}}}}
	dest := ops.NewMemory()
	sum, err := c.Run(context.Background(), dest, quietOptions)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	ts, _ := sum.Table("color")
	fmt.Println(len(dest.Live("color")), "colors in", ts.Pages, "pages,", sum.Checkpoints, "checkpoints")

	all = []string{"red", "blue"} // green is gone
	if _, err := c.Run(context.Background(), dest, quietOptions); err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(len(dest.Live("color")), "live colors after green was removed")
	// Output:
	// 3 colors in 2 pages, 1 checkpoints
	// 2 live colors after green was removed
}

// A hand-written stream: read anything, write any table, commit the
// state at each page boundary.
func ExampleStreamFunc() {
	counters := schema.Table{Name: "counter", PrimaryKey: []string{"name"}, Columns: []schema.Column{
		{Name: "name", Type: schema.String}, {Name: "value", Type: schema.Long},
	}}
	stream := connector.StreamFunc(func(ctx context.Context, w *connector.Writer) error {
		st := w.State()
		runs, _ := w.Config().Int("start", 0)
		if v, ok := st.Values["runs"]; ok {
			fmt.Sscan(v, &runs)
		}
		runs++
		if err := w.Upsert(ctx, "counter", schema.Row{"name": "runs", "value": runs}); err != nil {
			return err
		}
		st.Values = map[string]string{"runs": fmt.Sprint(runs)}
		return w.Commit(ctx, st)
	})
	c := &connector.Connector{Tables: []connector.Table{{Table: counters, Stream: stream}}}
	dest := ops.NewMemory()
	for range 3 {
		if _, err := c.Run(context.Background(), dest, quietOptions); err != nil {
			fmt.Println("error:", err)
			return
		}
	}
	fmt.Println("runs:", dest.Live("counter")["runs"]["value"])
	// Output: runs: 3
}

// Issue is a record with nested labels, as a GitHub-like API returns it.
type Issue struct {
	ID      int64
	Updated time.Time
	Labels  []string
}

// One stream fills a parent table and a child table: ReplaceChildren
// makes the labels of an issue exactly those of its latest version, so a
// label removed at the source is marked deleted.
func ExampleWriter_ReplaceChildren() {
	issues := schema.Table{Name: "issue", PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", Type: schema.Long}, {Name: "updated", Type: schema.UTCDateTime},
	}}
	labels := schema.Table{Name: "issue_label", PrimaryKey: []string{"issue_id", "name"}, Columns: []schema.Column{
		{Name: "issue_id", Type: schema.Long}, {Name: "name", Type: schema.String},
	}}
	source := []Issue{{ID: 1, Updated: day(1), Labels: []string{"bug", "p1"}}, {ID: 2, Updated: day(2), Labels: []string{"docs"}}}
	c := &connector.Connector{Tables: []connector.Table{
		{Table: issues, Stream: connector.Incremental[Issue]{
			Pages: func(w connector.Window) *paginate.Paginator[Issue] {
				var match []Issue
				for _, is := range source {
					if w.Contains(is.Updated) {
						match = append(match, is)
					}
				}
				slices.SortFunc(match, func(a, b Issue) int { return a.Updated.Compare(b.Updated) })
				return paginate.New(paginate.SourceFunc[Issue](func(context.Context, paginate.Cursor) (paginate.Page[Issue], error) {
					return paginate.Page[Issue]{Items: match, HasMore: paginate.No}, nil
				}), paginate.Offset(100))
			},
			Key: func(is Issue) state.Mark { return state.Mark{Cursor: state.Time(is.Updated), ID: state.Int(is.ID)} },
			Emit: func(ctx context.Context, w *connector.Writer, is Issue) error {
				if err := w.Upsert(ctx, "issue", schema.Row{"id": is.ID, "updated": is.Updated}); err != nil {
					return err
				}
				var rows []schema.AnyRow
				for _, l := range is.Labels {
					rows = append(rows, schema.Row{"name": l})
				}
				return w.ReplaceChildren(ctx, "issue_label", schema.Row{"issue_id": is.ID}, rows...)
			},
		}},
		{Table: labels}, // written by the issue stream
	}}
	dest := ops.NewMemory()
	show := func() {
		var names []string
		for _, row := range dest.Live("issue_label") {
			names = append(names, fmt.Sprint(row["issue_id"], ":", row["name"]))
		}
		slices.Sort(names)
		fmt.Println(names)
	}
	if _, err := c.Run(context.Background(), dest, quietOptions); err != nil {
		fmt.Println("error:", err)
		return
	}
	show()
	source[0] = Issue{ID: 1, Updated: day(3), Labels: []string{"p1", "wontfix"}} // bug removed
	if _, err := c.Run(context.Background(), dest, quietOptions); err != nil {
		fmt.Println("error:", err)
		return
	}
	show()
	// Output:
	// [1:bug 1:p1 2:docs]
	// [1:p1 1:wontfix 2:docs]
}

// Charge is a record of a Stripe-like API: listed newest first.
type Charge struct {
	ID      int64
	Created int64 // unix seconds
}

// A newest-first source: each pass reads from the newest row down to the
// mark, and the mark moves to the pass's newest row once it completes.
func ExampleIncremental_newestFirst() {
	charges := schema.Table{Name: "charge", PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", Type: schema.Long}, {Name: "created", Type: schema.Long},
	}}
	source := []Charge{{1000000001, 300}, {999999999, 200}, {42, 100}} // newest first
	c := &connector.Connector{Tables: []connector.Table{{Table: charges, Stream: connector.Incremental[Charge]{
		Order: connector.NewestFirst,
		Pages: func(connector.Window) *paginate.Paginator[Charge] {
			return paginate.New(paginate.SourceFunc[Charge](func(_ context.Context, c paginate.Cursor) (paginate.Page[Charge], error) {
				start := min(int(c.Offset), len(source))
				end := min(start+c.Limit, len(source))
				return paginate.Page[Charge]{Items: source[start:end], HasMore: paginate.FlagOf(end < len(source))}, nil
			}), paginate.Offset(2))
		},
		Key: func(ch Charge) state.Mark { return state.Mark{Cursor: state.Int(ch.Created), ID: state.Int(ch.ID)} },
		Emit: func(ctx context.Context, w *connector.Writer, ch Charge) error {
			fmt.Println("write", ch.ID)
			return w.Upsert(ctx, "charge", schema.Row{"id": ch.ID, "created": ch.Created})
		},
	}}}}
	dest := ops.NewMemory()
	if _, err := c.Run(context.Background(), dest, quietOptions); err != nil {
		fmt.Println("error:", err)
		return
	}
	source = append([]Charge{{7, 400}}, source...) // a new charge, on top
	if _, err := c.Run(context.Background(), dest, quietOptions); err != nil {
		fmt.Println("error:", err)
		return
	}
	st, _ := dest.LoadState(context.Background())
	fmt.Println("mark:", st.Tables["charge"].Mark)
	// Output:
	// write 1000000001
	// write 999999999
	// write 42
	// write 7
	// mark: 400 id=7
}

// Priority-first: the recent week lands first, then history fills
// backwards one window per sync.
func ExamplePriorityFirst() {
	var rows []Person
	for d := 1; d <= 28; d++ {
		rows = append(rows, Person{fmt.Sprintf("p%02d", d), "someone", day(d)})
	}
	api := &peopleAPI{rows: rows}
	c := &connector.Connector{Tables: []connector.Table{{Table: people.Table(), Stream: connector.Incremental[Person]{
		Pages: api.pages, Key: personKey, Emit: upsertPerson,
		PriorityFirst: connector.PriorityFirst{Recent: 7 * 24 * time.Hour, Window: 7 * 24 * time.Hour, MaxWindows: 1},
	}}}}
	dest := ops.NewMemory()
	o := quietOptions
	o.Now = func() time.Time { return day(29) }
	for sync := 1; sync <= 4; sync++ {
		if _, err := c.Run(context.Background(), dest, o); err != nil {
			fmt.Println("error:", err)
			return
		}
		st, _ := dest.LoadState(context.Background())
		h := st.Tables["person"].History
		fmt.Printf("sync %d: %d rows, history until %s, done %v\n", sync, len(dest.Live("person")), h.Until.Format("Jan 2"), h.Done)
	}
	// Output:
	// sync 1: 14 rows, history until Jan 15, done false
	// sync 2: 21 rows, history until Jan 8, done false
	// sync 3: 28 rows, history until Jan 1, done false
	// sync 4: 28 rows, history until Dec 25, done true
}

// Lookback re-reads the rows just before the mark on every pass, for a
// source whose timestamps arrive late.
func ExampleIncremental_lookback() {
	api := &peopleAPI{rows: []Person{{"p1", "Ada", day(1)}, {"p2", "Grace", day(2)}, {"p3", "Alan", day(3)}}}
	reads := 0
	c := &connector.Connector{Tables: []connector.Table{{Table: people.Table(), Stream: connector.Incremental[Person]{
		Pages: api.pages, Key: personKey,
		Emit: func(ctx context.Context, w *connector.Writer, p Person) error {
			reads++
			return upsertPerson(ctx, w, p)
		},
		Lookback: 36 * time.Hour,
	}}}}
	dest := ops.NewMemory()
	for range 2 {
		reads = 0
		if _, err := c.Run(context.Background(), dest, quietOptions); err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println("rows read:", reads)
	}
	// Output:
	// rows read: 3
	// rows read: 2
}

// A checkpoint policy trades checkpoint cost for replay after a crash:
// every page, every 4 records (2 pages of 2 rows), or, by default, once a
// second, which for this fast sync is at its end only.
func ExampleCheckpointPolicy() {
	var rows []Person
	for d := 1; d <= 8; d++ {
		rows = append(rows, Person{fmt.Sprintf("p%d", d), "someone", day(d)})
	}
	api := &peopleAPI{rows: rows}
	c := &connector.Connector{Tables: []connector.Table{{Table: people.Table(), Stream: connector.Incremental[Person]{
		Pages: api.pages, Key: personKey, Emit: upsertPerson,
	}}}}
	for _, policy := range []connector.CheckpointPolicy{{EveryRecords: 1}, {EveryRecords: 4}, {}} {
		o := quietOptions
		o.Checkpoint = policy
		sum, err := c.Run(context.Background(), ops.NewMemory(), o)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%+v: %d checkpoints\n", policy, sum.Checkpoints)
	}
	// Output:
	// {EveryRecords:1 Every:0s}: 4 checkpoints
	// {EveryRecords:4 Every:0s}: 2 checkpoints
	// {EveryRecords:0 Every:0s}: 1 checkpoints
}
