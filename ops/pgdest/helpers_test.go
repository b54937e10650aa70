package pgdest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(trialChild())
	}
	code := pgtest.Main(m)
	if code == 0 {
		// No goroutine outlives its call: pgx's, the retries', the
		// tests'.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

var quiet = slog.New(slog.DiscardHandler)

// clock returns a Now function that starts at t0 and moves one second
// per call, so that two destinations given the same writes write the
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

// labels is a child table of items: its key starts with the parent's.
var labels = schema.Table{
	Name:       "labels",
	PrimaryKey: []string{"item", "label"},
	Columns: []schema.Column{
		{Name: "item", Type: schema.Long},
		{Name: "label", Type: schema.String},
		{Name: "color", Type: schema.String},
	},
}

func item(id int64, name string, qty int64) schema.Row {
	return schema.Row{"id": id, "name": name, "qty": qty}
}

// open opens a DB on a new schema, closed at the end of the test, and
// returns it with the database's DSN; opts.Schema is set to the new
// schema, so that reopen(t, dsn, opts) opens the same.
func open(t testing.TB, opts *pgdest.Options) (*pgdest.DB, string) {
	t.Helper()
	dsn, name := pgtest.Schema(t)
	opts.Schema = name
	return reopen(t, dsn, *opts), dsn
}

// reopen opens a DB on dsn, closed at the end of the test.
func reopen(t testing.TB, dsn string, opts pgdest.Options) *pgdest.DB {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	db, err := pgdest.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// op is one operation of a sequence, before normalization.
type op struct {
	kind  ops.Kind // 0: a checkpoint
	table string
	row   schema.Row
	st    *state.State // for a checkpoint
}

var compiled = map[string]*schema.Compiled{}

func compile(t schema.Table) *schema.Compiled {
	if c := compiled[t.Name]; c != nil {
		return c
	}
	c, err := t.Compile()
	if err != nil {
		panic(err)
	}
	compiled[t.Name] = c
	return c
}

func init() {
	for _, t := range []schema.Table{wide, items, labels} {
		compile(t)
	}
}

// normalize returns the Op of o, with rows of its own.
func normalize(t testing.TB, o op) ops.Op {
	t.Helper()
	row := schema.Row{}
	for k, v := range o.row {
		row[k] = v
	}
	out, err := o.kind.Normalize(compiled[o.table], row)
	if err != nil {
		t.Fatalf("%v %v: %v", o.kind, o.row, err)
	}
	return out
}

// apply writes seq to d, in batches of up to batch operations (0: each
// run between checkpoints in one batch), checkpointing at the
// checkpoints.
func apply(t testing.TB, d ops.Destination, seq []op, batch int) {
	t.Helper()
	ctx := context.Background()
	var pending []ops.Op
	write := func() {
		if len(pending) > 0 {
			if err := d.Write(ctx, pending); err != nil {
				t.Fatalf("Write: %v", err)
			}
			pending = pending[:0]
		}
	}
	for _, o := range seq {
		if o.kind == 0 {
			write()
			if err := d.Checkpoint(ctx, o.st); err != nil {
				t.Fatalf("Checkpoint: %v", err)
			}
			continue
		}
		pending = append(pending, normalize(t, o))
		if batch > 0 && len(pending) >= batch {
			write()
		}
	}
	write()
}

// mark returns a state whose table has a mark naming n.
func mark(table string, n int) *state.State {
	st := state.New()
	st.Table(table).Mark = state.Mark{Cursor: state.Time(t0.Add(time.Duration(n) * time.Second)), ID: state.Int(int64(n))}
	return st
}

// pgConn returns a connection to dsn, closed at the end of the test.
func pgConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func live(t testing.TB, db *pgdest.DB, table string) map[string]schema.Row {
	t.Helper()
	got, err := db.Live(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func rows(t testing.TB, db *pgdest.DB, table string) []schema.Row {
	t.Helper()
	got, err := db.Rows(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func load(t testing.TB, db *pgdest.DB) *state.State {
	t.Helper()
	st, err := db.LoadState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// rowsDiff returns the difference of db's rows of table, deleted ones
// and system columns included, from m's.
func rowsDiff(m *ops.Memory, db *pgdest.DB, table string) string {
	got, err := db.Rows(context.Background(), table)
	if err != nil {
		return err.Error()
	}
	return cmp.Diff(m.Rows(table), got)
}

// sameRows fails the test unless db's rows of table, deleted ones and
// system columns included, equal m's.
func sameRows(t testing.TB, m *ops.Memory, db *pgdest.DB, table string) {
	t.Helper()
	if diff := cmp.Diff(m.Rows(table), rows(t, db, table)); diff != "" {
		t.Fatalf("Rows(%q) mismatch (-memory +pgdest):\n%s", table, diff)
	}
}

// float32Value returns the canonical FLOAT value of x: the float64
// nearest its shortest decimal form, as schema reads a float32.
func float32Value(x float32) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	return f
}

// randomValue returns a canonical value of type typ that Postgres holds
// exactly (times to the microsecond), nil sometimes.
func randomValue(r *rand.Rand, typ schema.Type, nullable bool) any {
	if nullable && r.IntN(8) == 0 {
		return nil
	}
	switch typ {
	case schema.String:
		return []string{"", "a", "é😀", "x y", "quote\"d", "back\\slash"}[r.IntN(6)]
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
		return float32Value(float32(r.NormFloat64() * 1e6))
	case schema.Double:
		return r.NormFloat64() * 1e100
	case schema.Decimal:
		return []string{"0", "-1.50", "12345678901234567890.0001", "0.00000001", fmt.Sprintf("%d.%03d", r.IntN(2000000)-1000000, r.IntN(1000))}[r.IntN(5)]
	case schema.NaiveDate:
		return t0.AddDate(0, 0, r.IntN(100000)-50000).Truncate(24 * time.Hour)
	case schema.NaiveDateTime, schema.UTCDateTime:
		return t0.Add(time.Duration(r.Int64N(int64(1e6*time.Hour)) - int64(5e5*time.Hour))).Truncate(time.Microsecond)
	case schema.Binary:
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = byte(r.IntN(3))
		}
		return b
	case schema.JSON:
		return json.RawMessage(fmt.Sprintf(`{"a":[true,null],"n":%d}`, r.IntN(100)))
	}
	panic(fmt.Sprint("no random value for ", typ))
}

// randomKey returns a key of wide from a small pool, so that operations
// meet the same rows.
func randomKey(r *rand.Rand) schema.Row {
	return schema.Row{
		"tenant": []string{"a", "b"}[r.IntN(2)],
		"id":     int64(r.IntN(4)),
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

// randomOps returns n random operations on wide, with deletes of
// children of both parent key lengths.
func randomOps(r *rand.Rand, n int) []op {
	out := make([]op, 0, n)
	for i := range n {
		switch p := r.IntN(100); {
		case p < 38:
			out = append(out, op{kind: ops.OpUpsert, table: "wide", row: randomRow(r, false)})
		case p < 60:
			out = append(out, op{kind: ops.OpUpdate, table: "wide", row: randomRow(r, true)})
		case p < 75:
			out = append(out, op{kind: ops.OpDelete, table: "wide", row: randomKey(r)})
		case p < 78:
			out = append(out, op{kind: ops.OpTruncate, table: "wide"})
		case p < 86:
			k := randomKey(r)
			parent := schema.Row{"tenant": k["tenant"]}
			if r.IntN(2) == 0 {
				parent["id"] = k["id"]
			}
			out = append(out, op{kind: ops.OpDeleteChildren, table: "wide", row: parent})
		default:
			out = append(out, op{st: mark("wide", i)})
		}
	}
	return out
}
