package sqldest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

var quiet = slog.New(slog.DiscardHandler)

// clock returns a Now function that starts at t0 and moves one second
// per call, so that two destinations given the same operations write the
// same synced times.
func clock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)-1) * time.Second) }
}

// wide has a composite key and a column of every type.
var wide = schema.Table{
	Name:       "wide",
	PrimaryKey: []string{"tenant", "id", "day"},
	Columns: []schema.Column{
		{Name: "tenant", Type: schema.String},
		{Name: "id", Type: schema.Long},
		{Name: "day", Type: schema.NaiveDate},
		{Name: "s", Type: schema.String},
		{Name: "b", Type: schema.Boolean},
		{Name: "sh", Type: schema.Short},
		{Name: "i", Type: schema.Int},
		{Name: "l", Type: schema.Long},
		{Name: "f", Type: schema.Float},
		{Name: "dbl", Type: schema.Double},
		{Name: "dec", Type: schema.Decimal},
		{Name: "nd", Type: schema.NaiveDate},
		{Name: "ndt", Type: schema.NaiveDateTime},
		{Name: "utc", Type: schema.UTCDateTime},
		{Name: "bin", Type: schema.Binary},
		{Name: "js", Type: schema.JSON},
		{Name: "x", Type: schema.XML},
	},
}

// items is a small table.
var items = schema.Table{
	Name:       "items",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.Long},
		{Name: "name", Type: schema.String},
		{Name: "qty", Type: schema.Long},
	},
}

func item(id int64, name string, qty int64) schema.Row {
	return schema.Row{"id": id, "name": name, "qty": qty}
}

// open opens a DB in a temporary directory, closed at the end of the
// test, and returns it with its path.
func open(t testing.TB, opts sqldest.Options) (*sqldest.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dest.db")
	return reopen(t, path, opts), path
}

// reopen opens the DB at path, closed at the end of the test.
func reopen(t testing.TB, path string, opts sqldest.Options) *sqldest.DB {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	db, err := sqldest.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// op is one operation of a sequence.
type op struct {
	kind  string // upsert, update, delete, truncate, delete_children, checkpoint
	table string
	row   schema.Row
	st    *state.State // for checkpoint
}

// declared holds the tables each destination was last prepared with, by
// the destination, so that apply normalizes rows as the runner does.
var declared sync.Map // ops.Destination -> map[string]*schema.Compiled

// prepare prepares d with tables and remembers them for apply.
func prepare(ctx context.Context, d ops.Destination, tables []schema.Table) error {
	if err := d.Prepare(ctx, tables); err != nil {
		return err
	}
	m := make(map[string]*schema.Compiled)
	if old, ok := declared.Load(d); ok {
		maps.Copy(m, old.(map[string]*schema.Compiled))
	}
	for i := range tables {
		c, err := tables[i].Compile()
		if err != nil {
			return err
		}
		m[c.Name()] = c
	}
	declared.Store(d, m)
	return nil
}

var kinds = map[string]ops.Kind{
	"upsert": ops.OpUpsert, "update": ops.OpUpdate, "delete": ops.OpDelete,
	"truncate": ops.OpTruncate, "delete_children": ops.OpDeleteChildren,
}

// normalize returns o as the runner hands it to a destination prepared
// with prepare.
func normalize(d ops.Destination, o op) (ops.Op, error) {
	k, ok := kinds[o.kind]
	if !ok {
		return ops.Op{}, fmt.Errorf("unknown op %q", o.kind)
	}
	var c *schema.Compiled
	if m, ok := declared.Load(d); ok {
		c = m.(map[string]*schema.Compiled)[o.table]
	}
	if c == nil {
		// A table the destination does not know: only the name matters.
		return ops.Op{Kind: k, Table: o.table, Row: []any{int64(1)}}, nil
	}
	var row schema.AnyRow
	if o.row != nil {
		row = maps.Clone(o.row)
	}
	return k.Normalize(c, row)
}

// write1 sends o, a row operation, in a Write of its own.
func write1(ctx context.Context, d ops.Destination, o op) error {
	if o.kind == "checkpoint" {
		return d.Checkpoint(ctx, o.st)
	}
	opn, err := normalize(d, o)
	if err != nil {
		return err
	}
	return d.Write(ctx, []ops.Op{opn})
}

// apply runs seq on d: each run of row operations between checkpoints
// in one Write, reusing the []Op slice as the runner does.
func apply(t testing.TB, d ops.Destination, seq []op) {
	t.Helper()
	ctx := context.Background()
	var batch []ops.Op
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := d.Write(ctx, batch); err != nil {
			t.Fatalf("Write of %d ops: %v", len(batch), err)
		}
		for i := range batch {
			batch[i] = ops.Op{Table: "reused"}
		}
		batch = batch[:0]
	}
	for i, o := range seq {
		if o.kind == "checkpoint" {
			flush()
			if err := d.Checkpoint(ctx, o.st); err != nil {
				t.Fatalf("op %d (checkpoint): %v", i, err)
			}
			continue
		}
		opn, err := normalize(d, o)
		if err != nil {
			t.Fatalf("op %d (%s %s %v): %v", i, o.kind, o.table, o.row, err)
		}
		batch = append(batch, opn)
	}
	flush()
}

// mark returns a state whose table has a mark naming n.
func mark(table string, n int) *state.State {
	st := state.New()
	st.Table(table).Mark = state.Mark{Cursor: state.Time(t0.Add(time.Duration(n) * time.Second)), ID: state.Int(int64(n))}
	return st
}

// live returns db.Live(table), failing the test on an error.
func live(t testing.TB, db *sqldest.DB, table string) map[string]schema.Row {
	t.Helper()
	got, err := db.Live(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// rows returns db.Rows(table), failing the test on an error.
func rows(t testing.TB, db *sqldest.DB, table string) []schema.Row {
	t.Helper()
	got, err := db.Rows(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// load returns db.LoadState, failing the test on an error.
func load(t testing.TB, db *sqldest.DB) *state.State {
	t.Helper()
	st, err := db.LoadState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sameLive fails the test unless db's live rows of table equal m's.
func sameLive(t testing.TB, m *ops.Memory, db *sqldest.DB, table string) {
	t.Helper()
	if diff := cmp.Diff(m.Live(table), live(t, db, table)); diff != "" {
		t.Fatalf("Live(%q) mismatch (-memory +sqldest):\n%s", table, diff)
	}
}

// randomValue returns a canonical value of type typ, nil sometimes.
func randomValue(r *rand.Rand, typ schema.Type, nullable bool) any {
	if nullable && r.IntN(8) == 0 {
		return nil
	}
	switch typ {
	case schema.String:
		return []string{"", "a", "é😀", "x y", "quote\"d", "nul\x00"}[r.IntN(6)]
	case schema.XML:
		return fmt.Sprintf("<x n=%q/>", fmt.Sprint(r.IntN(100)))
	case schema.Boolean:
		return r.IntN(2) == 0
	case schema.Short:
		return int64(int16(r.Uint32()))
	case schema.Int:
		return int64(int32(r.Uint32()))
	case schema.Long:
		return int64(r.Uint64())
	case schema.Float:
		return float64(float32(r.NormFloat64() * 1e6))
	case schema.Double:
		return r.NormFloat64() * 1e100
	case schema.Decimal:
		return fmt.Sprintf("%d.%03d", r.IntN(2000000)-1000000, r.IntN(1000))
	case schema.NaiveDate:
		return t0.AddDate(0, 0, r.IntN(1000)-500).Truncate(24 * time.Hour)
	case schema.NaiveDateTime, schema.UTCDateTime:
		return t0.Add(time.Duration(r.Int64N(int64(1000 * time.Hour))))
	case schema.Binary:
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = byte(r.IntN(3))
		}
		return b
	case schema.JSON:
		return json.RawMessage(fmt.Sprintf(`{"n": %d, "a": [true, null]}`, r.IntN(100)))
	}
	panic(fmt.Sprint("no random value for ", typ))
}

// randomKey returns a key of wide from a small pool, so that operations
// meet the same rows.
func randomKey(r *rand.Rand) schema.Row {
	return schema.Row{
		"tenant": []string{"a", "b"}[r.IntN(2)],
		"id":     int64(r.IntN(8)),
		"day":    t0.AddDate(0, 0, r.IntN(2)).Truncate(24 * time.Hour),
	}
}

// randomRow returns a full row of wide, or some of its columns.
func randomRow(r *rand.Rand, partial bool) schema.Row {
	row := randomKey(r)
	for _, c := range wide.Columns[3:] {
		if partial && r.IntN(3) > 0 {
			continue
		}
		if !partial && r.IntN(10) == 0 {
			continue // absent: NULL
		}
		row[c.Name] = randomValue(r, c.Type, true)
	}
	return row
}

// randomOps returns n random operations on wide.
func randomOps(r *rand.Rand, n int) []op {
	out := make([]op, 0, n)
	for i := range n {
		switch p := r.IntN(100); {
		case p < 40:
			out = append(out, op{kind: "upsert", table: "wide", row: randomRow(r, false)})
		case p < 65:
			out = append(out, op{kind: "update", table: "wide", row: randomRow(r, true)})
		case p < 82:
			out = append(out, op{kind: "delete", table: "wide", row: randomKey(r)})
		case p < 84:
			out = append(out, op{kind: "truncate", table: "wide"})
		case p < 87:
			key := schema.Row{"tenant": []string{"a", "b"}[r.IntN(2)]}
			if r.IntN(2) == 0 {
				key["id"] = int64(r.IntN(8))
			}
			out = append(out, op{kind: "delete_children", table: "wide", row: key})
		default:
			out = append(out, op{kind: "checkpoint", st: mark("wide", i)})
		}
	}
	return out
}
