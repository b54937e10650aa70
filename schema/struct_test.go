package schema

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type Status string

type Base struct {
	ID      int64     `col:"id"`
	Created time.Time `col:"created,naive_date"`
}

type inner struct {
	Note    string
	private int
}

type Rich struct {
	Base
	inner
	Name    string  `json:"name,omitempty"`
	Nick    *string `col:"nick"`
	Age     int16
	Tiny    int8
	Small   uint8
	Mid     uint16
	Big     uint32
	I32     int32
	Int     int
	Huge    uint64              `col:"huge,decimal"`
	Count   *uint               `col:",long"`
	Score   float32             `json:"score"`
	Ratio   float64             `col:"ratio"`
	Price   string              `col:"price,decimal"`
	Day     string              `col:"day,naive_date"`
	Meta    map[string]any      `col:"meta,json"`
	Tags    []string            `col:",json"`
	Point   *struct{ X, Y int } `col:"point,JSON"`
	Raw     json.RawMessage     `json:"raw"`
	Blob    []byte
	Seen    *time.Time
	Flag    bool   `col:"-"`
	Skip    string `json:"-"`
	Kept    string `json:"-" col:"kept"`
	hidden  string
	Status  Status
	Active  *bool
	Dur     time.Duration
	Weight  float64 `col:",float"`
	Ticks   int64   `col:",double"`
	Comment string  `col:",xml"`
	Any     any     `col:"any,json"`
}

var richColumns = []Column{
	{"id", Long}, {"created", NaiveDate}, {"Note", String}, {"name", String}, {"nick", String},
	{"Age", Short}, {"Tiny", Short}, {"Small", Short}, {"Mid", Int}, {"Big", Long}, {"I32", Int},
	{"Int", Long}, {"huge", Decimal}, {"Count", Long}, {"score", Float}, {"ratio", Double},
	{"price", Decimal}, {"day", NaiveDate}, {"meta", JSON}, {"Tags", JSON}, {"point", JSON},
	{"raw", JSON}, {"Blob", Binary}, {"Seen", UTCDateTime}, {"kept", String}, {"Status", String},
	{"Active", Boolean}, {"Dur", Long}, {"Weight", Float}, {"Ticks", Double}, {"Comment", XML},
	{"any", JSON},
}

func TestStructDerivesTable(t *testing.T) {
	c, err := Struct[Rich]("rich", "id")
	if err != nil {
		t.Fatalf("Struct[Rich] = %v", err)
	}
	want := Table{Name: "rich", PrimaryKey: []string{"id"}, Columns: richColumns}
	if diff := cmp.Diff(want, c.Table()); diff != "" {
		t.Errorf("Struct[Rich] table mismatch (-want +got):\n%s", diff)
	}
	if c.Compiled().Name() != "rich" {
		t.Errorf("Compiled().Name() = %q, want rich", c.Compiled().Name())
	}
}

func richValue() Rich {
	nick, yes, count := "bob", true, uint(9)
	seen := time.Date(2024, 5, 6, 7, 8, 9, 10, tokyo)
	return Rich{
		Base:  Base{ID: 42, Created: time.Date(2024, 1, 2, 23, 0, 0, 0, tokyo)},
		inner: inner{Note: "n", private: 1},
		Name:  "Ann", Nick: &nick, Age: -3, Tiny: 4, Small: 250, Mid: 60000, Big: math.MaxUint32,
		I32: math.MinInt32, Int: 1 << 40, Huge: math.MaxUint64, Count: &count, Score: 0.1, Ratio: 2.5,
		Price: "+19.990", Day: "2024-02-29", Meta: map[string]any{"k": []int{1}}, Tags: []string{"a"},
		Point: &struct{ X, Y int }{1, 2}, Raw: json.RawMessage(`{"r":true}`), Blob: []byte{0, 1},
		Seen: &seen, Flag: true, Skip: "s", Kept: "k", hidden: "h", Status: "on", Active: &yes,
		Dur: time.Second, Weight: 1.25, Ticks: 3, Comment: "<c/>", Any: []any{"x", 1.5},
	}
}

// asMap is the map a user would write for v: each column's field value,
// dereferenced, with named types as their underlying types.
func asMap(v Rich) Row {
	deref := func(p any) any {
		switch p := p.(type) {
		case *string:
			if p != nil {
				return *p
			}
		case *uint:
			if p != nil {
				return *p
			}
		case *time.Time:
			if p != nil {
				return *p
			}
		case *bool:
			if p != nil {
				return *p
			}
		case *struct{ X, Y int }:
			if p != nil {
				return *p
			}
		}
		return nil
	}
	var raw, blob any = v.Raw, v.Blob
	if v.Raw == nil {
		raw = nil
	}
	if v.Blob == nil {
		blob = nil
	}
	return Row{
		"id": v.ID, "created": v.Created, "Note": v.Note, "name": v.Name, "nick": deref(v.Nick),
		"Age": v.Age, "Tiny": v.Tiny, "Small": v.Small, "Mid": v.Mid, "Big": v.Big, "I32": v.I32,
		"Int": v.Int, "huge": v.Huge, "Count": deref(v.Count), "score": v.Score, "ratio": v.Ratio,
		"price": v.Price, "day": v.Day, "meta": v.Meta, "Tags": v.Tags, "point": deref(v.Point),
		"raw": raw, "Blob": blob, "Seen": deref(v.Seen), "kept": v.Kept, "Status": string(v.Status),
		"Active": deref(v.Active), "Dur": int64(v.Dur), "Weight": v.Weight, "Ticks": v.Ticks,
		"Comment": v.Comment, "any": v.Any,
	}
}

func TestCodecRowMatchesNormalize(t *testing.T) {
	c := MustStruct[Rich]("rich", "id")
	full := richValue()
	// nil pointers, slices and maps; text columns must hold valid text.
	empty := Rich{Base: Base{ID: 1}, Price: "0", Day: "2024-01-01"}
	for name, v := range map[string]Rich{"full": full, "empty": empty} {
		got := c.Row(&v).Map()
		want, err := normRow(c.Compiled(), asMap(v))
		if err != nil {
			t.Fatalf("%s: Normalize(asMap) = %v", name, err)
		}
		if diff := cmp.Diff(want, got, strictTime); diff != "" {
			t.Errorf("%s: Codec.Row differs from Normalize of the same map (-normalize +row):\n%s", name, diff)
		}
		again, err := normRow(c.Compiled(), copyRow(got))
		if err != nil {
			t.Errorf("%s: Normalize(Codec.Row) = %v", name, err)
		} else if diff := cmp.Diff(got, again, strictTime); diff != "" {
			t.Errorf("%s: Normalize changed a row of Codec.Row (-row +normalized):\n%s", name, diff)
		}
	}
	// Spot checks of the conversions themselves.
	got := c.Row(&full).Map()
	checks := map[string]any{
		"created": date(2024, 1, 2, 0, 0, 0, 0), "score": 0.1, "price": "19.990",
		"huge": "18446744073709551615", "meta": json.RawMessage(`{"k":[1]}`),
		"point": json.RawMessage(`{"X":1,"Y":2}`), "Seen": date(2024, 5, 5, 22, 8, 9, 10),
		"Small": int64(250), "Count": int64(9), "Weight": 1.25, "Ticks": 3.0,
		"any": json.RawMessage(`["x",1.5]`),
	}
	for col, want := range checks {
		if diff := cmp.Diff(want, got[col], strictTime); diff != "" {
			t.Errorf("Codec.Row()[%q] mismatch (-want +got):\n%s", col, diff)
		}
	}
	if nilRow := c.Row(nil); nilRow.Err() == nil {
		t.Errorf("Codec.Row(nil) = %v, want Values carrying an error", nilRow)
	}
	if _, err := c.Compiled().Normalize(c.Row(nil)); err == nil {
		t.Errorf("Normalize(Codec.Row(nil)) = nil error, want one")
	}
	nulls := c.Row(&empty).Map()
	for _, col := range []string{"nick", "Count", "point", "raw", "Blob", "Seen", "Active", "any"} {
		if v, ok := nulls[col]; !ok || v != nil {
			t.Errorf("Codec.Row(empty)[%q] = %#v, %v; want NULL", col, v, ok)
		}
	}
}

// TestCodecRowBadValues checks that a value Row cannot convert is left
// for Normalize to report.
func TestCodecRowBadValues(t *testing.T) {
	type bad struct {
		ID    string  `col:"id"`
		F     float64 `col:"f"`
		U     uint64  `col:"u,long"`
		S     int64   `col:"s,short"`
		D     *string `col:"d,decimal"`
		R     json.RawMessage
		M     map[string]any `col:"m,json"`
		Float float32        `col:"f32"`
	}
	c := MustStruct[bad]("bad", "id")
	tests := []struct {
		v    bad
		col  string
		want error
	}{
		{bad{ID: "1", F: math.NaN()}, "f", ErrWrongType},
		{bad{ID: "1", F: math.Inf(1)}, "f", ErrWrongType},
		{bad{ID: "1", U: math.MaxUint64}, "u", strconv.ErrRange},
		{bad{ID: "1", S: 1 << 20}, "s", strconv.ErrRange},
		{bad{ID: "1", D: ptr("1,5")}, "d", ErrWrongType},
		{bad{ID: "1", R: json.RawMessage("{")}, "R", ErrWrongType},
		{bad{ID: "1", M: map[string]any{"x": math.NaN()}}, "m", ErrWrongType},
		{bad{ID: "1", Float: float32(math.Inf(-1))}, "f32", ErrWrongType},
	}
	for _, tc := range tests {
		row := c.Row(&tc.v)
		_, err := c.Compiled().Normalize(row)
		var ve *ValueError
		if !errors.Is(err, tc.want) || !errors.As(err, &ve) || ve.Column != tc.col {
			t.Errorf("Normalize(Row(%+v)) = %v, want a *ValueError for column %s matching %v", tc.v, err, tc.col, tc.want)
		}
	}
}

type withPtrEmbed struct {
	*Base
	Name string
}

type withNamedEmbed struct {
	ID   string `col:"id"`
	Base `col:"base,json"`
}

type dup struct {
	Base
	ID int64 `col:"id"`
}

func TestStructErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   func() error
		want string
	}{
		{"not a struct", func() error { _, err := Struct[int]("t", "id"); return err }, "int is not a struct type"},
		{"map without json", func() error {
			_, err := Struct[struct {
				ID string
				M  map[string]int
			}]("t", "ID")
			return err
		}, "field M (map[string]int): a map, slice, array, interface or struct needs the JSON type"},
		{"struct without json", func() error {
			_, err := Struct[struct {
				ID string
				P  struct{ X int } `col:"p"`
			}]("t", "ID")
			return err
		}, "field P (struct { X int }): a map, slice, array, interface or struct needs the JSON type"},
		{"uint64 without type", func() error {
			_, err := Struct[struct {
				ID string
				N  uint64
			}]("t", "ID")
			return err
		}, "field N (uint64): an unsigned integer may exceed LONG"},
		{"unknown type in tag", func() error {
			_, err := Struct[struct {
				ID string `col:"id,text"`
			}]("t", "id")
			return err
		}, "field ID: tag `col:\"id,text\"`: unknown column type or option \"text\""},
		{"incompatible override", func() error {
			_, err := Struct[struct {
				ID string `col:"id,boolean"`
			}]("t", "id")
			return err
		}, "field ID (string): cannot be a BOOLEAN column"},
		{"time as string", func() error {
			_, err := Struct[struct {
				ID string
				T  time.Time `col:",string"`
			}]("t", "ID")
			return err
		}, "field T (time.Time): cannot be a STRING column"},
		{"embedded pointer", func() error { _, err := Struct[withPtrEmbed]("t", "id"); return err }, "field Base: embedded pointer *schema.Base is not supported"},
		{"duplicate column", func() error { _, err := Struct[dup]("t", "id"); return err }, `fields Base.ID and ID have the same column name "id"`},
		{"key not a field", func() error { _, err := Struct[Base]("t", "nope"); return err }, `primary key column "nope" is not a declared column`},
		{"no key", func() error { _, err := Struct[Base]("t"); return err }, "no primary key"},
	}
	for _, tc := range tests {
		err := tc.fn()
		if !errors.Is(err, ErrInvalidTable) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Struct = %v, want ErrInvalidTable containing %q", tc.name, err, tc.want)
		}
	}
}

func TestStructNamedEmbed(t *testing.T) {
	c, err := Struct[withNamedEmbed]("t", "id")
	if err != nil {
		t.Fatalf("Struct[withNamedEmbed] = %v", err)
	}
	want := []Column{{"id", String}, {"base", JSON}}
	if diff := cmp.Diff(want, c.Table().Columns); diff != "" {
		t.Errorf("columns mismatch (-want +got):\n%s", diff)
	}
	v := withNamedEmbed{ID: "x", Base: Base{ID: 1, Created: date(2024, 1, 1, 0, 0, 0, 0)}}
	if got, want := string(c.Row(&v).Map()["base"].(json.RawMessage)), `{"ID":1,"Created":"2024-01-01T00:00:00Z"}`; got != want {
		t.Errorf("Row()[base] = %s, want %s", got, want)
	}
}

func TestMustStructPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("MustStruct[int] did not panic")
		} else if err, ok := r.(error); !ok || !errors.Is(err, ErrInvalidTable) {
			t.Errorf("MustStruct[int] panicked with %v, want an ErrInvalidTable error", r)
		}
	}()
	MustStruct[int]("t", "id")
}

func TestCodecRowAllocs(t *testing.T) {
	c := MustStruct[User]("user", "id")
	u := seedUser()
	var row Values
	allocs := testing.AllocsPerRun(200, func() { row = c.Row(&u) })
	t.Logf("Codec[User].Row: %v allocations for %d columns", allocs, row.Len())
	// The slice and one box per string or time.
	if limit := float64(row.Len() + 1); allocs > limit {
		t.Errorf("Codec[User].Row allocates %v times, want at most %v", allocs, limit)
	}
}

func TestCodecConcurrent(t *testing.T) {
	c := MustStruct[Rich]("rich", "id")
	want := c.Row(ptr(richValue())).Map()
	done := make(chan Row)
	for range 4 {
		go func() {
			v := richValue()
			var r Row
			for range 50 {
				r = c.Row(&v).Map()
				if _, err := normRow(c.Compiled(), r); err != nil {
					r = nil
					break
				}
			}
			done <- r
		}()
	}
	for range 4 {
		if diff := cmp.Diff(want, <-done, strictTime); diff != "" {
			t.Errorf("concurrent Row mismatch (-want +got):\n%s", diff)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// ptrMarshaler marshals itself through a pointer method only.
type ptrMarshaler struct{ N int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) {
	return []byte(`{"custom":` + strconv.Itoa(p.N) + `}`), nil
}

// TestCodecJSONColumnsAsEncodingJSON checks that a JSON column holds what
// encoding/json writes for the field when it encodes the whole struct,
// methods of pointer types included.
func TestCodecJSONColumnsAsEncodingJSON(t *testing.T) {
	type rec struct {
		ID    int64           `json:"id"`
		Ptr   ptrMarshaler    `json:"ptr" col:"ptr,json"`
		PtrP  *ptrMarshaler   `json:"ptrp" col:"ptrp,json"`
		Slice []ptrMarshaler  `json:"slice" col:"slice,json"`
		Big   big.Int         `json:"big" col:"big,json"`
		Meta  map[string]any  `json:"meta" col:"meta,json"`
		Any   any             `json:"any" col:"any,json"`
		Arr   [2]ptrMarshaler `json:"arr" col:"arr,json"`
	}
	c := MustStruct[rec]("rec", "id")
	v := rec{ID: 1, Ptr: ptrMarshaler{2}, PtrP: &ptrMarshaler{3}, Slice: []ptrMarshaler{{4}},
		Meta: map[string]any{"k": 1}, Any: ptrMarshaler{5}, Arr: [2]ptrMarshaler{{6}, {7}}}
	v.Big.SetString("123456789012345678901234567890", 10)
	whole, err := json.Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(whole, &fields); err != nil {
		t.Fatal(err)
	}
	got := c.Row(&v).Map()
	for _, col := range []string{"ptr", "ptrp", "slice", "big", "meta", "any", "arr"} {
		if diff := cmp.Diff(string(fields[col]), string(got[col].(json.RawMessage))); diff != "" {
			t.Errorf("Codec.Row()[%q] differs from encoding/json (-json +row):\n%s", col, diff)
		}
	}
	if want := `{"custom":2}`; string(got["ptr"].(json.RawMessage)) != want {
		t.Errorf("Codec.Row()[ptr] = %s, want %s", got["ptr"], want)
	}
}

// TestCodecRowBoxed checks the strings and times Row boxes into arrays of
// the row: they equal values boxed the usual way, keep their values when
// the struct changes afterwards, and survive a collection.
func TestCodecRowBoxed(t *testing.T) {
	c := MustStruct[User]("user", "id")
	u := seedUser()
	loc := time.FixedZone("X", 3600)
	u.CreatedAt = u.CreatedAt.In(loc)
	v := c.Row(&u)
	u.Name, u.UpdatedAt, u.CreatedAt = "changed", time.Time{}, time.Time{}
	runtime.GC()
	want := []any{"7f3c2a", "Ann Smith", "ann@example.com", "1 Main St, Springfield", "Acme", "Engineer",
		time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC), time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)}
	for i, w := range want {
		if got := v.At(i); got != w {
			t.Errorf("At(%d) = %#v, want %#v", i, got, w)
		}
	}
}
