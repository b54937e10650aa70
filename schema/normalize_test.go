package schema

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// strictTime compares times with ==, which also checks the location and
// the monotonic reading: canonical times are in UTC without one.
var strictTime = cmp.Comparer(func(a, b time.Time) bool { return a == b })

// allTypes has a STRING key and one column of each type, named by type.
var allTypes = Table{
	Name:       "all",
	PrimaryKey: []string{"id"},
	Columns: []Column{
		{"id", String}, {"string", String}, {"boolean", Boolean},
		{"short", Short}, {"int", Int}, {"long", Long},
		{"float", Float}, {"double", Double}, {"decimal", Decimal},
		{"naive_date", NaiveDate}, {"naive_datetime", NaiveDateTime},
		{"utc_datetime", UTCDateTime}, {"binary", Binary}, {"json", JSON},
		{"xml", XML},
	},
}

func mustCompile(t testing.TB, tbl Table) *Compiled {
	t.Helper()
	c, err := tbl.Compile()
	if err != nil {
		t.Fatalf("Compile(%s) = %v", tbl.Name, err)
	}
	return c
}

func date(y int, m time.Month, d, hh, mm, ss, ns int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, ns, time.UTC)
}

var tokyo = time.FixedZone("JST", 9*3600)

// convCase is a value for one column: the canonical result, or the
// error it must match.
type convCase struct {
	col  string
	in   any
	want any
	err  error
}

func convCases() []convCase {
	now := time.Now() // with a monotonic clock reading, which is dropped
	return []convCase{
		// STRING, XML, BOOLEAN: only their own Go type.
		{col: "string", in: "x", want: "x"},
		{col: "string", in: "", want: ""},
		{col: "string", in: 12, err: ErrWrongType},
		{col: "string", in: []byte("x"), err: ErrWrongType},
		{col: "string", in: json.Number("1"), err: ErrWrongType},
		{col: "xml", in: "<a/>", want: "<a/>"},
		{col: "xml", in: 1, err: ErrWrongType},
		{col: "boolean", in: true, want: true},
		{col: "boolean", in: "true", err: ErrWrongType},
		{col: "boolean", in: 1, err: ErrWrongType},

		// SHORT
		{col: "short", in: 32767, want: int64(32767)},
		{col: "short", in: 32768, err: strconv.ErrRange},
		{col: "short", in: -32768, want: int64(-32768)},
		{col: "short", in: int64(-32769), err: strconv.ErrRange},
		{col: "short", in: int8(-5), want: int64(-5)},
		{col: "short", in: uint8(255), want: int64(255)},
		{col: "short", in: uint16(40000), err: strconv.ErrRange},
		{col: "short", in: float64(12), want: int64(12)},
		{col: "short", in: float32(3), want: int64(3)},
		{col: "short", in: 12.5, err: ErrWrongType},
		{col: "short", in: json.Number("7"), want: int64(7)},
		{col: "short", in: json.Number("7.0"), want: int64(7)},
		{col: "short", in: json.Number("1e2"), want: int64(100)},
		{col: "short", in: json.Number("1e5"), err: strconv.ErrRange},
		{col: "short", in: "12", err: ErrWrongType},
		{col: "short", in: math.NaN(), err: ErrWrongType},

		// INT
		{col: "int", in: int64(math.MaxInt32), want: int64(math.MaxInt32)},
		{col: "int", in: int64(math.MaxInt32) + 1, err: strconv.ErrRange},
		{col: "int", in: int32(math.MinInt32), want: int64(math.MinInt32)},
		{col: "int", in: uint32(math.MaxUint32), err: strconv.ErrRange},

		// LONG
		{col: "long", in: int64(math.MaxInt64), want: int64(math.MaxInt64)},
		{col: "long", in: uint64(math.MaxInt64), want: int64(math.MaxInt64)},
		{col: "long", in: uint64(math.MaxInt64) + 1, err: strconv.ErrRange},
		{col: "long", in: uint(math.MaxUint), err: strconv.ErrRange},
		{col: "long", in: float64(1 << 63), err: strconv.ErrRange},
		{col: "long", in: float64(-1 << 63), want: int64(math.MinInt64)},
		{col: "long", in: 1.5, err: ErrWrongType},
		{col: "long", in: math.Inf(1), err: ErrWrongType},
		{col: "long", in: json.Number("9223372036854775808"), err: strconv.ErrRange},
		{col: "long", in: json.Number("-9223372036854775808"), want: int64(math.MinInt64)},
		{col: "long", in: json.Number("9007199254740993.0"), want: int64(9007199254740993)},
		{col: "long", in: json.Number("12.5"), err: ErrWrongType},
		{col: "long", in: json.Number("1e19"), err: strconv.ErrRange},
		{col: "long", in: json.Number("1e9999"), err: strconv.ErrRange},
		{col: "long", in: json.Number("abc"), err: ErrWrongType},
		{col: "long", in: json.Number("01"), err: ErrWrongType},
		{col: "long", in: json.Number("+1"), err: ErrWrongType},
		{col: "long", in: true, err: ErrWrongType},

		// FLOAT
		{col: "float", in: 1.5, want: 1.5},
		{col: "float", in: float32(0.1), want: 0.1},
		{col: "float", in: 3, want: float64(3)},
		{col: "float", in: float64(math.MaxFloat32), want: float64(math.MaxFloat32)},
		{col: "float", in: math.MaxFloat32 * 2, err: strconv.ErrRange},
		{col: "float", in: -math.MaxFloat32 * 2, err: strconv.ErrRange},
		{col: "float", in: math.NaN(), err: ErrWrongType},
		{col: "float", in: float32(math.Inf(-1)), err: ErrWrongType},
		{col: "float", in: json.Number("1e39"), err: strconv.ErrRange},
		{col: "float", in: json.Number("2.5"), want: 2.5},
		{col: "float", in: "1.5", err: ErrWrongType},

		// DOUBLE
		{col: "double", in: 1e300, want: 1e300},
		{col: "double", in: json.Number("1e400"), err: strconv.ErrRange},
		{col: "double", in: json.Number("-0.5"), want: -0.5},
		{col: "double", in: json.Number("x"), err: ErrWrongType},
		{col: "double", in: int64(1<<53 + 1), want: float64(1 << 53)},
		{col: "double", in: uint64(math.MaxUint64), want: float64(math.MaxUint64)},
		{col: "double", in: math.Inf(-1), err: ErrWrongType},
		{col: "double", in: "1", err: ErrWrongType},

		// DECIMAL
		{col: "decimal", in: "-12.50", want: "-12.50"},
		{col: "decimal", in: "0", want: "0"},
		{col: "decimal", in: "+1.0", want: "1.0"},
		{col: "decimal", in: "007.5", want: "7.5"},
		{col: "decimal", in: ".5", want: "0.5"},
		{col: "decimal", in: "-.5", want: "-0.5"},
		{col: "decimal", in: "5.", want: "5"},
		{col: "decimal", in: "-0.00", want: "0.00"},
		{col: "decimal", in: "1.5e3", want: "1500"},
		{col: "decimal", in: "1.50e1", want: "15.0"},
		{col: "decimal", in: "1E-2", want: "0.01"},
		{col: "decimal", in: "-2.5e-3", want: "-0.0025"},
		{col: "decimal", in: "0e5", want: "0"},
		{col: "decimal", in: "1e1000", want: "1" + strings.Repeat("0", 1000)},
		{col: "decimal", in: "1e1001", err: strconv.ErrRange},
		{col: "decimal", in: "1e-99999999999999999999", err: strconv.ErrRange},
		{col: "decimal", in: "", err: ErrWrongType},
		{col: "decimal", in: "-", err: ErrWrongType},
		{col: "decimal", in: ".", err: ErrWrongType},
		{col: "decimal", in: "abc", err: ErrWrongType},
		{col: "decimal", in: "1.2.3", err: ErrWrongType},
		{col: "decimal", in: "1e", err: ErrWrongType},
		{col: "decimal", in: "e5", err: ErrWrongType},
		{col: "decimal", in: "--1", err: ErrWrongType},
		{col: "decimal", in: " 1", err: ErrWrongType},
		{col: "decimal", in: "1 ", err: ErrWrongType},
		{col: "decimal", in: "1_000", err: ErrWrongType},
		{col: "decimal", in: "1,5", err: ErrWrongType},
		{col: "decimal", in: "NaN", err: ErrWrongType},
		{col: "decimal", in: "Inf", err: ErrWrongType},
		{col: "decimal", in: "0x10", err: ErrWrongType},
		{col: "decimal", in: json.Number("12.30"), want: "12.30"},
		{col: "decimal", in: json.Number("+1"), err: ErrWrongType},
		{col: "decimal", in: -42, want: "-42"},
		{col: "decimal", in: uint64(math.MaxUint64), want: "18446744073709551615"},
		{col: "decimal", in: 0.1, want: "0.1"},
		{col: "decimal", in: 1e21, want: "1000000000000000000000"},
		{col: "decimal", in: math.Copysign(0, -1), want: "0"},
		{col: "decimal", in: float32(0.1), want: "0.1"},
		{col: "decimal", in: math.NaN(), err: ErrWrongType},
		{col: "decimal", in: big.NewInt(-7), want: "-7"},
		{col: "decimal", in: big.NewRat(1, 8), want: "0.125"},
		{col: "decimal", in: big.NewRat(-5, 1), want: "-5"},
		{col: "decimal", in: big.NewRat(1, 3), err: ErrWrongType},
		{col: "decimal", in: big.NewFloat(2.5), want: "2.5"},
		{col: "decimal", in: new(big.Float).SetInf(false), err: ErrWrongType},
		{col: "decimal", in: (*big.Int)(nil), want: nil},
		{col: "decimal", in: true, err: ErrWrongType},

		// NAIVE_DATE
		{col: "naive_date", in: "2024-02-29", want: date(2024, 2, 29, 0, 0, 0, 0)},
		{col: "naive_date", in: "2023-02-29", err: ErrWrongType},
		{col: "naive_date", in: "2024-2-1", err: ErrWrongType},
		{col: "naive_date", in: "2024-02-01T00:00:00", err: ErrWrongType},
		{col: "naive_date", in: "", err: ErrWrongType},
		{col: "naive_date", in: time.Date(2024, 3, 1, 1, 0, 0, 0, tokyo), want: date(2024, 3, 1, 0, 0, 0, 0)},
		{col: "naive_date", in: date(2024, 3, 1, 23, 59, 59, 1), want: date(2024, 3, 1, 0, 0, 0, 0)},
		{col: "naive_date", in: time.Time{}, want: time.Time{}},
		{col: "naive_date", in: 20240301, err: ErrWrongType},

		// NAIVE_DATETIME
		{col: "naive_datetime", in: "2024-03-01T10:20:30", want: date(2024, 3, 1, 10, 20, 30, 0)},
		{col: "naive_datetime", in: "2024-03-01 10:20:30.123456789", want: date(2024, 3, 1, 10, 20, 30, 123456789)},
		{col: "naive_datetime", in: "2024-03-01T10:20:30.5", want: date(2024, 3, 1, 10, 20, 30, 5e8)},
		{col: "naive_datetime", in: "2024-03-01T10:20:30Z", err: ErrWrongType},
		{col: "naive_datetime", in: "2024-03-01T25:00:00", err: ErrWrongType},
		{col: "naive_datetime", in: "2024-03-01", err: ErrWrongType},
		{col: "naive_datetime", in: time.Date(2024, 3, 1, 1, 2, 3, 4, tokyo), want: date(2024, 3, 1, 1, 2, 3, 4)},

		// UTC_DATETIME
		{col: "utc_datetime", in: "2024-03-01T10:20:30Z", want: date(2024, 3, 1, 10, 20, 30, 0)},
		{col: "utc_datetime", in: "2024-03-01T10:20:30.5+02:00", want: date(2024, 3, 1, 8, 20, 30, 5e8)},
		{col: "utc_datetime", in: "2024-03-01T10:20:30", err: ErrWrongType},
		{col: "utc_datetime", in: "2024-03-01", err: ErrWrongType},
		{col: "utc_datetime", in: "yesterday", err: ErrWrongType},
		{col: "utc_datetime", in: time.Date(2024, 3, 1, 1, 0, 0, 0, tokyo), want: date(2024, 2, 29, 16, 0, 0, 0)},
		{col: "utc_datetime", in: time.Time{}, want: time.Time{}},
		{col: "utc_datetime", in: now, want: now.Round(0).UTC()},
		{col: "naive_datetime", in: now.UTC(), want: now.Round(0).UTC()},
		{col: "utc_datetime", in: int64(1700000000), err: ErrWrongType},

		// BINARY
		{col: "binary", in: []byte{1, 2}, want: []byte{1, 2}},
		{col: "binary", in: "AQI=", want: []byte{1, 2}},
		{col: "binary", in: "", want: []byte{}},
		{col: "binary", in: "AQI", err: ErrWrongType},
		{col: "binary", in: "!!!!", err: ErrWrongType},
		{col: "binary", in: []byte(nil), want: nil},
		{col: "binary", in: json.RawMessage("{}"), err: ErrWrongType},
		{col: "binary", in: 5, err: ErrWrongType},

		// JSON
		{col: "json", in: json.RawMessage(`{"a":1}`), want: json.RawMessage(`{"a":1}`)},
		{col: "json", in: json.RawMessage(` [1, 2] `), want: json.RawMessage(`[1,2]`)},          // compacted
		{col: "json", in: []byte("{\"a b\": \" x \"}"), want: json.RawMessage(`{"a b":" x "}`)}, // spaces in strings stay,
		{col: "json", in: json.RawMessage(`{`), err: ErrWrongType},
		{col: "json", in: json.RawMessage("\"\xff\""), err: ErrWrongType}, // invalid UTF-8
		{col: "json", in: []byte(`[1,2]`), want: json.RawMessage(`[1,2]`)},
		{col: "json", in: []byte("nope"), err: ErrWrongType},
		{col: "json", in: "a", want: json.RawMessage(`"a"`)},
		{col: "json", in: map[string]any{"a": 1}, want: json.RawMessage(`{"a":1}`)},
		{col: "json", in: []int{1, 2}, want: json.RawMessage(`[1,2]`)},
		{col: "json", in: 12, want: json.RawMessage(`12`)},
		{col: "json", in: math.NaN(), err: ErrWrongType},
		{col: "json", in: make(chan int), err: ErrWrongType},
		{col: "json", in: json.RawMessage(nil), want: nil},
	}
}

func TestNormalizeTypes(t *testing.T) {
	c := mustCompile(t, allTypes)
	for _, tc := range convCases() {
		row := Row{"id": "k", tc.col: tc.in}
		got, err := normRow(c, row)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !errors.Is(err, ErrWrongType) {
				t.Errorf("Normalize(%s: %#v) = %v, want error matching %v", tc.col, tc.in, err, tc.err)
				continue
			}
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Errorf("Normalize(%s: %#v) error %T is not a *ValueError", tc.col, tc.in, err)
				continue
			}
			col, _ := c.Column(tc.col)
			if ve.Table != "all" || ve.Column != tc.col || ve.Type != col.Type {
				t.Errorf("Normalize(%s: %#v) error = %+v, want table all, column %s, type %v", tc.col, tc.in, ve, tc.col, col.Type)
			}
			if _, ok := ve.Value.(chan int); !ok && ve.Value != nil && !(isNaN(ve.Value)) {
				if diff := cmp.Diff(tc.in, ve.Value, cmp.Comparer(func(a, b *big.Float) bool { return a.Cmp(b) == 0 }), cmp.Comparer(func(a, b *big.Rat) bool { return a.Cmp(b) == 0 })); diff != "" {
					t.Errorf("Normalize(%s: %#v) error value differs (-want +got):\n%s", tc.col, tc.in, diff)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("Normalize(%s: %#v) = %v, want %#v", tc.col, tc.in, err, tc.want)
			continue
		}
		if diff := cmp.Diff(Row{"id": "k", tc.col: tc.want}, got, strictTime); diff != "" {
			t.Errorf("Normalize(%s: %#v) mismatch (-want +got):\n%s", tc.col, tc.in, diff)
		}
		// The result is canonical: normalizing it again changes nothing.
		again, err := normRow(c, copyRow(got))
		if err != nil {
			t.Errorf("Normalize(Normalize(%s: %#v)) = %v", tc.col, tc.in, err)
		} else if diff := cmp.Diff(got, again, strictTime); diff != "" {
			t.Errorf("Normalize is not idempotent for %s: %#v (-first +second):\n%s", tc.col, tc.in, diff)
		}
	}
}

func isNaN(v any) bool {
	f, ok := v.(float64)
	return ok && math.IsNaN(f)
}

func copyRow(r Row) Row {
	out := make(Row, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

// TestNormalizeTypesAccepted checks every type has accepted and rejected
// cases, so that a new type is not left untested.
func TestNormalizeTypesCovered(t *testing.T) {
	ok, bad := map[string]bool{}, map[string]bool{}
	for _, tc := range convCases() {
		if tc.err == nil {
			ok[tc.col] = true
		} else {
			bad[tc.col] = true
		}
	}
	for _, col := range allTypes.Columns[1:] {
		if !ok[col.Name] || !bad[col.Name] {
			t.Errorf("column %s (%v): accepted cases %v, rejected cases %v; want both", col.Name, col.Type, ok[col.Name], bad[col.Name])
		}
	}
}

func TestNormalizeValuesAreNotCopied(t *testing.T) {
	type item struct {
		ID   string `col:"id"`
		Name string `col:"name"`
	}
	codec := MustStruct[item]("item", "id")
	row := codec.Row(&item{"k", "a"})
	got, err := codec.Compiled().Normalize(row)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &row.vals[0] {
		t.Errorf("Normalize copied the Values of a Codec; want them handed over as they are")
	}
}

func TestNormalizeNullAllowedOutsideKey(t *testing.T) {
	c := mustCompile(t, allTypes)
	row := Row{"id": "k"}
	for _, col := range allTypes.Columns[1:] {
		row[col.Name] = nil
	}
	want := copyRow(row)
	got, err := normRow(c, row)
	if err != nil {
		t.Fatalf("Normalize(all NULL) = %v, want nil", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize(all NULL) mismatch (-want +got):\n%s", diff)
	}
}

// keyed has a composite key of an INT and a DECIMAL column.
var keyed = Table{
	Name:       "line",
	PrimaryKey: []string{"order", "amount"},
	Columns:    []Column{{"order", Int}, {"amount", Decimal}, {"note", String}},
}

func TestNormalizeErrors(t *testing.T) {
	c := mustCompile(t, keyed)
	tests := []struct {
		name   string
		fn     func(Row) (Row, error)
		row    Row
		err    error
		column string
		value  any
	}{
		{"missing key", rowFn(c, upsert), Row{"amount": "1"}, ErrMissingKey, "order", nil},
		{"null key", rowFn(c, upsert), Row{"order": 1, "amount": nil}, ErrMissingKey, "amount", nil},
		{"typed nil key", rowFn(c, upsert), Row{"order": 1, "amount": (*big.Int)(nil)}, ErrMissingKey, "amount", (*big.Int)(nil)},
		{"nil row", rowFn(c, upsert), nil, ErrMissingKey, "order", nil},
		{"unknown column", rowFn(c, upsert), Row{"order": 1, "amount": "1", "zz": 1, "nope": "x"}, ErrUnknownColumn, "nope", "x"},
		{"wrong key type", rowFn(c, upsert), Row{"order": "1", "amount": "1"}, ErrWrongType, "order", "1"},
		{"key out of range", rowFn(c, upsert), Row{"order": int64(1) << 40, "amount": "1"}, strconv.ErrRange, "order", int64(1) << 40},
		{"wrong value type", rowFn(c, upsert), Row{"order": 1, "amount": "1", "note": 3}, ErrWrongType, "note", 3},
		{"partial missing key", rowFn(c, update), Row{"note": "x"}, ErrMissingKey, "order", nil},
		{"partial unknown", rowFn(c, update), Row{"order": 1, "amount": "1", "x": 1}, ErrUnknownColumn, "x", 1},
		{"partial wrong type", rowFn(c, update), Row{"order": 1, "amount": "1", "note": false}, ErrWrongType, "note", false},
		{"keys missing key", rowFn(c, remove), Row{"order": 1}, ErrMissingKey, "amount", nil},
		{"keys unknown", rowFn(c, remove), Row{"order": 1, "amount": "1", "x": 1}, ErrUnknownColumn, "x", 1},
		{"keys wrong key", rowFn(c, remove), Row{"order": 1, "amount": "x"}, ErrWrongType, "amount", "x"},
	}
	for _, tc := range tests {
		got, err := tc.fn(tc.row)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: Normalize(%v) = %v, %v; want error matching %v", tc.name, tc.row, got, err, tc.err)
			continue
		}
		if got != nil {
			t.Errorf("%s: Normalize(%v) returned row %v with an error; want nil", tc.name, tc.row, got)
		}
		var ve *ValueError
		if !errors.As(err, &ve) {
			t.Errorf("%s: error %T is not a *ValueError", tc.name, err)
			continue
		}
		if ve.Table != "line" || ve.Column != tc.column || ve.Value != tc.value {
			t.Errorf("%s: error = {Table: %q, Column: %q, Value: %#v}, want {line, %q, %#v}", tc.name, ve.Table, ve.Column, ve.Value, tc.column, tc.value)
		}
	}
}

func TestNormalizePartialAndKeys(t *testing.T) {
	c := mustCompile(t, keyed)
	got, err := normMode(c, update, Row{"order": int32(7), "amount": "+2.50"})
	if want := (Row{"order": int64(7), "amount": "2.50"}); err != nil || !cmp.Equal(got, want) {
		t.Errorf("NormalizePartial = %v, %v; want %v", got, err, want)
	}
	row := Row{"order": 7, "amount": "2.50", "note": 12} // note is dropped unchecked
	got, err = normMode(c, remove, row)
	if want := (Row{"order": int64(7), "amount": "2.50"}); err != nil || !cmp.Equal(got, want) {
		t.Errorf("NormalizeKeys = %v, %v; want %v", got, err, want)
	}
	got, err = normMode(c, remove, Row{"order": 7, "amount": "2.50", "note": nil})
	if want := (Row{"order": int64(7), "amount": "2.50"}); err != nil || !cmp.Equal(got, want) {
		t.Errorf("NormalizeKeys with NULL note = %v, %v; want %v", got, err, want)
	}
}

func TestNormalizeCanonicalDoesNotAllocate(t *testing.T) {
	c := mustCompile(t, allTypes)
	row := Row{
		"id": "k", "string": "s", "boolean": true, "short": int64(1000), "int": int64(1 << 20),
		"long": int64(1 << 40), "float": 1.5, "double": 2.5, "decimal": "-1.50",
		"naive_date": date(2024, 1, 2, 0, 0, 0, 0), "naive_datetime": date(2024, 1, 2, 3, 4, 5, 6),
		"utc_datetime": date(2024, 1, 2, 3, 4, 5, 6), "binary": []byte{1}, "json": json.RawMessage(`{}`),
		"xml": "<a/>",
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Normalize(row); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Errorf("Normalize of a canonical row allocates %v times, want 1 (the values)", allocs)
	}
}

func TestValueErrorMessage(t *testing.T) {
	user := mustCompile(t, userTable)
	long := strings.Repeat("é", 40) // 80 bytes
	tests := []struct {
		row  Row
		want string
	}{
		{Row{"id": 12}, `schema: table "user", column "id": value 12 (int): want STRING`},
		{Row{"name": "x"}, `schema: table "user", column "id": primary key column is missing or null`},
		{Row{"id": "1", "nmae": "Ann"}, `schema: table "user", column "nmae": not a column of the table (value "Ann" (string))`},
		{Row{"id": "1", "updatedAt": "2024-13-01T00:00:00Z"}, `schema: table "user", column "updatedAt": value "2024-13-01T00:00:00Z" (string): want UTC_DATETIME: not an RFC 3339 time: month out of range`},
		{Row{"id": "1", "createdAt": long}, ""},
		{Row{"id": []byte(strings.Repeat("a", 100))}, ""},
	}
	for _, tc := range tests {
		_, err := user.Normalize(tc.row)
		if err == nil {
			t.Errorf("Normalize(%v) = nil error", tc.row)
			continue
		}
		if tc.want != "" && err.Error() != tc.want {
			t.Errorf("Normalize(%v) error =\n%s\nwant\n%s", tc.row, err, tc.want)
		}
		if len(err.Error()) > 200 {
			t.Errorf("Normalize(%v) error is %d bytes, want long values cut: %s", tc.row, len(err.Error()), err)
		}
	}
	// Ranges name the limits, and the long value is cut on a rune boundary.
	c := mustCompile(t, allTypes)
	_, err := normRow(c, Row{"id": "k", "short": 40000})
	if want := `schema: table "all", column "short": value 40000 (int): want SHORT: out of range for SHORT [-32768, 32767]`; err == nil || err.Error() != want {
		t.Errorf("Normalize(short 40000) error = %v, want %s", err, want)
	}
	_, err = normRow(c, Row{"id": "k", "short": long})
	if want := `value "` + strings.Repeat("é", 32) + `"... (string): want SHORT`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Normalize(short long string) error = %v, want it to contain %s", err, want)
	}
	if e := (&ValueError{Table: "t", Column: "c", Value: 1, Err: ErrUnknownTable}); e.Error() != `schema: table "t", column "c": value 1 (int): schema: unknown table` {
		t.Errorf("ValueError with another sentinel = %q", e.Error())
	}
}
