package opstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// T0 is the time the fixtures start from: the first time of a [Clock],
// and the base of the times in fixture rows and states.
var T0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// Clock returns a Now function that starts at T0 and moves one second
// per call, safe for concurrent use: two destinations given the same
// Writes, each reading its own Clock once per Write, write the same
// SyncedColumn values.
func Clock() func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return At(n)
	}
}

// At returns the time of the i-th call (from 1) of a [Clock].
func At(i int) time.Time { return T0.Add(time.Duration(i-1) * time.Second) }

// Users is the table of examples/users, which the benchmarks load: a
// UUID text key, five more strings and two times.
var Users = schema.Table{
	Name:       "user",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.String},
		{Name: "name", Type: schema.String},
		{Name: "email", Type: schema.String},
		{Name: "address", Type: schema.String},
		{Name: "company", Type: schema.String},
		{Name: "job", Type: schema.String},
		{Name: "updatedAt", Type: schema.UTCDateTime},
		{Name: "createdAt", Type: schema.UTCDateTime},
	},
}

// Items is a small table: id LONG (the key), name STRING, qty LONG.
var Items = schema.Table{
	Name:       "items",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.Long},
		{Name: "name", Type: schema.String},
		{Name: "qty", Type: schema.Long},
	},
}

// Item returns a row of [Items].
func Item(id int64, name string, qty int64) schema.Row {
	return schema.Row{"id": id, "name": name, "qty": qty}
}

// Orders has a composite key of two types: tenant STRING and id LONG.
var Orders = schema.Table{
	Name:       "orders",
	PrimaryKey: []string{"tenant", "id"},
	Columns: []schema.Column{
		{Name: "tenant", Type: schema.String},
		{Name: "id", Type: schema.Long},
		{Name: "total", Type: schema.Decimal},
	},
}

// Order returns a row of [Orders].
func Order(tenant string, id int64, total string) schema.Row {
	return schema.Row{"tenant": tenant, "id": id, "total": total}
}

// Labels is a child table: the labels of an issue, keyed by (issue_id,
// label), whose parents are keyed by issue_id, as a connector fills it
// from the labels array of each issue and replaces them per issue
// ([ops.OpDeleteChildren] with parent key {"issue_id": n}).
var Labels = schema.Table{
	Name:       "issue_labels",
	PrimaryKey: []string{"issue_id", "label"},
	Columns: []schema.Column{
		{Name: "issue_id", Type: schema.Long},
		{Name: "label", Type: schema.String},
		{Name: "color", Type: schema.String},
	},
}

// Label returns a row of [Labels].
func Label(issue int64, label, color string) schema.Row {
	return schema.Row{"issue_id": issue, "label": label, "color": color}
}

// Types has a column of each of the 14 types, named after it in lower
// case ("utc_datetime"), and a LONG key "id".
var Types = func() schema.Table {
	t := schema.Table{Name: "types", PrimaryKey: []string{"id"}}
	t.Columns = append(t.Columns, schema.Column{Name: "id", Type: schema.Long})
	for _, typ := range schema.Types() {
		t.Columns = append(t.Columns, schema.Column{Name: strings.ToLower(typ.String()), Type: typ})
	}
	return t
}()

// TypesRow returns a full row of [Types] with realistic values varied by
// i, each of its column's canonical Go type.
func TypesRow(i int) schema.Row {
	row := schema.Row{"id": int64(i)}
	for _, typ := range schema.Types() {
		row[strings.ToLower(typ.String())] = Value(typ, i)
	}
	return row
}

// Wide has a composite key of three types (tenant STRING, id LONG, day
// NAIVE_DATE) and a column of every type: the table of the random
// sequences ([RandomSteps]).
var Wide = schema.Table{
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

// Value returns a realistic canonical value of type typ, varied by i:
// text with quotes, markup, escapes and non-ASCII letters, numbers of
// both signs, times with nanoseconds, bytes including 0 and 0xff, JSON
// objects with nested arrays.
func Value(typ schema.Type, i int) any {
	switch typ {
	case schema.String:
		return fmt.Sprintf("user \"%d\" <b>&\n\t\u2028é😀", i)
	case schema.Boolean:
		return i%2 == 0
	case schema.Short:
		return int64(-32768 + i)
	case schema.Int:
		return int64(math.MaxInt32 - i)
	case schema.Long:
		return int64(i) * 1_000_000_007
	case schema.Float:
		return []float64{0.1, -2.5, 3.4028234663852886e38, 1e-45, 16777216, 0}[i%6]
	case schema.Double:
		return []float64{1e21, 1e-7, -0.5, math.MaxFloat64, 5e-324, 123456789.125}[i%6]
	case schema.Decimal:
		return fmt.Sprintf("%d.50", i)
	case schema.NaiveDate:
		return time.Date(1990+i%50, 2, 28, 0, 0, 0, 0, time.UTC)
	case schema.NaiveDateTime:
		return time.Date(2024, 5, 1, 10, 0, i%60, 123456789, time.UTC)
	case schema.UTCDateTime:
		return T0.Add(time.Duration(i)*time.Hour + time.Duration(i)*time.Nanosecond)
	case schema.Binary:
		return []byte{0, byte(i), 0xff, '\n'}
	case schema.JSON:
		return json.RawMessage(fmt.Sprintf(`{"tags":["a","b"],"n":%d,"html":"<&>","nested":{"x":[1,2.5,null,true]}}`, i))
	case schema.XML:
		return fmt.Sprintf(`<bio n="%d">x &amp; y</bio>`, i)
	}
	panic(fmt.Sprint("opstest: no value for type ", typ))
}

// EdgeValues returns the values of type typ at the edges of what the
// type holds, each canonical: empty and long text, NUL and other control
// characters, the limits of each integer type, float extremes and -0,
// decimals beyond 64 bits, the first and last dates, times at
// nanosecond precision, empty bytes (which are not NULL), deep and odd
// JSON. NULL itself is not in the list.
func EdgeValues(typ schema.Type) []any {
	switch typ {
	case schema.String, schema.XML:
		v := []any{"", " ", "a", "é😀ü中文", "quote\"back\\slash", "\n\r\t", "\x01\x1f\x7f", "\u2028\u2029", "\ufeffbom", strings.Repeat("long ", 2000)}
		if typ == schema.XML {
			v = append(v, `<?xml version="1.0"?><a b="c">&lt;d&gt;</a>`)
		}
		return v
	case schema.Boolean:
		return []any{true, false}
	case schema.Short:
		return []any{int64(math.MinInt16), int64(-1), int64(0), int64(1), int64(math.MaxInt16)}
	case schema.Int:
		return []any{int64(math.MinInt32), int64(0), int64(math.MaxInt32)}
	case schema.Long:
		return []any{int64(math.MinInt64), int64(-1), int64(0), int64(1 << 53), int64(1<<53 + 1), int64(math.MaxInt64)}
	case schema.Float:
		return []any{0.0, 0.1, -0.1, 1.5, 3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 1e-45, 16777217 - 1}
	case schema.Double:
		return []any{0.0, math.Copysign(0, -1), 0.1, -1e-7, 1e21, 123456789.125, math.MaxFloat64, -math.MaxFloat64, 5e-324, math.SmallestNonzeroFloat64 * 3, 9007199254740993}
	case schema.Decimal:
		return []any{"0", "-1", "1.50", "0.000000001", "-0.5", "99999999999999999999.99", "123456789012345678901234567890.123456789", "-98765432109876543210"}
	case schema.NaiveDate:
		return []any{
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		}
	case schema.NaiveDateTime, schema.UTCDateTime:
		return []any{
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
			time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 10, 0, 0, 1, time.UTC),
			time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC), time.Date(2024, 5, 1, 10, 0, 0, 500000000, time.UTC),
			time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		}
	case schema.Binary:
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		return []any{[]byte{}, []byte{0}, []byte("\n"), all, bytes.Repeat([]byte{0xff, 0}, 5000)}
	case schema.JSON:
		return []any{
			json.RawMessage(`{}`), json.RawMessage(`[]`), json.RawMessage(`"text"`), json.RawMessage(`0`),
			json.RawMessage(`-1.5e300`), json.RawMessage(`12345678901234567890123`), json.RawMessage(`true`),
			json.RawMessage(`{"a":{"b":{"c":[[[]]]}}}`), json.RawMessage(`{"é😀":"\u0000\n","z":null}`),
			json.RawMessage(strings.Repeat("[", 64) + strings.Repeat("]", 64)),
		}
	}
	panic(fmt.Sprint("opstest: no edge values for type ", typ))
}

// Mark returns a state whose table has a mark naming n: cursor T0 plus n
// seconds, id n.
func Mark(table string, n int) *state.State {
	st := state.New()
	st.Table(table).Mark = state.Mark{Cursor: state.Time(T0.Add(time.Duration(n) * time.Second)), ID: state.Int(int64(n))}
	return st
}

// Step is one call of a sequence sent to a destination: a row operation
// as a connector writes it, by column name, or a checkpoint. [Apply]
// normalizes the rows, as the runner does, before they reach the
// destination.
type Step struct {
	// Kind is the operation; zero for a checkpoint.
	Kind ops.Kind
	// Table is the table of a row operation.
	Table string
	// Row is the row of an upsert or an update (an update changes the
	// columns it holds), the key of a delete, the parent key of a delete
	// of children (leading key columns); nil for a truncate.
	Row schema.Row
	// State is the state a checkpoint records.
	State *state.State

	all bool // an update of every column, Op.Set nil
}

// Upsert returns the Step upserting row into table.
func Upsert(table string, row schema.Row) Step {
	return Step{Kind: ops.OpUpsert, Table: table, Row: row}
}

// Update returns the Step updating the columns of row, which holds the
// key, in table.
func Update(table string, row schema.Row) Step {
	return Step{Kind: ops.OpUpdate, Table: table, Row: row}
}

// UpdateAll returns the Step updating every column of table with row,
// as an update of a struct's [schema.Values] does: Op.Set is nil, and the
// columns row does not hold become NULL.
func UpdateAll(table string, row schema.Row) Step {
	return Step{Kind: ops.OpUpdate, Table: table, Row: row, all: true}
}

// Delete returns the Step deleting the row with key from table.
func Delete(table string, key schema.Row) Step {
	return Step{Kind: ops.OpDelete, Table: table, Row: key}
}

// Truncate returns the Step truncating table.
func Truncate(table string) Step { return Step{Kind: ops.OpTruncate, Table: table} }

// DeleteChildren returns the Step deleting the rows of table whose
// leading key columns are those of parent.
func DeleteChildren(table string, parent schema.Row) Step {
	return Step{Kind: ops.OpDeleteChildren, Table: table, Row: parent}
}

// Checkpoint returns the Step checkpointing st.
func Checkpoint(st *state.State) Step { return Step{State: st} }

// String describes s for failure messages.
func (s Step) String() string {
	if s.Kind == 0 {
		return "checkpoint"
	}
	if s.Row == nil {
		return fmt.Sprintf("%v %s", s.Kind, s.Table)
	}
	return fmt.Sprintf("%v %s %v", s.Kind, s.Table, s.Row)
}

// Apply sends steps to d as the runner does: each run of row operations
// between checkpoints in one Write, each row normalized with
// [ops.Kind.Normalize] against its table in tables (which d must have
// been prepared with), and each checkpoint as a Checkpoint. As the
// runner, it hands every Op's Row over to d and reuses the []Op slice
// once Write returns.
func Apply(ctx context.Context, d ops.Destination, tables []schema.Table, steps ...Step) error {
	s, err := newSender(tables)
	if err != nil {
		return err
	}
	return s.send(ctx, d, steps, 0)
}

// sender sends steps the way Apply does, with a batch size and a hook
// before each Write.
type sender struct {
	tables map[string]*schema.Compiled
	batch  []ops.Op
	// before, if not nil, runs before each Write with the ops it gets.
	before func(ops []ops.Op)
}

func newSender(tables []schema.Table) (*sender, error) {
	s := &sender{tables: make(map[string]*schema.Compiled, len(tables))}
	for i := range tables {
		c, err := tables[i].Compile()
		if err != nil {
			return nil, fmt.Errorf("opstest: %w", err)
		}
		s.tables[c.Name()] = c
	}
	return s, nil
}

// send sends steps to d, at most max operations per Write (0: no
// limit).
func (s *sender) send(ctx context.Context, d ops.Destination, steps []Step, max int) error {
	for i := 0; i < len(steps); {
		if steps[i].Kind == 0 {
			if err := d.Checkpoint(ctx, steps[i].State); err != nil {
				return fmt.Errorf("step %d (checkpoint): %w", i, err)
			}
			i++
			continue
		}
		j := i
		for j < len(steps) && steps[j].Kind != 0 && (max == 0 || j-i < max) {
			j++
		}
		if err := s.write(ctx, d, steps[i:j]); err != nil {
			return fmt.Errorf("steps %d to %d: %w", i, j-1, err)
		}
		i = j
	}
	return nil
}

// write sends steps, row operations, in one Write.
func (s *sender) write(ctx context.Context, d ops.Destination, steps []Step) error {
	s.batch = s.batch[:0]
	for _, st := range steps {
		op, err := s.op(st)
		if err != nil {
			return err
		}
		s.batch = append(s.batch, op)
	}
	if s.before != nil {
		s.before(s.batch)
	}
	err := d.Write(ctx, s.batch)
	// The runner reuses the slice: a destination that kept it sees
	// this.
	for i := range s.batch {
		s.batch[i] = ops.Op{Kind: ops.Kind(0xff), Table: "reused []Op slice"}
	}
	return err
}

// op normalizes st, a row operation.
func (s *sender) op(st Step) (ops.Op, error) {
	t := s.tables[st.Table]
	if t == nil {
		// An operation on a table the destination does not know, as
		// the suite sends to check the error: only the name matters.
		return ops.Op{Kind: st.Kind, Table: st.Table, Row: []any{int64(1)}}, nil
	}
	var row schema.AnyRow
	if st.Row != nil {
		row = cloneRow(st.Row)
	}
	op, err := st.Kind.Normalize(t, row)
	if err != nil {
		return ops.Op{}, fmt.Errorf("opstest: %v: %w", st, err)
	}
	if st.all {
		op.Set = nil
	}
	return op, nil
}

// cloneRow copies row deeply enough that the destinations given the same
// step share no byte slice.
func cloneRow(row schema.Row) schema.Row {
	out := maps.Clone(row)
	for k, v := range out {
		switch x := v.(type) {
		case []byte:
			out[k] = bytes.Clone(x)
		case json.RawMessage:
			out[k] = json.RawMessage(bytes.Clone(x))
		}
	}
	return out
}

// RandomValue returns a random canonical value of type typ, NULL (nil)
// one time in eight when nullable, from a small pool of realistic and
// edge values so that random operations meet equal values.
func RandomValue(r *rand.Rand, typ schema.Type, nullable bool) any {
	if nullable && r.IntN(8) == 0 {
		return nil
	}
	switch r.IntN(3) {
	case 0:
		edge := EdgeValues(typ)
		return edge[r.IntN(len(edge))]
	default:
		return Value(typ, r.IntN(50))
	}
}

// randomKey returns a key of Wide from a small pool, so that operations
// meet the same rows and parents.
func randomKey(r *rand.Rand) schema.Row {
	return schema.Row{
		"tenant": []string{"a", "b", "é"}[r.IntN(3)],
		"id":     int64(r.IntN(6)),
		"day":    T0.AddDate(0, 0, r.IntN(2)).Truncate(24 * time.Hour),
	}
}

// randomRow returns a full row of Wide, or, for an update, some of its
// columns.
func randomRow(r *rand.Rand, partial bool) schema.Row {
	row := randomKey(r)
	for _, c := range Wide.Columns[3:] {
		if partial && r.IntN(3) > 0 {
			continue
		}
		if !partial && r.IntN(10) == 0 {
			continue // absent: NULL
		}
		row[c.Name] = RandomValue(r, c.Type, true)
	}
	return row
}

// RandomSteps returns n random steps on [Wide]: upserts, updates of some
// columns, deletes, truncates, deletes of children (of a tenant, or of a
// tenant and id) followed by upserts of some of them, and checkpoints of
// [Mark] states, drawn from r.
func RandomSteps(r *rand.Rand, n int) []Step {
	out := make([]Step, 0, n)
	for len(out) < n {
		switch p := r.IntN(100); {
		case p < 38:
			out = append(out, Upsert("wide", randomRow(r, false)))
		case p < 60:
			out = append(out, Update("wide", randomRow(r, true)))
		case p < 76:
			out = append(out, Delete("wide", randomKey(r)))
		case p < 78:
			out = append(out, Truncate("wide"))
		case p < 86:
			k := randomKey(r)
			parent := schema.Row{"tenant": k["tenant"]}
			if r.IntN(2) == 0 {
				parent["id"] = k["id"]
			}
			out = append(out, DeleteChildren("wide", parent))
			for range r.IntN(3) {
				row := randomRow(r, false)
				maps.Copy(row, parent)
				out = append(out, Upsert("wide", row))
			}
		default:
			out = append(out, Checkpoint(Mark("wide", len(out))))
		}
	}
	return out[:n]
}

// Stateless hides every method of a destination but those of
// [ops.Destination], such as LoadState: the runner then needs a
// state.Store, as for a destination that cannot keep state.
type Stateless struct{ ops.Destination }

// LoadState returns the state d holds, failing t on an error.
func LoadState(t testing.TB, d ops.StateLoader) *state.State {
	t.Helper()
	st, err := d.LoadState(context.Background())
	if err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	return st
}

// Close closes d if it has a Close method, as files and databases do.
func Close(d ops.Destination) error {
	switch c := d.(type) {
	case interface{ Close() error }:
		return c.Close()
	case interface{ Close() }:
		c.Close()
	}
	return nil
}
