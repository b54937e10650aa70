package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// FuzzNormalize builds rows of the every-type table from fuzzed values and
// checks that Normalize never panics, fails only with a *ValueError, and
// is idempotent: normalizing a normalized row changes nothing.
func FuzzNormalize(f *testing.F) {
	f.Add("k", int64(1), 1.5, []byte(`{"a":1}`), uint32(0xffff))
	f.Add("2024-02-29", int64(-32769), math.Copysign(0, -1), []byte("AQI="), uint32(0x3fff))
	f.Add("-12.50e-3", int64(1<<40), 3.4e38, []byte{0xff}, uint32(0x5555))
	f.Add("2024-03-01T10:20:30.5+02:00", int64(0), 1e300, []byte(nil), uint32(0xaaaa))
	f.Add("", int64(-1<<63), 0.1, []byte("null"), uint32(0x10000))
	f.Add("AQI=", int64(32767), 2.0, []byte(`"x"`), uint32(0x7fff0001))
	f.Add("1e1001", int64(1<<31), -1e-300, []byte("[1,"), uint32(0x7ffe))
	c := mustCompile(f, allTypes)
	cols := allTypes.Columns[1:]
	f.Fuzz(func(t *testing.T, s string, n int64, x float64, b []byte, sel uint32) {
		values := []any{
			s, n, x, b, json.Number(s), int(n), float32(x), uint64(n), n%2 == 0,
			json.RawMessage(b), time.Unix(n%(1<<40), n%1e9).In(tokyo), int16(n), nil,
		}
		row := Row{"id": s}
		if sel&(1<<16) != 0 {
			row["id"] = values[int(sel>>17)%len(values)]
		}
		for i, col := range cols {
			if sel&(1<<i) != 0 {
				row[col.Name] = values[(i+int(sel>>24))%len(values)]
			}
		}
		// Decimal text keeps its value exactly.
		if d, err := canonicalDecimal(s); err == nil {
			var in, out big.Rat
			if _, ok := in.SetString(s); ok {
				if _, ok := out.SetString(d); !ok || in.Cmp(&out) != 0 {
					t.Fatalf("canonicalDecimal(%q) = %q, a different number", s, d)
				}
			}
		}
		got, err := normRow(c, row)
		if err != nil {
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Table != "all" || ve.Error() == "" {
				t.Fatalf("Normalize(%v) = %v, want a *ValueError", row, err)
			}
			return
		}
		_ = keyOf(c, got)
		again, err := normRow(c, copyRow(got))
		if err != nil {
			t.Fatalf("Normalize(Normalize(row)) = %v for %v", err, got)
		}
		if diff := cmp.Diff(got, again, strictTime); diff != "" {
			t.Fatalf("Normalize is not idempotent (-first +second):\n%s", diff)
		}
	})
}

// fuzzRec has a column for each way Codec.Row loads a field: direct
// loads that still check (text, floats, uint64) and general conversions.
type fuzzRec struct {
	K   string          `col:"k"`
	S   *string         `col:"s"`
	X   Status          `col:"x,xml"`
	D   string          `col:"d,decimal"`
	T   string          `col:"t,utc_datetime"`
	F32 float32         `col:"f32"`
	F   float64         `col:"f"`
	FF  float64         `col:"ff,float"`
	U   uint64          `col:"u,long"`
	I   int64           `col:"i,short"`
	R   json.RawMessage `col:"r"`
	B   []byte          `col:"b"`
	BJ  []byte          `col:"bj,json"`
	A   any             `col:"a,json"`
}

// FuzzCodecRow checks that Codec.Row then Normalize gives what Normalize
// gives for the same values written as a Row: the same values, or the
// same error.
func FuzzCodecRow(f *testing.F) {
	f.Add("k", []byte(`{"a": 1}`), 1.5, int64(1), uint8(0))
	f.Add("k\xff", []byte("null"), math.NaN(), int64(-1), uint8(1))
	f.Add("-12.50e-3", []byte("[1,"), 3.5e38, int64(1<<40), uint8(2))
	f.Add("2024-03-01T10:20:30.5+02:00", []byte(nil), math.Inf(1), int64(32768), uint8(3))
	f.Add("\xed\xa0\x80", []byte("\"\xff\""), 1e-46, int64(-1<<63), uint8(255))
	codec := MustStruct[fuzzRec]("fuzz", "k")
	c := codec.Compiled()
	f.Fuzz(func(t *testing.T, s string, b []byte, x float64, n int64, sel uint8) {
		v := fuzzRec{K: s, X: Status(s), D: "0", T: "2024-01-01T00:00:00Z", F32: float32(x), F: x, FF: x,
			U: uint64(n), I: n, R: json.RawMessage(b), B: b, BJ: b, A: s}
		if sel&1 != 0 {
			v.S = &s
		}
		if sel&2 != 0 {
			v.D = s
		}
		if sel&4 != 0 {
			v.T = s
		}
		if sel&8 != 0 {
			v.A = json.Number(s)
		}
		row := Row{"k": v.K, "x": string(v.X), "d": v.D, "t": v.T, "f32": v.F32, "f": v.F, "ff": v.FF,
			"u": v.U, "i": v.I, "r": v.R, "b": v.B, "bj": v.BJ, "a": v.A, "s": nil}
		if v.S != nil {
			row["s"] = *v.S
		}
		got, gotErr := c.Normalize(codec.Row(&v))
		want, wantErr := c.Normalize(row)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("Normalize(Codec.Row(%+v)) = %v; Normalize(%v) = %v", v, gotErr, row, wantErr)
		}
		if gotErr != nil {
			var g, w *ValueError
			if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || g.Column != w.Column || !errors.Is(gotErr, ErrWrongType) {
				t.Fatalf("Normalize(Codec.Row(%+v)) = %v; Normalize(%v) = %v; want the same column's ErrWrongType", v, gotErr, row, wantErr)
			}
			return
		}
		if diff := cmp.Diff(want, got, strictTime); diff != "" {
			t.Fatalf("Codec.Row differs from Normalize of the same values (-row +codec):\n%s", diff)
		}
	})
}

// jsonDepth returns the deepest nesting of arrays and objects in b, a
// valid JSON text, as encoding/json reads it.
func jsonDepth(b []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // a float64 cannot hold 1e400
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return deepest, nil
		}
		if err != nil {
			return 0, err
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// FuzzNormalizeJSON checks that a JSON column accepts exactly the valid
// JSON texts in valid UTF-8 nested at most MaxJSONDepth deep, and that what it accepts
// is compact and reads back. The text is the fuzzed bytes inside wrap
// arrays, so that small inputs (quick to minimize) reach the limit.
func FuzzNormalizeJSON(f *testing.F) {
	f.Add([]byte(`{"a": [1, 2, {"b": null}]}`), uint16(0))
	f.Add([]byte(" null "), uint16(0))
	f.Add([]byte(`"[[[\"{{"`), uint16(MaxJSONDepth))
	f.Add([]byte(`{"a":[]}`), uint16(MaxJSONDepth-2))
	f.Add([]byte(`{"a":[]}`), uint16(MaxJSONDepth-1))
	f.Add([]byte("\"\xff\""), uint16(1))
	f.Add([]byte("]]["), uint16(3))
	f.Add([]byte("1e400"), uint16(3))
	c := mustCompile(f, Table{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}, {"j", JSON}}})
	f.Fuzz(func(t *testing.T, in []byte, wrap uint16) {
		n := int(wrap) % (MaxJSONDepth + 8)
		b := make([]byte, 0, len(in)+2*n)
		b = append(append(append(b, strings.Repeat("[", n)...), in...), strings.Repeat("]", n)...)
		vals, err := c.Normalize(Row{"k": "a", "j": json.RawMessage(b)})
		depth, derr := jsonDepth(b)
		valid := json.Valid(b) && utf8.Valid(b) && derr == nil && depth <= MaxJSONDepth
		if valid != (err == nil) {
			t.Fatalf("Normalize(%q) = %v; valid JSON %v, valid UTF-8 %v, depth %d (%v)", b, err, json.Valid(b), utf8.Valid(b), depth, derr)
		}
		if err != nil {
			if !errors.Is(err, ErrWrongType) {
				t.Fatalf("Normalize(%q) = %v, want ErrWrongType", b, err)
			}
			return
		}
		if vals[1] == nil {
			if !bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
				t.Fatalf("Normalize(%q) = NULL, want a value", b)
			}
			return
		}
		out := vals[1].(json.RawMessage)
		var compact bytes.Buffer
		if err := json.Compact(&compact, out); err != nil || !bytes.Equal(compact.Bytes(), out) {
			t.Fatalf("Normalize(%q) = %q, not compact JSON (%v)", b, out, err)
		}
		// Numbers are read as text, as a float64 cannot hold 1e400.
		decode := func(b []byte) (v any, err error) {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			err = dec.Decode(&v)
			return v, err
		}
		want, err := decode(b)
		if err != nil {
			t.Fatal(err)
		}
		// reflect, not cmp, which diffs nested slices in exponential time.
		if back, err := decode(out); err != nil || !reflect.DeepEqual(want, back) {
			t.Fatalf("Normalize(%q) = %q, which reads back as %v (%v), want %v", b, out, back, err, want)
		}
	})
}
