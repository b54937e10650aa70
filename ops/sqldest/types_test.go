package sqldest_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

// TestStorage checks the declared SQL types and the storage classes,
// which other programs reading the file see. (The round trip of every
// value is opstest's.)
func TestStorage(t *testing.T) {
	ctx := context.Background()
	db, path := open(t, sqldest.Options{})
	prepare(t, db, wide)
	apply(t, db, []schema.Table{wide}, opstest.Upsert("wide", schema.Row{
		"tenant": "", "id": int64(0), "day": time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		"s": "text", "b": false, "sh": int64(0), "i": int64(-1), "l": int64(1),
		"f": 0.1, "dbl": -1e-300, "dec": "0", "nd": time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		"ndt": time.Date(2024, 5, 1, 10, 0, 0, 1, time.UTC),
		"utc": time.Date(2024, 5, 1, 10, 0, 0, 1, time.UTC),
		"bin": []byte{0xff, 0, 1}, "js": json.RawMessage(`{"spaced":"kept"}`), "x": "<x/>",
	}), opstest.Checkpoint(mark("wide", 1)))
	db.Close()
	db2 := reopen(t, path, sqldest.Options{})

	// The declared types and the storage classes.
	declared := map[string]string{}
	r, err := db2.SQL().QueryContext(ctx, `SELECT name, type FROM pragma_table_info('wide')`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var name, typ string
		if err := r.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		declared[name] = typ
	}
	r.Close()
	for _, c := range wide.Columns {
		if want := (sqldest.SQLite{}).ColumnType(c.Type); declared[c.Name] != want || !strings.HasPrefix(want, c.Type.String()+" ") {
			t.Errorf("column %q declared as %q, want %q starting with %v", c.Name, declared[c.Name], want, c.Type)
		}
	}
	if declared[ops.SyncedColumn] != "UTC_DATETIME TEXT" || declared[ops.DeletedColumn] != "BOOLEAN INTEGER" {
		t.Errorf("system columns declared as %q and %q", declared[ops.SyncedColumn], declared[ops.DeletedColumn])
	}
	var classes, utcText, ndtText string
	var julian float64
	err = db2.SQL().QueryRowContext(ctx, `SELECT typeof(s)||typeof(b)||typeof(sh)||typeof(l)||typeof(f)||typeof(dbl)||typeof(dec)||typeof(nd)||typeof(utc)||typeof(bin)||typeof(js)||typeof(_connector_deleted),
		utc, ndt, julianday(utc) FROM wide WHERE tenant = ''`).Scan(&classes, &utcText, &ndtText, &julian)
	if err != nil {
		t.Fatal(err)
	}
	if want := "textintegerintegerintegerrealrealtexttexttextblobtextinteger"; classes != want {
		t.Errorf("storage classes %s, want %s", classes, want)
	}
	if utcText != "2024-05-01T10:00:00.000000001Z" || ndtText != "2024-05-01T10:00:00.000000001" {
		t.Errorf("time texts %q and %q", utcText, ndtText)
	}
	if math.Abs(julian-2460431.916666667) > 1e-6 {
		t.Errorf("julianday(utc) = %v: SQLite cannot read the time text", julian)
	}
}

func TestEncodeErrors(t *testing.T) {
	ctx := context.Background()
	d := sqldest.SQLite{}
	for _, tc := range []struct {
		typ schema.Type
		v   any
	}{
		{schema.String, 1}, {schema.Boolean, "true"}, {schema.Long, 1.5}, {schema.Double, int64(1)},
		{schema.UTCDateTime, "2024-01-01"}, {schema.UTCDateTime, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{schema.NaiveDate, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}, {schema.Binary, "x"}, {schema.JSON, 1},
	} {
		if _, err := d.Encode(tc.typ, tc.v); !errors.Is(err, schema.ErrWrongType) {
			t.Errorf("Encode(%v, %#v) = %v, want ErrWrongType", tc.typ, tc.v, err)
		}
	}
	if _, err := d.Encode(schema.Type(99), "x"); err == nil {
		t.Error("Encode of an invalid type succeeded")
	}
	for _, tc := range []struct {
		typ schema.Type
		v   any
	}{
		{schema.Boolean, int64(2)}, {schema.Short, int64(40000)}, {schema.Int, int64(math.MaxInt64)},
		{schema.Float, 1e300}, {schema.JSON, "{"}, {schema.UTCDateTime, "yesterday"}, {schema.Long, "1"},
	} {
		if _, err := d.Decode(tc.typ, tc.v); err == nil {
			t.Errorf("Decode(%v, %#v) succeeded", tc.typ, tc.v)
		}
	}
	// A time the text form cannot hold fails the operation, not the
	// transaction.
	db, _ := open(t, sqldest.Options{})
	prepare(t, db, wide)
	far := schema.Row{"tenant": "a", "id": int64(1), "day": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := opstest.Apply(ctx, db, []schema.Table{wide}, opstest.Upsert("wide", far)); !errors.Is(err, schema.ErrWrongType) || !strings.Contains(err.Error(), `upsert into "wide"`) {
		t.Errorf("Upsert of year 10000 = %v, want ErrWrongType", err)
	}
	apply(t, db, []schema.Table{wide},
		opstest.Upsert("wide", schema.Row{"tenant": "a", "id": int64(1), "day": t0}),
		opstest.Checkpoint(mark("wide", 1)),
	)
	if n := len(live(t, db, "wide")); n != 1 {
		t.Errorf("rows = %d, want 1", n)
	}
}
