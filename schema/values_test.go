package schema

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// item is the struct of the Values tests: a pointer key, so that a nil
// key field can be written, and a column for each conversion that can
// fail in Codec.Row.
type item struct {
	ID   *string         `col:"id"`
	Qty  uint64          `col:"qty,long"`
	Raw  json.RawMessage `col:"raw"`
	Name string          `col:"name"`
	F    float64         `col:"f"`
}

// itemTwin has the columns of item under another table name.
type itemTwin item

// TestValuesThroughNormalize passes the Values of Codec.Row to each
// Normalize method, checking the values by name (Compiled.Map) or the
// error.
func TestValuesThroughNormalize(t *testing.T) {
	codec := MustStruct[item]("item", "id")
	c := codec.Compiled()
	twin := MustStruct[itemTwin]("twin", "id")
	other := MustStruct[struct {
		ID string `col:"id"`
	}]("other", "id")
	id, bad := "k", "k\xff"
	full := Row{"id": "k", "qty": int64(5), "raw": json.RawMessage(`{"a":1}`), "name": "n", "f": 1.5}
	keys := Row{"id": "k", "qty": nil, "raw": nil, "name": nil, "f": nil}
	tests := []struct {
		name     string
		row      func() AnyRow // a new row per call: NormalizeKeys clears the non-key values it is handed
		want     Row           // Normalize and NormalizePartial
		wantKeys Row           // NormalizeKeys
		err      error         // the error of every method, matched with errors.Is
		column   string        // the *ValueError's column, if the error is one
	}{
		{name: "ok", row: func() AnyRow {
			return codec.Row(&item{ID: &id, Qty: 5, Raw: json.RawMessage(`{"a": 1}`), Name: "n", F: 1.5})
		}, want: full, wantKeys: keys},
		{name: "NULL columns", row: func() AnyRow { return codec.Row(&item{ID: &id}) },
			want: Row{"id": "k", "qty": int64(0), "raw": nil, "name": "", "f": 0.0}, wantKeys: keys},
		{name: "values of a table with the same columns", row: func() AnyRow {
			return twin.Row(&itemTwin{ID: &id, Qty: 5, Raw: json.RawMessage(`{"a":1}`), Name: "n", F: 1.5})
		}, want: full, wantKeys: keys},
		{name: "nil key field", row: func() AnyRow { return codec.Row(&item{Name: "n"}) }, err: ErrMissingKey, column: "id"},
		{name: "zero Values", row: func() AnyRow { return Values{} }, err: ErrWrongTable},
		{name: "values of another table", row: func() AnyRow {
			return other.Row(&struct {
				ID string `col:"id"`
			}{"x"})
		}, err: ErrWrongTable},
		{name: "NaN float", row: func() AnyRow { return codec.Row(&item{ID: &id, F: math.NaN()}) }, err: ErrWrongType, column: "f"},
		{name: "infinite float", row: func() AnyRow { return codec.Row(&item{ID: &id, F: math.Inf(-1)}) }, err: ErrWrongType, column: "f"},
		{name: "uint64 beyond LONG", row: func() AnyRow { return codec.Row(&item{ID: &id, Qty: math.MaxUint64}) }, err: strconv.ErrRange, column: "qty"},
		{name: "invalid JSON", row: func() AnyRow { return codec.Row(&item{ID: &id, Raw: json.RawMessage("{")}) }, err: ErrWrongType, column: "raw"},
		{name: "invalid UTF-8", row: func() AnyRow { return codec.Row(&item{ID: &id, Name: "a\xffb"}) }, err: ErrWrongType, column: "name"},
		{name: "invalid UTF-8 key", row: func() AnyRow { return codec.Row(&item{ID: &bad}) }, err: ErrWrongType, column: "id"},
		{name: "first bad field", row: func() AnyRow {
			return codec.Row(&item{ID: &id, Qty: math.MaxUint64, F: math.NaN()})
		}, err: ErrWrongType, column: "qty"},
	}
	for _, tc := range tests {
		for _, m := range []struct {
			name string
			fn   func(AnyRow) ([]any, ColumnSet, error)
			want Row
		}{
			{"Normalize", func(r AnyRow) ([]any, ColumnSet, error) { v, err := c.Normalize(r); return v, nil, err }, tc.want},
			{"NormalizePartial", c.NormalizePartial, tc.want},
			{"NormalizeKeys", func(r AnyRow) ([]any, ColumnSet, error) { v, err := c.NormalizeKeys(r); return v, nil, err }, tc.wantKeys},
		} {
			vals, set, err := m.fn(tc.row())
			if tc.err != nil {
				if !errors.Is(err, tc.err) || vals != nil {
					t.Errorf("%s: %s = %v, %v; want nil, an error matching %v", tc.name, m.name, vals, err, tc.err)
				}
				var ve *ValueError
				if tc.column != "" && (!errors.As(err, &ve) || ve.Table != "item" || ve.Column != tc.column) {
					t.Errorf("%s: %s error = %#v, want a *ValueError of table item, column %s", tc.name, m.name, err, tc.column)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %s = %v, want nil error", tc.name, m.name, err)
				continue
			}
			if set != nil {
				t.Errorf("%s: %s set = %v, want nil (Values hold every column)", tc.name, m.name, set)
			}
			if diff := cmp.Diff(m.want, c.Map(vals, set)); diff != "" {
				t.Errorf("%s: %s mismatch (-want +got):\n%s", tc.name, m.name, diff)
			}
		}
	}
	if _, _, err := c.normalize(codec.Row(&item{ID: &id}), parent); err == nil {
		t.Errorf("a parent key given as Values: Normalize = nil, want an error")
	}
}

func TestValuesNilStruct(t *testing.T) {
	codec := MustStruct[item]("item", "id")
	c := codec.Compiled()
	row := codec.Row(nil)
	if row.Err() == nil || !strings.Contains(row.Err().Error(), "nil") || row.Len() != 0 || row.Table() != c || row.Map() != nil {
		t.Errorf("Codec.Row(nil) = Err %v, Len %d, Table %p, Map %v; want an error naming the nil pointer, no values, table %p, a nil Map", row.Err(), row.Len(), row.Table(), row.Map(), c)
	}
	for name, fn := range map[string]func(AnyRow) error{
		"Normalize":        func(r AnyRow) error { _, err := c.Normalize(r); return err },
		"NormalizePartial": func(r AnyRow) error { _, _, err := c.NormalizePartial(r); return err },
		"NormalizeKeys":    func(r AnyRow) error { _, err := c.NormalizeKeys(r); return err },
	} {
		if err := fn(row); err == nil || err.Error() != row.Err().Error() {
			t.Errorf("%s(Codec.Row(nil)) = %v, want %v", name, err, row.Err())
		}
	}
}

func TestZeroValues(t *testing.T) {
	var v Values
	if v.Table() != nil || v.Len() != 0 || v.Map() != nil || v.Err() != nil {
		t.Errorf("zero Values: Table %v, Len %d, Map %v, Err %v; want nil, 0, nil, nil", v.Table(), v.Len(), v.Map(), v.Err())
	}
	c := mustCompile(t, keyed)
	if _, err := c.Normalize(v); !errors.Is(err, ErrWrongTable) || !strings.Contains(err.Error(), `"line"`) {
		t.Errorf("Normalize(Values{}) = %v, want ErrWrongTable naming table line", err)
	}
}

func TestValuesAccessors(t *testing.T) {
	codec := MustStruct[item]("item", "id")
	id := "k"
	v := codec.Row(&item{ID: &id, Qty: 3, Name: "n"})
	want := []any{"k", int64(3), nil, "n", 0.0}
	got := make([]any, v.Len())
	for i := range got {
		got[i] = v.At(i)
	}
	if diff := cmp.Diff(want, got); diff != "" || v.Err() != nil || v.Table() != codec.Compiled() {
		t.Errorf("Values.At mismatch (-want +got), Err %v:\n%s", v.Err(), diff)
	}
	if diff := cmp.Diff(Row{"id": "k", "qty": int64(3), "raw": nil, "name": "n", "f": 0.0}, v.Map()); diff != "" {
		t.Errorf("Values.Map mismatch (-want +got):\n%s", diff)
	}
}

func TestNormalizeValuesKeysClearsOtherColumns(t *testing.T) {
	codec := MustStruct[item]("item", "id")
	id := "k"
	got, err := codec.Compiled().NormalizeKeys(codec.Row(&item{ID: &id, Qty: 3, Name: "n", F: 2}))
	if diff := cmp.Diff([]any{"k", nil, nil, nil, nil}, got); err != nil || diff != "" {
		t.Errorf("NormalizeKeys(Values) = %v (-want +got):\n%s", err, diff)
	}
}

func TestCompiledMap(t *testing.T) {
	c := mustCompile(t, keyed) // order, amount, note
	set := NewColumnSet(3)
	set.Add(0)
	set.Add(2)
	tests := []struct {
		name string
		vals []any
		set  ColumnSet
		want Row
	}{
		{"every column", []any{int64(1), "2", nil}, nil, Row{"order": int64(1), "amount": "2", "note": nil}},
		{"a set", []any{int64(1), "2", nil}, set, Row{"order": int64(1), "note": nil}},
		{"empty set", []any{int64(1), "2", "x"}, NewColumnSet(3), Row{}},
		{"short values", []any{int64(1)}, nil, Row{"order": int64(1)}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, c.Map(tc.vals, tc.set)); diff != "" {
			t.Errorf("%s: Map(%v, %v) mismatch (-want +got):\n%s", tc.name, tc.vals, tc.set, diff)
		}
	}
}

func TestNormalizeParent(t *testing.T) {
	// The key's order differs from the columns' to check positions.
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"a", "b", "c"},
		Columns: []Column{{"x", String}, {"a", Long}, {"b", String}, {"c", String}}})
	tests := []struct {
		name string
		row  Row
		want Row   // the values of the set, by name; nil: an error
		err  error // the error, if it matches a sentinel
	}{
		{"prefix of 1", Row{"a": int32(1)}, Row{"a": int64(1)}, nil},
		{"prefix of 2", Row{"a": 1, "b": "p"}, Row{"a": int64(1), "b": "p"}, nil},
		{"whole key", Row{"a": 1, "b": "p", "c": "q"}, nil, nil},
		{"not a prefix", Row{"b": "p"}, nil, nil},
		{"a gap", Row{"a": 1, "c": "q"}, nil, nil},
		{"extra non-key column", Row{"a": 1, "x": "y"}, nil, nil},
		{"prefix of 2 and a non-key column", Row{"a": 1, "b": "p", "x": "y"}, nil, nil},
		{"NULL", Row{"a": nil}, nil, ErrMissingKey},
		{"NULL second column", Row{"a": 1, "b": nil}, nil, ErrMissingKey},
		{"wrong type", Row{"a": "one"}, nil, ErrWrongType},
		{"invalid UTF-8", Row{"a": 1, "b": "p\xff"}, nil, ErrWrongType},
		{"unknown column", Row{"a": 1, "zz": 1}, nil, ErrUnknownColumn},
		{"empty", Row{}, nil, nil},
		{"nil", nil, nil, nil},
	}
	for _, tc := range tests {
		vals, set, err := c.NormalizeParent(tc.row)
		if tc.want == nil {
			if err == nil || vals != nil || set != nil {
				t.Errorf("%s: NormalizeParent(%v) = %v, %v, %v; want an error", tc.name, tc.row, vals, set, err)
			} else if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("%s: NormalizeParent(%v) = %v, want %v", tc.name, tc.row, err, tc.err)
			}
			continue
		}
		if err != nil || len(vals) != 4 || set.Len() != len(tc.want) {
			t.Errorf("%s: NormalizeParent(%v) = %v, %v, %v; want %d columns of 4", tc.name, tc.row, vals, set, err, len(tc.want))
			continue
		}
		if diff := cmp.Diff(tc.want, c.Map(vals, set)); diff != "" {
			t.Errorf("%s: NormalizeParent(%v) mismatch (-want +got):\n%s", tc.name, tc.row, diff)
		}
		for i, v := range vals {
			if !set.Has(i) && v != nil {
				t.Errorf("%s: NormalizeParent(%v)[%d] = %v outside the set, want nil", tc.name, tc.row, i, v)
			}
		}
	}
	one := mustCompile(t, Table{Name: "one", PrimaryKey: []string{"id"}, Columns: []Column{{"id", Long}}})
	if _, _, err := one.NormalizeParent(Row{"id": 1}); err == nil {
		t.Errorf("NormalizeParent of a one-column key = nil error, want one: such a table has no parent key")
	}
}

func TestColumnSet(t *testing.T) {
	s := NewColumnSet(130)
	for _, i := range []int{0, 63, 64, 129} {
		s.Add(i)
	}
	for i := range 130 {
		want := i == 0 || i == 63 || i == 64 || i == 129
		if s.Has(i) != want {
			t.Errorf("Has(%d) = %v, want %v", i, s.Has(i), want)
		}
	}
	if s.Len() != 4 || ColumnSet(nil).Has(3) || ColumnSet(nil).Len() != 0 || s.Has(1000) {
		t.Errorf("Len = %d, want 4; the nil set must be empty, and a position past the set not in it", s.Len())
	}
	if n := len(NewColumnSet(0)) + len(NewColumnSet(64)) + len(NewColumnSet(65)); n != 0+1+2 {
		t.Errorf("NewColumnSet(0, 64, 65) has %d words, want 0, 1 and 2", n)
	}
}

// TestNormalizePartialSet checks the set of the columns an update holds.
func TestNormalizePartialSet(t *testing.T) {
	c := mustCompile(t, keyed) // order, amount, note
	tests := []struct {
		row  Row
		want []int
	}{
		{Row{"order": 1, "amount": "2"}, []int{0, 1}},
		{Row{"order": 1, "amount": "2", "note": nil}, []int{0, 1, 2}}, // set to NULL
		{Row{"order": 1, "amount": "2", "note": "x"}, []int{0, 1, 2}},
	}
	for _, tc := range tests {
		vals, set, err := c.NormalizePartial(tc.row)
		if err != nil {
			t.Errorf("NormalizePartial(%v) = %v", tc.row, err)
			continue
		}
		var got []int
		for i := range 3 {
			if set.Has(i) {
				got = append(got, i)
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || set.Len() != len(tc.want) {
			t.Errorf("NormalizePartial(%v) set mismatch (-want +got):\n%s", tc.row, diff)
		}
		want, _ := normMode(c, update, tc.row)
		if diff := cmp.Diff(want, c.Map(vals, set)); diff != "" {
			t.Errorf("NormalizePartial(%v) values mismatch (-want +got):\n%s", tc.row, diff)
		}
	}
}

func TestInvalidUTF8IsRejected(t *testing.T) {
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}, {"s", String}, {"x", XML}, {"j", JSON}}})
	type rec struct {
		K string          `col:"k"`
		S *Status         `col:"s"` // a named type, through a pointer
		X string          `col:"x,xml"`
		J json.RawMessage `col:"j"`
	}
	codec := MustStruct[rec]("t", "k")
	bad := Status("s\xc3")
	tests := []struct {
		name   string
		row    AnyRow
		column string // "": accepted
	}{
		{"Row: key", Row{"k": "k\xff"}, "k"},
		{"Row: STRING", Row{"k": "k", "s": "\xed\xa0\x80"}, "s"}, // a surrogate half
		{"Row: XML", Row{"k": "k", "x": "<a>\xfe</a>"}, "x"},
		{"Row: JSON string", Row{"k": "k", "j": json.RawMessage("\"\xff\"")}, "j"},
		{"Row: JSON key as []byte", Row{"k": "k", "j": []byte("{\"\xc0\xaf\": 1}")}, "j"}, // an overlong encoding
		{"Row: valid", Row{"k": "k\u00ff", "s": "é", "x": "<a>ü</a>", "j": json.RawMessage(`["é"]`)}, ""},
		{"Row: JSON of a Go string is made valid", Row{"k": "k", "j": "a\xffb"}, ""},
		{"Codec: key", codec.Row(&rec{K: "k\xff"}), "k"},
		{"Codec: STRING", codec.Row(&rec{K: "k", S: &bad}), "s"},
		{"Codec: XML", codec.Row(&rec{K: "k", X: "<a>\xfe</a>"}), "x"},
		{"Codec: JSON", codec.Row(&rec{K: "k", J: json.RawMessage("[\"\xfe\"]")}), "j"},
		{"Codec: valid", codec.Row(&rec{K: "k\u00ff", X: "<a>ü</a>", J: json.RawMessage(`"ü"`)}), ""},
	}
	for _, tc := range tests {
		_, err := c.Normalize(tc.row)
		if tc.column == "" {
			if err != nil {
				t.Errorf("%s: Normalize = %v, want nil", tc.name, err)
			}
			continue
		}
		var ve *ValueError
		if !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), "UTF-8") || !errors.As(err, &ve) || ve.Column != tc.column {
			t.Errorf("%s: Normalize = %v, want ErrWrongType for invalid UTF-8 in column %s", tc.name, err, tc.column)
		}
	}
	// A key is checked by every method, so two keys that differ only in
	// invalid bytes can no longer become one row in a destination that
	// replaces them.
	for name, fn := range map[string]func(Row) error{
		"NormalizePartial": func(r Row) error { _, _, err := c.NormalizePartial(r); return err },
		"NormalizeKeys":    func(r Row) error { _, err := c.NormalizeKeys(r); return err },
	} {
		if err := fn(Row{"k": "k\xfe"}); !errors.Is(err, ErrWrongType) {
			t.Errorf("%s(invalid UTF-8 key) = %v, want ErrWrongType", name, err)
		}
	}

	for _, bad := range []Table{
		{Name: "t\xff", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}}},
		{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}, {"c\xff", String}}},
		{Name: "t", PrimaryKey: []string{"k\xff"}, Columns: []Column{{"k\xff", String}}},
	} {
		if _, err := bad.Compile(); !errors.Is(err, ErrInvalidTable) || !strings.Contains(err.Error(), "UTF-8") {
			t.Errorf("Compile(%q) = %v, want ErrInvalidTable for a name that is not UTF-8", bad.Name, err)
		}
	}
	type badTag struct {
		K string `col:"k\xff"`
	}
	if _, err := Struct[badTag]("t", "k\xff"); !errors.Is(err, ErrInvalidTable) || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("Struct with a column name that is not UTF-8 = %v, want ErrInvalidTable", err)
	}
	if _, err := Struct[rec]("t\xff", "k"); !errors.Is(err, ErrInvalidTable) || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("Struct with a table name that is not UTF-8 = %v, want ErrInvalidTable", err)
	}
}

// nestArrays returns JSON arrays nested n deep.
func nestArrays(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// nestObjects returns JSON objects nested n deep, with a bracket in a
// key and in a string value, which do not count.
func nestObjects(n int) string {
	return strings.Repeat(`{"[":`, n-1) + `{"s":"]]]{{"}` + strings.Repeat("}", n-1)
}

// nestValue returns a Go value that marshals to arrays nested n deep.
func nestValue(n int) any {
	var v any = []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

func TestJSONDepth(t *testing.T) {
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}, {"j", JSON}}})
	type rec struct {
		K   string          `col:"k"`
		Raw json.RawMessage `col:"j"`
	}
	type recBytes struct {
		K string `col:"k"`
		B []byte `col:"j,json"`
	}
	type recAny struct {
		K string `col:"k"`
		V any    `col:"j,json"`
	}
	raw, bytesCodec, anyCodec := MustStruct[rec]("t", "k"), MustStruct[recBytes]("t", "k"), MustStruct[recAny]("t", "k")
	tests := []struct {
		name  string
		depth int
		row   AnyRow
	}{
		{"RawMessage", MaxJSONDepth, Row{"k": "a", "j": json.RawMessage(nestArrays(MaxJSONDepth))}},
		{"RawMessage", MaxJSONDepth + 1, Row{"k": "a", "j": json.RawMessage(nestArrays(MaxJSONDepth + 1))}},
		{"RawMessage objects", MaxJSONDepth, Row{"k": "a", "j": json.RawMessage(nestObjects(MaxJSONDepth))}},
		{"RawMessage objects", MaxJSONDepth + 1, Row{"k": "a", "j": json.RawMessage(nestObjects(MaxJSONDepth + 1))}},
		{"[]byte", MaxJSONDepth, Row{"k": "a", "j": []byte(" " + nestArrays(MaxJSONDepth) + "\n")}},
		{"[]byte", MaxJSONDepth + 1, Row{"k": "a", "j": []byte(nestArrays(MaxJSONDepth + 1))}},
		{"marshalled", MaxJSONDepth, Row{"k": "a", "j": nestValue(MaxJSONDepth)}},
		{"marshalled", MaxJSONDepth + 1, Row{"k": "a", "j": nestValue(MaxJSONDepth + 1)}},
		{"Codec RawMessage", MaxJSONDepth, raw.Row(&rec{K: "a", Raw: json.RawMessage(nestObjects(MaxJSONDepth))})},
		{"Codec RawMessage", MaxJSONDepth + 1, raw.Row(&rec{K: "a", Raw: json.RawMessage(nestObjects(MaxJSONDepth + 1))})},
		{"Codec []byte", MaxJSONDepth, bytesCodec.Row(&recBytes{K: "a", B: []byte(nestArrays(MaxJSONDepth))})},
		{"Codec []byte", MaxJSONDepth + 1, bytesCodec.Row(&recBytes{K: "a", B: []byte(nestArrays(MaxJSONDepth + 1))})},
		{"Codec marshalled", MaxJSONDepth, anyCodec.Row(&recAny{K: "a", V: nestValue(MaxJSONDepth)})},
		{"Codec marshalled", MaxJSONDepth + 1, anyCodec.Row(&recAny{K: "a", V: nestValue(MaxJSONDepth + 1)})},
		{"brackets in a string", 1, Row{"k": "a", "j": json.RawMessage(`"[[[[` + strings.Repeat("[", 600) + `\"{"`)}},
	}
	for _, tc := range tests {
		vals, err := c.Normalize(tc.row)
		if tc.depth > MaxJSONDepth {
			if !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), "nested deeper than 512") {
				t.Errorf("%s nested %d deep: Normalize = %v, want ErrWrongType for the depth", tc.name, tc.depth, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s nested %d deep: Normalize = %v, want nil", tc.name, tc.depth, err)
			continue
		}
		got, ok := vals[1].(json.RawMessage)
		if !ok || !json.Valid(got) || got[0] == ' ' {
			t.Errorf("%s nested %d deep: Normalize = %.40q, want compact JSON", tc.name, tc.depth, vals[1])
		}
		var v any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Errorf("%s nested %d deep: the value does not read back: %v", tc.name, tc.depth, err)
		}
	}
}

type nullMarshaler struct{}

func (nullMarshaler) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func TestJSONNullIsNULL(t *testing.T) {
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}, {"j", JSON}}})
	type rec struct {
		K   string          `col:"k"`
		Raw json.RawMessage `col:"j"`
	}
	type recBytes struct {
		K string `col:"k"`
		B []byte `col:"j,json"`
	}
	type recMap struct {
		K string         `col:"k"`
		M map[string]int `col:"j,json"`
	}
	type recAny struct {
		K string `col:"k"`
		V any    `col:"j,json"`
	}
	type recMarshaler struct {
		K string        `col:"k"`
		N nullMarshaler `col:"j,json"`
	}
	tests := []struct {
		name string
		row  AnyRow
		want any
	}{
		{"RawMessage", Row{"k": "a", "j": json.RawMessage("null")}, nil},
		{"RawMessage with spaces", Row{"k": "a", "j": json.RawMessage("\t null\n")}, nil},
		{"[]byte", Row{"k": "a", "j": []byte(" null ")}, nil},
		{"nil map", Row{"k": "a", "j": map[string]any(nil)}, nil},
		{"nil slice", Row{"k": "a", "j": []int(nil)}, nil},
		{"nil pointer", Row{"k": "a", "j": (*struct{ X int })(nil)}, nil},
		{"a marshaler of null", Row{"k": "a", "j": nullMarshaler{}}, nil},
		{"null in an array is a value", Row{"k": "a", "j": json.RawMessage("[null]")}, json.RawMessage("[null]")},
		{"the string null is a value", Row{"k": "a", "j": "null"}, json.RawMessage(`"null"`)},
		{"Codec RawMessage", MustStruct[rec]("t", "k").Row(&rec{K: "a", Raw: json.RawMessage(" null")}), nil},
		{"Codec []byte", MustStruct[recBytes]("t", "k").Row(&recBytes{K: "a", B: []byte("null")}), nil},
		{"Codec nil map", MustStruct[recMap]("t", "k").Row(&recMap{K: "a"}), nil},
		{"Codec empty map", MustStruct[recMap]("t", "k").Row(&recMap{K: "a", M: map[string]int{}}), json.RawMessage("{}")},
		{"Codec nil in any", MustStruct[recAny]("t", "k").Row(&recAny{K: "a", V: []int(nil)}), nil},
		{"Codec marshaler of null", MustStruct[recMarshaler]("t", "k").Row(&recMarshaler{K: "a"}), nil},
	}
	for _, tc := range tests {
		vals, err := c.Normalize(tc.row)
		if err != nil {
			t.Errorf("%s: Normalize = %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, vals[1]); diff != "" {
			t.Errorf("%s: Normalize mismatch (-want +got):\n%s", tc.name, diff)
		}
	}
}

// Owner and the types below are nested objects of a record that inline
// tags turn into columns.
type (
	Org struct {
		Name string `json:"name"`
		ID   *int64 `json:"id"`
	}
	Owner struct {
		Login string `json:"login"`
		Org   Org    `json:"org" col:"org_,inline"`   // inline in an inline struct
		Team  *Org   `json:"team" col:"team_,inline"` // an inline pointer in an inline struct
	}
	InlineIssue struct {
		ID     int64  `json:"id"`
		User   Owner  `json:"user" col:"user_,inline"`
		Closer *Owner `json:"closer" col:"closer_,inline"`
		Extra  struct {
			N int `json:"n"`
		} `col:",inline"` // no prefix
	}
)

func TestInlineStructs(t *testing.T) {
	codec, err := Struct[InlineIssue]("issue", "id")
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []Column{
		{"id", Long}, {"user_login", String}, {"user_org_name", String}, {"user_org_id", Long},
		{"user_team_name", String}, {"user_team_id", Long},
		{"closer_login", String}, {"closer_org_name", String}, {"closer_org_id", Long},
		{"closer_team_name", String}, {"closer_team_id", Long}, {"n", Long},
	}
	if diff := cmp.Diff(wantCols, codec.Table().Columns); diff != "" {
		t.Errorf("columns mismatch (-want +got):\n%s", diff)
	}
	seven := int64(7)
	tests := []struct {
		name string
		v    InlineIssue
		want Row
	}{
		{"nil pointers", InlineIssue{ID: 1, User: Owner{Login: "ann", Org: Org{Name: "acme", ID: &seven}}}, Row{
			"id": int64(1), "user_login": "ann", "user_org_name": "acme", "user_org_id": int64(7),
			"user_team_name": nil, "user_team_id": nil,
			"closer_login": nil, "closer_org_name": nil, "closer_org_id": nil,
			"closer_team_name": nil, "closer_team_id": nil, "n": int64(0),
		}},
		{"closer set, its team nil", InlineIssue{ID: 2, Closer: &Owner{Login: "bob", Org: Org{Name: "b"}}}, Row{
			"id": int64(2), "user_login": "", "user_org_name": "", "user_org_id": nil,
			"user_team_name": nil, "user_team_id": nil,
			"closer_login": "bob", "closer_org_name": "b", "closer_org_id": nil,
			"closer_team_name": nil, "closer_team_id": nil, "n": int64(0),
		}},
		{"two hops", InlineIssue{ID: 3, User: Owner{Team: &Org{Name: "core"}},
			Closer: &Owner{Team: &Org{Name: "ops", ID: &seven}}}, Row{
			"id": int64(3), "user_login": "", "user_org_name": "", "user_org_id": nil,
			"user_team_name": "core", "user_team_id": nil,
			"closer_login": "", "closer_org_name": "", "closer_org_id": nil,
			"closer_team_name": "ops", "closer_team_id": int64(7), "n": int64(0),
		}},
	}
	for _, tc := range tests {
		row := codec.Row(&tc.v)
		if diff := cmp.Diff(tc.want, row.Map()); diff != "" {
			t.Errorf("%s: Codec.Row mismatch (-want +got):\n%s", tc.name, diff)
		}
		vals, err := codec.Compiled().Normalize(row)
		if err != nil {
			t.Errorf("%s: Normalize = %v", tc.name, err)
		} else if diff := cmp.Diff(tc.want, codec.Compiled().Map(vals, nil)); diff != "" {
			t.Errorf("%s: Normalize mismatch (-want +got):\n%s", tc.name, diff)
		}
	}

	// A key column inside a nil inline pointer is a missing key.
	type Ref struct {
		ID string `col:"id"`
	}
	type child struct {
		Parent *Ref   `col:"parent_,inline"`
		Name   string `col:"name"`
	}
	cc := MustStruct[child]("child", "parent_id", "name")
	if _, err := cc.Compiled().Normalize(cc.Row(&child{Name: "x"})); !errors.Is(err, ErrMissingKey) {
		t.Errorf("Normalize with a key in a nil inline pointer = %v, want ErrMissingKey", err)
	}
	vals, err := cc.Compiled().Normalize(cc.Row(&child{Parent: &Ref{ID: "p"}, Name: "x"}))
	if diff := cmp.Diff([]any{"p", "x"}, vals); err != nil || diff != "" {
		t.Errorf("Normalize with a key in an inline pointer = %v (-want +got):\n%s", err, diff)
	}
}

// TestInlineStructErrors checks inline fields that cannot be columns and
// inline columns that clash with others.
func TestInlineStructErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a field named like an inline column", errOf(Struct[struct {
			UserLogin string `col:"user_login"`
			User      Owner  `col:"user_,inline"`
		}]("t", "user_login")), `fields UserLogin and User.Login have the same column name "user_login"`},
		{"two inline structs, one prefix", errOf(Struct[struct {
			ID     int64 `col:"id"`
			User   Owner `col:"u_,inline"`
			Closer Owner `col:"u_,inline"`
		}]("t", "id")), `fields User.Login and Closer.Login have the same column name "u_login"`},
		{"a nested inline column named like an outer one", errOf(Struct[struct {
			ID   int64  `col:"id"`
			Name string `col:"org_name"`
			Org  *Org   `col:"org_,inline"`
		}]("t", "id")), `fields Name and Org.Name have the same column name "org_name"`},
		{"no prefix", errOf(Struct[struct {
			Login string `col:"login"`
			User  *Owner `col:",inline"`
		}]("t", "login")), `fields Login and User.Login have the same column name "login"`},
		{"a slice", errOf(Struct[struct {
			ID   int64    `col:"id"`
			Tags []string `col:"tags,inline"`
		}]("t", "id")), "only a struct or a pointer to a struct can be inline"},
		{"an int", errOf(Struct[struct {
			ID int64 `col:"id,inline"`
		}]("t", "id")), "only a struct or a pointer to a struct can be inline"},
		{"a time", errOf(Struct[struct {
			ID int64     `col:"id"`
			At time.Time `col:"at_,inline"`
		}]("t", "id")), "only a struct or a pointer to a struct can be inline"},
		{"a time pointer", errOf(Struct[struct {
			ID int64      `col:"id"`
			At *time.Time `col:"at_,inline"`
		}]("t", "id")), "only a struct or a pointer to a struct can be inline"},
		{"unexported", errOf(Struct[struct {
			ID    int64 `col:"id"`
			owner Owner `col:"o_,inline"`
		}]("t", "id")), "an unexported field cannot be inline"},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, ErrInvalidTable) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: Struct = %v, want ErrInvalidTable containing %q", tc.name, tc.err, tc.want)
		}
	}
}

// unencodable lists struct types with a field encoding/json cannot
// encode, with and without the JSON type in its tag.
var unencodable = []struct {
	name string
	err  func() error
	must func()
	want string // part of the error
}{
	{"chan, json", errFor[struct {
		ID int64    `col:"id"`
		C  chan int `col:"c,json"`
	}](), mustFor[struct {
		ID int64    `col:"id"`
		C  chan int `col:"c,json"`
	}](), "field C (chan int)"},
	{"chan", errFor[struct {
		ID int64    `col:"id"`
		C  chan int `col:"c"`
	}](), mustFor[struct {
		ID int64    `col:"id"`
		C  chan int `col:"c"`
	}](), "field C (chan int)"},
	{"func, json", errFor[struct {
		ID int64  `col:"id"`
		F  func() `col:"f,json"`
	}](), mustFor[struct {
		ID int64  `col:"id"`
		F  func() `col:"f,json"`
	}](), "field F (func())"},
	{"func", errFor[struct {
		ID int64 `col:"id"`
		F  func()
	}](), mustFor[struct {
		ID int64 `col:"id"`
		F  func()
	}](), "field F (func())"},
	{"complex, json", errFor[struct {
		ID int64      `col:"id"`
		Z  complex128 `col:"z,json"`
	}](), mustFor[struct {
		ID int64      `col:"id"`
		Z  complex128 `col:"z,json"`
	}](), "field Z (complex128)"},
	{"complex", errFor[struct {
		ID int64 `col:"id"`
		Z  complex64
	}](), mustFor[struct {
		ID int64 `col:"id"`
		Z  complex64
	}](), "field Z (complex64)"},
	{"complex pointer, json", errFor[struct {
		ID int64       `col:"id"`
		Z  *complex128 `col:"z,json"`
	}](), mustFor[struct {
		ID int64       `col:"id"`
		Z  *complex128 `col:"z,json"`
	}](), "field Z (*complex128)"},
	{"unsafe.Pointer, json", errFor[struct {
		ID int64          `col:"id"`
		P  unsafe.Pointer `col:"p,json"`
	}](), mustFor[struct {
		ID int64          `col:"id"`
		P  unsafe.Pointer `col:"p,json"`
	}](), "field P (unsafe.Pointer)"},
	{"slice of chans", errFor[struct {
		ID int64      `col:"id"`
		C  []chan int `col:"c,json"`
	}](), mustFor[struct {
		ID int64      `col:"id"`
		C  []chan int `col:"c,json"`
	}](), "cannot be encoded as JSON"},
	{"map of funcs", errFor[struct {
		ID int64             `col:"id"`
		M  map[string]func() `col:"m,json"`
	}](), mustFor[struct {
		ID int64             `col:"id"`
		M  map[string]func() `col:"m,json"`
	}](), "cannot be encoded as JSON"},
	{"map with struct keys", errFor[struct {
		ID int64                   `col:"id"`
		M  map[struct{ X int }]int `col:"m,json"`
	}](), mustFor[struct {
		ID int64                   `col:"id"`
		M  map[struct{ X int }]int `col:"m,json"`
	}](), "cannot be encoded as JSON"},
	{"map with float keys", errFor[struct {
		ID int64           `col:"id"`
		M  map[float64]int `col:"m,json"`
	}](), mustFor[struct {
		ID int64           `col:"id"`
		M  map[float64]int `col:"m,json"`
	}](), "cannot be encoded as JSON"},
	{"struct with a func field", errFor[struct {
		ID int64 `col:"id"`
		S  struct {
			F func()
		} `col:"s,json"`
	}](), mustFor[struct {
		ID int64 `col:"id"`
		S  struct {
			F func()
		} `col:"s,json"`
	}](), "field F: a func() cannot be encoded as JSON"},
	{"an embedded unexported struct with a chan", errFor[struct {
		ID int64 `col:"id"`
		S  struct {
			hiddenChan
		} `col:"s,json"`
	}](), mustFor[struct {
		ID int64 `col:"id"`
		S  struct {
			hiddenChan
		} `col:"s,json"`
	}](), "field hiddenChan: field C: a chan int cannot be encoded as JSON"},
	{"an embedded pointer to an unexported struct with a func", errFor[struct {
		ID int64 `col:"id"`
		S  struct {
			*hiddenFunc
		} `col:"s,json"`
	}](), mustFor[struct {
		ID int64 `col:"id"`
		S  struct {
			*hiddenFunc
		} `col:"s,json"`
	}](), "field hiddenFunc: field F: a func() cannot be encoded as JSON"},
	{"a chan behind pointers", errFor[struct {
		ID int64 `col:"id"`
		S  *struct {
			C *chan int
		} `col:"s,json"`
	}](), mustFor[struct {
		ID int64 `col:"id"`
		S  *struct {
			C *chan int
		} `col:"s,json"`
	}](), "cannot be encoded as JSON"},
}

// encodableTypes lists struct types with fields that look like those above
// but that encoding/json can encode or skips.
var encodableTypes = []struct {
	name string
	err  func() error
	must func()
}{
	{"chan skipped", errFor[struct {
		ID int64    `col:"id"`
		C  chan int `col:"-"`
	}](), mustFor[struct {
		ID int64    `col:"id"`
		C  chan int `col:"-"`
	}]()},
	{"func skipped by json", errFor[struct {
		ID int64  `col:"id"`
		F  func() `json:"-"`
	}](), mustFor[struct {
		ID int64  `col:"id"`
		F  func() `json:"-"`
	}]()},
	{"unexported chan", errFor[struct {
		ID int64 `col:"id"`
		c  chan int
	}](), mustFor[struct {
		ID int64 `col:"id"`
		c  chan int
	}]()},
	{"struct with skipped and unexported funcs", errFor[struct {
		ID int64 `col:"id"`
		S  struct {
			F func() `json:"-"`
			f func()
			N int
		} `col:"s,json"`
	}](), mustFor[struct {
		ID int64 `col:"id"`
		S  struct {
			F func() `json:"-"`
			f func()
			N int
		} `col:"s,json"`
	}]()},
	{"map with int and text keys", errFor[struct {
		ID int64              `col:"id"`
		M  map[int]string     `col:"m,json"`
		T  map[Status]float64 `col:"t,json"`
	}](), mustFor[struct {
		ID int64              `col:"id"`
		M  map[int]string     `col:"m,json"`
		T  map[Status]float64 `col:"t,json"`
	}]()},
	{"an embedded unexported non-struct", errFor[struct {
		ID int64 `col:"id"`
		S  struct {
			chanType
			N int
		} `col:"s,json"`
	}](), mustFor[struct {
		ID int64 `col:"id"`
		S  struct {
			chanType
			N int
		} `col:"s,json"`
	}]()},
	{"a marshaler", errFor[struct {
		ID int64         `col:"id"`
		N  nullMarshaler `col:"n,json"`
	}](), mustFor[struct {
		ID int64         `col:"id"`
		N  nullMarshaler `col:"n,json"`
	}]()},
	{"recursive type", errFor[struct {
		ID   int64 `col:"id"`
		Tree tree  `col:"tree,json"`
	}](), mustFor[struct {
		ID   int64 `col:"id"`
		Tree tree  `col:"tree,json"`
	}]()},
}

type (
	hiddenChan struct{ C chan int }
	hiddenFunc struct{ F func() }
	chanType   chan int
)

type tree struct {
	Kids []tree
	Up   *tree
}

func errFor[T any]() func() error {
	return func() error { _, err := Struct[T]("t", "id"); return err }
}

func mustFor[T any]() func() { return func() { MustStruct[T]("t", "id") } }

func errOf[T any](_ *Codec[T], err error) error { return err }

func TestStructRejectsTypesJSONCannotHold(t *testing.T) {
	for _, tc := range unencodable {
		err := tc.err()
		if !errors.Is(err, ErrInvalidTable) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Struct = %v, want ErrInvalidTable containing %q", tc.name, err, tc.want)
		}
		// Not "needs the JSON type", which would not help.
		if err == nil || !strings.Contains(err.Error(), "cannot be encoded as JSON") || strings.Contains(err.Error(), "needs the JSON type") {
			t.Errorf("%s: Struct = %v, want it to say the type cannot be encoded as JSON", tc.name, err)
		}
	}
	for _, tc := range encodableTypes {
		if err := tc.err(); err != nil {
			t.Errorf("%s: Struct = %v, want nil", tc.name, err)
		}
	}
}

// TestMustStructPanicsOnlyOnError checks that MustStruct panics with the
// error of Struct for the types Struct rejects, and for no other.
func TestMustStructPanicsOnlyOnError(t *testing.T) {
	recovered := func(fn func()) (r any) {
		defer func() { r = recover() }()
		fn()
		return nil
	}
	for _, tc := range unencodable {
		r := recovered(tc.must)
		if err, ok := r.(error); !ok || !errors.Is(err, ErrInvalidTable) || err.Error() != tc.err().Error() {
			t.Errorf("%s: MustStruct panicked with %v, want the error of Struct, %v", tc.name, r, tc.err())
		}
	}
	for _, tc := range encodableTypes {
		if r := recovered(tc.must); r != nil {
			t.Errorf("%s: MustStruct panicked with %v, want no panic", tc.name, r)
		}
	}
}

func TestNilPointerRows(t *testing.T) {
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}}})
	var v *Values
	var r *Row
	for _, row := range []AnyRow{v, r} {
		if _, err := c.Normalize(row); err == nil {
			t.Errorf("Normalize(%T(nil)) = nil error, want one", row)
		}
	}
	row := Row{"k": "a"}
	if vals, err := c.Normalize(&row); err != nil || vals[0] != "a" {
		t.Errorf("Normalize(&Row) = %v, %v; want the row", vals, err)
	}
}
