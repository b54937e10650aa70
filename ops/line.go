package ops

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/connectkit/connector/internal/jsonstruct"
	"github.com/connectkit/connector/schema"
)

// This file is the line format of a Dir's table logs: one JSON object
// per line, ending with "\n",
//
//	{"op":"upsert","at":"2024-05-01T10:00:00.123456789Z","row":{...}}
//
// with op one of upsert, update, delete and truncate, at the UTC time the
// operation was written (SyncedColumn) and row the row of the operation,
// absent for a truncate. The row holds the columns in declaration order,
// each value in the JSON form of its column type:
//
//	STRING, XML, DECIMAL   string ("12.50": a decimal keeps its digits)
//	BOOLEAN                true, false
//	SHORT, INT, LONG       number
//	FLOAT, DOUBLE          number (the shortest form that reads back the same)
//	NAIVE_DATE             string "2006-01-02"
//	NAIVE_DATETIME         string "2006-01-02T15:04:05.999999999"
//	UTC_DATETIME           string, RFC 3339 with nanoseconds in UTC
//	BINARY                 string, standard base64
//	JSON                   the JSON value itself, compacted
//	NULL                   null

// Layouts of the time column types in a line.
const (
	naiveDateLayout     = "2006-01-02"
	naiveDateTimeLayout = "2006-01-02T15:04:05.999999999"
)

// appendLine appends the line of an operation: kind k written at at,
// with row, the JSON object of appendRow (nil for a truncate).
func appendLine(b []byte, k Kind, at time.Time, row []byte) []byte {
	b = appendLineHead(b, k, at.UTC().AppendFormat(nil, time.RFC3339Nano), row != nil)
	b = append(b, row...)
	return append(b, lineEnd...)
}

// lineEnd ends every line, after its row if it has one.
const lineEnd = "}\n"

// appendLineHead appends the beginning of a line, up to where the row
// goes, with at the time formatted in RFC 3339 with nanoseconds in UTC;
// the row, if any, and lineEnd complete it.
func appendLineHead(b []byte, k Kind, at []byte, hasRow bool) []byte {
	b = append(b, `{"op":"`...)
	b = append(b, k.String()...)
	b = append(b, `","at":"`...)
	b = append(b, at...)
	b = append(b, '"')
	if hasRow {
		b = append(b, `,"row":`...)
	}
	return b
}

// appendRow appends the row of op, normalized for table, as a JSON
// object with the columns it carries in declaration order: every column
// of an upsert, the Set columns of an update, the key of a delete, the
// parent key of a delete of children. It fails for a value that is not
// of a canonical type or that JSON cannot carry, such as a time outside
// the years 0 to 9999.
func appendRow(b []byte, cols []schema.Column, isKey []bool, op *Op) ([]byte, error) {
	b = append(b, '{')
	n := 0
	for i, c := range cols {
		switch op.Kind {
		case OpUpdate, OpDeleteChildren:
			if op.Set != nil && !op.Set.Has(i) {
				continue
			}
		case OpDelete:
			if !isKey[i] {
				continue
			}
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, c.Name)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, c.Type, op.Row[i]); err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	return append(b, '}'), nil
}

// appendValue appends v, a canonical value of a column of type t.
func appendValue(b []byte, t schema.Type, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		return appendFloat(b, x)
	case time.Time:
		if err := checkYear(x); err != nil {
			return nil, err
		}
		layout := time.RFC3339Nano
		switch t {
		case schema.NaiveDate:
			layout = naiveDateLayout
		case schema.NaiveDateTime:
			layout = naiveDateTimeLayout
		}
		b = append(b, '"')
		b = x.UTC().AppendFormat(b, layout)
		return append(b, '"'), nil
	case []byte:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"'), nil
	case json.RawMessage:
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, x); err != nil {
			return nil, fmt.Errorf("invalid JSON value: %w", err)
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("value of type %T is not a canonical value of a %v column", v, t)
}

// appendFloat appends f as encoding/json does: the shortest form that
// reads back the same, with an exponent only for very large or small
// magnitudes.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v cannot be written as JSON", f)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 becomes 1e-7, as in encoding/json.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// appendString appends s as a JSON string without HTML escaping. Control
// characters, U+2028 and U+2029 are escaped, so a line never breaks
// inside a value; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Most text needs no escapes: jump to the next byte that may.
		if i += jsonstruct.PlainLen(s[i:]); i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, `\u00`...)
				b = append(b, hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// line is a decoded log line.
type line struct {
	op  Kind
	at  time.Time
	row json.RawMessage // the row object; nil for a truncate
}

// decodeLine decodes one log line, without its "\n". It checks the
// structure (a JSON object with a known op, a time and a row object when
// the op has one, nothing else), not the row's columns: see decodeRow.
//
// Lines as a Dir writes them take a fast path (json.Valid, then a split
// of the object's members); anything else, and every error, goes through
// encoding/json, which decides.
func decodeLine(data []byte) (line, error) {
	if l, ok := decodeLineFast(data); ok {
		return l, nil
	}
	return decodeLineSlow(data)
}

// decodeLineFast is decodeLine for a valid line of the usual shape; ok is
// false for anything else.
func decodeLineFast(data []byte) (l line, ok bool) {
	if bytes.IndexByte(data, '\n') >= 0 || !json.Valid(data) {
		return line{}, false
	}
	var op, at, row []byte
	if !eachMember(data, func(key, val []byte) bool {
		switch string(key) {
		case "op":
			op = val
		case "at":
			at = val
		case "row":
			row = val
		default:
			return false
		}
		return true
	}) {
		return line{}, false
	}
	opName, ok1 := plainString(op)
	atText, ok2 := plainString(at)
	if !ok1 || !ok2 {
		return line{}, false
	}
	k, ok := parseOp(string(opName))
	if !ok {
		return line{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(atText))
	if err != nil {
		return line{}, false
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return line{}, false
	}
	hasRow := len(row) > 0 && string(row) != "null"
	switch {
	case k.hasRow() != hasRow, !k.hasRow() && len(row) > 0, hasRow && row[0] != '{':
		return line{}, false
	}
	return line{op: k, at: t, row: row}, true
}

// decodeLineSlow is decodeLine through encoding/json.
func decodeLineSlow(data []byte) (line, error) {
	var raw struct {
		Op  *string         `json:"op"`
		At  *string         `json:"at"`
		Row json.RawMessage `json:"row"`
	}
	if bytes.IndexByte(data, '\n') >= 0 {
		return line{}, errors.New("newline inside a line")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return line{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return line{}, errors.New("data after the JSON object")
	}
	if raw.Op == nil {
		return line{}, errors.New(`no "op"`)
	}
	k, ok := parseOp(*raw.Op)
	if !ok {
		return line{}, fmt.Errorf("unknown op %q", *raw.Op)
	}
	if raw.At == nil {
		return line{}, errors.New(`no "at"`)
	}
	at, err := time.Parse(time.RFC3339Nano, *raw.At)
	if err != nil {
		return line{}, fmt.Errorf(`invalid "at": %w`, err)
	}
	at = at.UTC()
	if y := at.Year(); y < 0 || y > 9999 {
		return line{}, fmt.Errorf(`"at" %s is outside the years 0 to 9999`, *raw.At)
	}
	l := line{op: k, at: at}
	hasRow := len(raw.Row) > 0 && !bytes.Equal(raw.Row, []byte("null"))
	switch {
	case k.hasRow() && !hasRow:
		return line{}, fmt.Errorf(`%v without "row"`, k)
	case !k.hasRow() && len(raw.Row) > 0:
		return line{}, fmt.Errorf(`%v with "row"`, k)
	case hasRow:
		if raw.Row[0] != '{' {
			return line{}, errors.New(`"row" is not an object`)
		}
		l.row = raw.Row
	}
	return l, nil
}

// decodeRow decodes the row of a line of kind k into the operation it
// stored, normalized for table with [Kind.Normalize]. Numbers are read as
// json.Number, so that integers keep every digit; a JSON column keeps its
// JSON text.
func decodeRow(table *schema.Compiled, k Kind, data json.RawMessage) (Op, error) {
	if op, ok := decodeRowFast(table, k, data); ok {
		return op, nil
	}
	return decodeRowSlow(table, k, data)
}

// decodeRowFast is decodeRow for a row object of a valid line whose
// member names hold no escapes; ok is false for anything else, and for
// any error, which decodeRowSlow then reports.
func decodeRowFast(table *schema.Compiled, k Kind, data json.RawMessage) (op Op, ok bool) {
	row := make(schema.Row, len(table.Table().Columns))
	if !eachMember(data, func(key, val []byte) bool {
		col, _ := table.Column(string(key))
		v, err := decodeValue(col.Type, val)
		if err != nil {
			return false
		}
		row[string(key)] = v
		return true
	}) {
		return Op{}, false
	}
	op, err := k.Normalize(table, row)
	return op, err == nil
}

// decodeRowSlow is decodeRow through encoding/json.
func decodeRowSlow(table *schema.Compiled, k Kind, data json.RawMessage) (Op, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return Op{}, fmt.Errorf("invalid row: %w", err)
	}
	row := make(schema.Row, len(fields))
	for name, raw := range fields {
		col, _ := table.Column(name)
		v, err := decodeValue(col.Type, raw)
		if err != nil {
			return Op{}, fmt.Errorf("column %q: %w", name, err)
		}
		row[name] = v
	}
	return k.Normalize(table, row)
}

// decodeValue decodes one JSON value of a column of type t into a value
// the Normalize methods accept.
func decodeValue(t schema.Type, raw json.RawMessage) (any, error) {
	switch {
	case len(raw) == 0:
		return nil, errors.New("empty value")
	case bytes.Equal(raw, []byte("null")):
		return nil, nil
	case t == schema.JSON:
		// A copy: raw may be in a buffer the next line reuses.
		return json.RawMessage(bytes.Clone(raw)), nil
	}
	switch raw[0] {
	case '"':
		if s, ok := plainString(raw); ok {
			return string(s), nil
		}
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case 't', 'f':
		var b bool
		err := json.Unmarshal(raw, &b)
		return b, err
	case '{', '[':
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		err := dec.Decode(&v)
		return v, err
	}
	return json.Number(raw), nil
}

// eachMember calls fn with the name and the raw value of each member of
// the JSON object data, in order, until fn returns false. data should be
// valid JSON (json.Valid); eachMember returns false, without panicking,
// for anything it does not read as an object, and for a member name
// holding an escape, which the caller leaves to encoding/json.
func eachMember(data []byte, fn func(key, val []byte) bool) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return false
		}
		start := i + 1
		j := start
		for j < len(data) && data[j] != '"' && data[j] != '\\' {
			j++
		}
		if j >= len(data) || data[j] != '"' {
			return false // an escape, or the end
		}
		key := data[start:j]
		i = skipSpace(data, j+1)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		end := skipValue(data, i)
		if end <= i {
			return false
		}
		if !fn(key, data[i:end]) {
			return false
		}
		i = skipSpace(data, end)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// skipSpace returns the offset of the first byte at or after i that is
// not JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the offset just after the JSON value starting at i,
// or i if there is none.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				if j = skipString(data, j) - 1; j < 0 {
					return i
				}
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return i
	}
	j := i
	for j < len(data) && !strings.ContainsRune(",}] \t\r\n", rune(data[j])) {
		j++
	}
	return j
}

// skipString returns the offset just after the JSON string starting at
// i, or 0 if it does not end.
func skipString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return 0
}

// plainString returns the content of the JSON string raw if it holds no
// escape and is valid UTF-8, so that it is the string itself.
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	for _, c := range s {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
	}
	return s, utf8.Valid(s)
}
