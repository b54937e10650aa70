package ops

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/schema"
)

func TestAppendValue(t *testing.T) {
	ts := time.Date(2024, 5, 1, 10, 2, 3, 450000000, time.UTC)
	for _, tc := range []struct {
		typ  schema.Type
		v    any
		want string
	}{
		{schema.String, "plain", `"plain"`},
		{schema.String, `q"b\s`, `"q\"b\\s"`},
		{schema.String, "<a&b>", `"<a&b>"`},
		{schema.String, "nl\ncr\rtab\tbell\x07del\x7f", `"nl\ncr\rtab\tbell\u0007del` + "\x7f" + `"`},
		{schema.String, "ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
		{schema.String, "bad\xffutf8", `"bad\ufffdutf8"`},
		{schema.String, "é😀", `"é😀"`},
		{schema.Boolean, true, `true`},
		{schema.Long, int64(math.MinInt64), `-9223372036854775808`},
		{schema.Double, 100.0, `100`},
		{schema.Double, 0.1, `0.1`},
		{schema.Double, 1e21, `1e+21`},
		{schema.Double, 1e20, `100000000000000000000`},
		{schema.Double, 1e-7, `1e-7`},
		{schema.Double, 1.5e-300, `1.5e-300`},
		{schema.Double, 0.000001, `0.000001`},
		{schema.Double, math.Copysign(0, -1), `-0`},
		{schema.Decimal, "-12.50", `"-12.50"`},
		{schema.NaiveDate, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), `"2024-02-29"`},
		{schema.NaiveDateTime, ts, `"2024-05-01T10:02:03.45"`},
		{schema.NaiveDateTime, ts.Truncate(time.Second), `"2024-05-01T10:02:03"`},
		{schema.UTCDateTime, ts, `"2024-05-01T10:02:03.45Z"`},
		{schema.UTCDateTime, time.Time{}, `"0001-01-01T00:00:00Z"`},
		{schema.Binary, []byte{0, 1, 0xfe, 0xff}, `"AAH+/w=="`},
		{schema.Binary, []byte{}, `""`},
		{schema.JSON, json.RawMessage(" { \"a\" : [1, 2],\n \"h\": \"<&>\" } "), `{"a":[1,2],"h":"<&>"}`},
		{schema.JSON, nil, `null`},
	} {
		got, err := appendValue([]byte("x"), tc.typ, tc.v)
		if err != nil {
			t.Errorf("appendValue(%v, %#v): %v", tc.typ, tc.v, err)
			continue
		}
		if string(got) != "x"+tc.want {
			t.Errorf("appendValue(%v, %#v) = %s, want x%s", tc.typ, tc.v, got, tc.want)
		}
		if !json.Valid(got[1:]) {
			t.Errorf("appendValue(%v, %#v) = %s is not valid JSON", tc.typ, tc.v, got[1:])
		}
	}
}

func TestAppendValueErrors(t *testing.T) {
	for _, tc := range []struct {
		typ schema.Type
		v   any
	}{
		{schema.Double, math.NaN()},
		{schema.Double, math.Inf(1)},
		{schema.UTCDateTime, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{schema.UTCDateTime, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{schema.JSON, json.RawMessage(`{`)},
		{schema.Long, 12}, // int, not the canonical int64
		{schema.String, struct{}{}},
	} {
		if got, err := appendValue(nil, tc.typ, tc.v); err == nil {
			t.Errorf("appendValue(%v, %#v) = %s, want an error", tc.typ, tc.v, got)
		}
	}
}

func TestDecodeLine(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in      string
		want    line
		wantErr string
	}{
		{in: `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":1}}`, want: line{op: OpUpsert, at: at, row: json.RawMessage(`{"id":1}`)}},
		{in: `{"row":{"id":1},"at":"2024-05-01T12:00:00+02:00","op":"delete"}`, want: line{op: OpDelete, at: at, row: json.RawMessage(`{"id":1}`)}},
		{in: ` {"op":"truncate","at":"2024-05-01T10:00:00Z"} `, want: line{op: OpTruncate, at: at}},
		{in: `{"op":"truncate","at":"2024-05-01T10:00:00Z","row":null}`, wantErr: `truncate with "row"`},
		{in: `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":null}`, wantErr: `upsert without "row"`},
		{in: `{"op":"update","at":"2024-05-01T10:00:00Z"}`, wantErr: `update without "row"`},
		{in: `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":[1]}`, wantErr: `"row" is not an object`},
		{in: `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":1}`, wantErr: "invalid JSON"},
		{in: `{"at":"2024-05-01T10:00:00Z","row":{}}`, wantErr: `no "op"`},
		{in: `{"op":"upsert","row":{}}`, wantErr: `no "at"`},
		{in: `{"op":"UPSERT","at":"2024-05-01T10:00:00Z","row":{}}`, wantErr: `unknown op "UPSERT"`},
		{in: `{"op":"upsert","at":"2024-05-01","row":{}}`, wantErr: `invalid "at"`},
		{in: `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{},"x":1}`, wantErr: "unknown field"},
		{in: `{"op":"truncate","at":"2024-05-01T10:00:00Z"}{}`, wantErr: "data after"},
		{in: `{"op":"truncate","at":"2024-05-01T10:00:00Z"}` + "\n", wantErr: "newline"},
		{in: ``, wantErr: "invalid JSON"},
		{in: `null`, wantErr: `no "op"`},
		{in: "\x00\x00", wantErr: "invalid JSON"},
	} {
		got, err := decodeLine([]byte(tc.in))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("decodeLine(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("decodeLine(%q): %v", tc.in, err)
			continue
		}
		if got.op != tc.want.op || !got.at.Equal(tc.want.at) || string(got.row) != string(tc.want.row) {
			t.Errorf("decodeLine(%q) = %v %v %s, want %v %v %s", tc.in, got.op, got.at, got.row, tc.want.op, tc.want.at, tc.want.row)
		}
	}
}

// fuzzTable has a column of every type.
var fuzzTable = func() *schema.Compiled {
	t := schema.Table{Name: "f", PrimaryKey: []string{"k"}}
	t.Columns = append(t.Columns, schema.Column{Name: "k", Type: schema.String})
	for _, typ := range schema.Types() {
		t.Columns = append(t.Columns, schema.Column{Name: strings.ToLower(typ.String()), Type: typ})
	}
	c, err := t.Compile()
	if err != nil {
		panic(err)
	}
	return c
}()

// fuzzIsKey marks the key column of fuzzTable.
var fuzzIsKey = append([]bool{true}, make([]bool, len(schema.Types()))...)

// FuzzDecodeLine checks that decoding a line, and its row through a
// table with every column type, never panics, and that what decodes
// encodes back to a line that decodes to the same operation and row.
func FuzzDecodeLine(f *testing.F) {
	for _, seed := range []string{
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"k":"a","string":"s","boolean":true,"short":1,"int":-2,"long":9223372036854775807,"float":1.5,"double":1e-7,"decimal":"12.50","naive_date":"2024-02-29","naive_datetime":"2024-05-01T10:00:00.5","utc_datetime":"2024-05-01T10:00:00.123456789Z","binary":"AAH/","json":{"a":[1,"x",null]},"xml":"<a/>"}}`,
		`{"op":"update","at":"2024-05-01T10:00:00+02:00","row":{"k":"a","double":null}}`,
		`{"op":"delete","at":"2024-05-01T10:00:00Z","row":{"k":"\u2028"}}`,
		`{"op":"truncate","at":"2024-05-01T10:00:00Z"}`,
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"k":1}}`,
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"short":99999}}`,
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"k":"a","json":"text"}}`,
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"k":"a","decimal":1e400}}`,
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"k":"a","float":1e39}}`,
		`{"op":"ups`,
		`{}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := decodeLine(data)
		if err != nil {
			return
		}
		var row []byte
		if l.row != nil {
			var buf bytes.Buffer
			if err := json.Compact(&buf, l.row); err != nil {
				t.Fatalf("a decoded row is not valid JSON: %v", err)
			}
			row = buf.Bytes()
		}
		again := appendLine(nil, l.op, l.at, row)
		l2, err := decodeLine(again[:len(again)-1])
		if err != nil {
			t.Fatalf("decodeLine(appendLine(decodeLine(%q))): %v", data, err)
		}
		if l2.op != l.op || !l2.at.Equal(l.at) || string(l2.row) != string(row) {
			t.Fatalf("line changed on re-encoding: %q became %q", data, again)
		}
		if l.row == nil {
			return
		}
		r, err := decodeRow(fuzzTable, l.op, l.row)
		if err != nil {
			return
		}
		enc, err := appendRow(nil, fuzzTable.Table().Columns, fuzzIsKey, &r)
		if err != nil {
			// Values that JSON lines cannot carry, such as times of
			// years beyond 9999, are rejected when written.
			return
		}
		r2, err := decodeRow(fuzzTable, l.op, enc)
		if err != nil {
			t.Fatalf("decodeRow(appendRow(%v)) = %s: %v", r, enc, err)
		}
		if diff := cmp.Diff(r, r2); diff != "" {
			t.Fatalf("row changed on re-encoding %s (-first +second):\n%s", enc, diff)
		}
	})
}

// FuzzScanLog checks that checking a log never panics, whatever its
// bytes and whatever coverage a journal claims, and that a log it
// accepts is accepted again with the coverage it reports.
func FuzzScanLog(f *testing.F) {
	f.Add([]byte(`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"k":"a"}}`+"\n"+`{"op":"truncate","at":"2024-05-01T10:00:00Z"}`+"\n"), int64(0), int64(0))
	f.Add([]byte(`{"op":"delete","at":"2024-05-01T10:00:00Z","row":{"k":"a"}}`+"\n"+`{"op":"ups`), int64(62), int64(1))
	f.Add([]byte("\n\n{}\n"), int64(1), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, bytes, lines int64) {
		covered := logMark{Bytes: bytes, Lines: lines}
		if bytes >= 0 && bytes <= int64(len(data)) {
			covered.CRC = crcHex(crc32.Checksum(data[:bytes], crcTable))
		}
		s, err := scanLog(strings.NewReader(string(data)), int64(len(data)), "log", fuzzTable, covered, func(*Op, time.Time) {})
		if err != nil {
			return
		}
		again, err := scanLog(strings.NewReader(string(data[:s.end])), s.end, "log", fuzzTable, s.mark, nil)
		if err != nil || again.mark != s.mark || again.torn != 0 || again.pending != 0 {
			t.Fatalf("a log accepted with coverage %+v is not accepted with the coverage it reported %+v: %v, %+v", covered, s.mark, err, again)
		}
	})
}

// FuzzFastDecode checks that the fast paths of decodeLine and decodeRow
// accept only what encoding/json accepts, with the same result.
func FuzzFastDecode(f *testing.F) {
	for _, seed := range []string{
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"k":"a","string":"s","boolean":true,"short":1,"int":-2,"long":9223372036854775807,"float":1.5,"double":1e-7,"decimal":"12.50","naive_date":"2024-02-29","naive_datetime":"2024-05-01T10:00:00.5","utc_datetime":"2024-05-01T10:00:00.123456789Z","binary":"AAH/","json":{"a":[1,"x",null]},"xml":"<a/>"}}`,
		`{"op":"update","at":"2024-05-01T10:00:00+02:00","row":{"k":"a","double":null}}`,
		`{"op":"delete","at":"2024-05-01T10:00:00Z","row":{"k":"\u2028"}}`,
		`{"op":"delete_children","at":"2024-05-01T10:00:00Z","row":{"k":"a"}}`,
		` {"row" : {"k" : "a" , "k" : "b"} , "at":"2024-05-01T10:00:00Z", "op":"upsert"} `,
		`{"op":"truncate","at":"2024-05-01T10:00:00Z","row":null}`,
		`{"OP":"truncate","at":"2024-05-01T10:00:00Z"}`,
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"k":"a","json":"{\"x\":[1]}","string":"q\"\\"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodeLineFast(data)
		slow, err := decodeLineSlow(data)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refused it: %v", data, err)
		}
		if fast.op != slow.op || !fast.at.Equal(slow.at) || string(fast.row) != string(slow.row) {
			t.Fatalf("%q: fast path %v %v %s, encoding/json %v %v %s", data, fast.op, fast.at, fast.row, slow.op, slow.at, slow.row)
		}
		if fast.row == nil {
			return
		}
		fop, ok := decodeRowFast(fuzzTable, fast.op, fast.row)
		sop, err := decodeRowSlow(fuzzTable, fast.op, fast.row)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("fast path accepted the row %s, encoding/json refused it: %v", fast.row, err)
		}
		if diff := cmp.Diff(sop, fop); diff != "" {
			t.Fatalf("row %s decoded differently (-encoding/json +fast):\n%s", fast.row, diff)
		}
	})
}

// appendString writes every string as JSON that reads back as the same
// string (invalid UTF-8 as U+FFFD), with no raw control character, U+2028
// or U+2029, wherever such bytes fall around its eight-byte steps.
func TestAppendStringAnywhere(t *testing.T) {
	for n := range 20 {
		for _, odd := range []string{"\"", "\\", "\n", "\x00", "\x1f", "\t", "é", "\u2028", "\u2029", "\xff", "\U0001F600", "<&>"} {
			for at := 0; at <= n; at++ {
				s := strings.Repeat("a", at) + odd + strings.Repeat("b", n-at)
				out := appendString(nil, s)
				var back string
				if err := json.Unmarshal(out, &back); err != nil {
					t.Fatalf("appendString(%q) = %s, not JSON: %v", s, out, err)
				}
				if want := strings.ToValidUTF8(s, "\uFFFD"); back != want {
					t.Errorf("appendString(%q) = %s, reads back as %q", s, out, back)
				}
				if bytes.ContainsFunc(out, func(r rune) bool { return r < 0x20 || r == '\u2028' || r == '\u2029' }) {
					t.Errorf("appendString(%q) = %q holds a raw line break or control character", s, out)
				}
			}
		}
	}
}
