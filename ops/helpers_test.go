package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// clock returns a Now function that starts at t0 and moves one second
// per call, safe for concurrent use, so that two destinations given the
// same operations write the same SyncedColumn values.
func clock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)-1) * time.Second) }
}

// at returns the time of the i-th call (from 1) of a clock.
func at(i int) time.Time { return t0.Add(time.Duration(i-1) * time.Second) }

// items is a small table for the semantics of the operations.
var items = schema.Table{
	Name:       "items",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.Long},
		{Name: "name", Type: schema.String},
		{Name: "qty", Type: schema.Long},
	},
}

// users has a column of every type.
var users = schema.Table{
	Name:       "users",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.Long},
		{Name: "name", Type: schema.String},
		{Name: "active", Type: schema.Boolean},
		{Name: "small", Type: schema.Short},
		{Name: "medium", Type: schema.Int},
		{Name: "ratio", Type: schema.Float},
		{Name: "score", Type: schema.Double},
		{Name: "price", Type: schema.Decimal},
		{Name: "born", Type: schema.NaiveDate},
		{Name: "local", Type: schema.NaiveDateTime},
		{Name: "updated", Type: schema.UTCDateTime},
		{Name: "avatar", Type: schema.Binary},
		{Name: "meta", Type: schema.JSON},
		{Name: "bio", Type: schema.XML},
	},
}

// orders has a composite key.
var orders = schema.Table{
	Name:       "orders",
	PrimaryKey: []string{"tenant", "id"},
	Columns: []schema.Column{
		{Name: "tenant", Type: schema.String},
		{Name: "id", Type: schema.Long},
		{Name: "total", Type: schema.Decimal},
	},
}

// user returns a full users row using every type, varied by i.
func user(i int) schema.Row {
	return schema.Row{
		"id":      int64(i),
		"name":    fmt.Sprintf("user \"%d\" <b>&\n\t\u2028é😀", i),
		"active":  i%2 == 0,
		"small":   int64(-32768 + i),
		"medium":  int64(math.MaxInt32 - i),
		"ratio":   0.1 * float64(i),
		"score":   []float64{1e21, 1e-7, -0.5, math.MaxFloat64, 5e-324, 123456789.125}[i%6],
		"price":   fmt.Sprintf("%d.50", i),
		"born":    time.Date(1990+i, 2, 28, 0, 0, 0, 0, time.UTC),
		"local":   time.Date(2024, 5, 1, 10, 0, i, 123456789, time.UTC),
		"updated": t0.Add(time.Duration(i) * time.Nanosecond),
		"avatar":  []byte{0, byte(i), 0xff, '\n'},
		"meta":    json.RawMessage(fmt.Sprintf(`{"tags":["a","b"],"n":%d,"html":"<&>"}`, i)),
		"bio":     "<bio>x</bio>",
	}
}

// op is one operation of a test sequence.
type op struct {
	kind  string // upsert, update, delete, truncate, checkpoint
	table string
	row   schema.Row
}

// run applies ops to d and fails the test on an error.
func run(t testing.TB, d ops.Destination, seq []op) {
	t.Helper()
	ctx := context.Background()
	for i, o := range seq {
		var err error
		switch o.kind {
		case "upsert":
			err = d.Upsert(ctx, o.table, o.row)
		case "update":
			err = d.Update(ctx, o.table, o.row)
		case "delete":
			err = d.Delete(ctx, o.table, o.row)
		case "truncate":
			err = d.Truncate(ctx, o.table)
		case "checkpoint":
			st := state.New()
			st.Table(o.table).Mark = state.Mark{UpdatedAt: t0, ID: fmt.Sprint(i)}
			err = d.Checkpoint(ctx, st)
		default:
			t.Fatalf("unknown op %q", o.kind)
		}
		if err != nil {
			t.Fatalf("op %d (%s %s %v): %v", i, o.kind, o.table, o.row, err)
		}
	}
}
