package schema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// convert returns v, a non-nil value, as the canonical Go type of t. same
// reports that v already was canonical, so that out is v and the row
// need not be written. A nil out with a nil error is NULL (a nil slice or
// pointer). The error is ErrWrongType or a *causeError wrapping it.
//
// The common types go through type switches: no reflection, and no
// allocation beyond boxing a new value.
func convert(t Type, v any) (out any, same bool, err error) {
	switch t {
	case String, XML:
		if s, ok := v.(string); ok {
			if !validText(s) {
				return nil, false, errInvalidUTF8
			}
			return v, true, nil
		}
	case Boolean:
		if _, ok := v.(bool); ok {
			return v, true, nil
		}
	case Short, Int, Long:
		return toInt(t, v)
	case Float, Double:
		return toFloat(t, v)
	case Decimal:
		return toDecimal(v)
	case NaiveDate, NaiveDateTime, UTCDateTime:
		return toTime(t, v)
	case Binary:
		return toBinary(v)
	case JSON:
		return toJSON(v)
	}
	return nil, false, ErrWrongType
}

// rangeOf describes the range of a numeric type for error messages.
func rangeOf(t Type) string {
	switch t {
	case Short:
		return " [-32768, 32767]"
	case Int:
		return " [-2147483648, 2147483647]"
	case Long:
		return " [-9223372036854775808, 9223372036854775807]"
	case Float:
		return " [-3.4028234663852886e+38, 3.4028234663852886e+38]"
	case Double:
		return " [-1.7976931348623157e+308, 1.7976931348623157e+308]"
	case Decimal:
		return " (exponent beyond ±1000)"
	}
	return ""
}

// intFits reports whether n is within the range of the integer type t.
func intFits(t Type, n int64) bool {
	switch t {
	case Short:
		return n >= math.MinInt16 && n <= math.MaxInt16
	case Int:
		return n >= math.MinInt32 && n <= math.MaxInt32
	}
	return true
}

func toInt(t Type, v any) (any, bool, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		if !intFits(t, x) {
			return nil, false, outOfRange(t)
		}
		return v, true, nil
	case int:
		n = int64(x)
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, false, outOfRange(t)
		}
		n = int64(x)
	case uint8:
		n = int64(x)
	case uint16:
		n = int64(x)
	case uint32:
		n = int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return nil, false, outOfRange(t)
		}
		n = int64(x)
	case float64:
		var err error
		if n, err = floatToInt(t, x); err != nil {
			return nil, false, err
		}
	case float32:
		var err error
		if n, err = floatToInt(t, float64(x)); err != nil {
			return nil, false, err
		}
	case json.Number:
		var err error
		if n, err = numberToInt(t, string(x)); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, ErrWrongType
	}
	if !intFits(t, n) {
		return nil, false, outOfRange(t)
	}
	return n, false, nil
}

// floatToInt converts a float holding an integer; every such float in
// the range of int64 is exactly an int64.
func floatToInt(t Type, f float64) (int64, error) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, wrongType("not a finite number", nil)
	case f != math.Trunc(f):
		return 0, wrongType("not an integer", nil)
	case f < math.MinInt64 || f >= math.MaxInt64: // MaxInt64 rounds up to 2^63
		return 0, outOfRange(t)
	}
	return int64(f), nil
}

// numberToInt converts JSON number text. Text with a fraction or an
// exponent ("12.0", "1e3") goes through the exact decimal form, so that
// no digit is lost to a float.
func numberToInt(t Type, s string) (int64, error) {
	if !validNumber(s) {
		return 0, wrongType("not a JSON number", nil)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, outOfRange(t)
	}
	d, err := canonicalDecimal(s) // a fraction or an exponent
	if err != nil {
		return 0, outOfRange(t)
	}
	whole, frac := splitDecimal(d)
	for i := 0; i < len(frac); i++ {
		if frac[i] != '0' {
			return 0, wrongType("not an integer", nil)
		}
	}
	if n, err = strconv.ParseInt(whole, 10, 64); err != nil {
		return 0, outOfRange(t)
	}
	return n, nil
}

func toFloat(t Type, v any) (any, bool, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = widenFloat32(x)
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case json.Number:
		if !validNumber(string(x)) {
			return nil, false, wrongType("not a JSON number", nil)
		}
		var err error
		if f, err = strconv.ParseFloat(string(x), 64); err != nil {
			return nil, false, outOfRange(t) // the only error left is ErrRange
		}
	default:
		return nil, false, ErrWrongType
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false, wrongType("not a finite number", nil)
	}
	if t == Float && math.Abs(f) > math.MaxFloat32 {
		return nil, false, outOfRange(t)
	}
	if _, ok := v.(float64); ok {
		return v, true, nil
	}
	return f, false, nil
}

// widenFloat32 returns the float64 nearest to the shortest decimal form
// of x, which is what a float32 field means (float32(0.1) gives 0.1, not
// 0.10000000149011612); converting the result back to float32 gives x.
func widenFloat32(x float32) float64 {
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], float64(x), 'g', -1, 32)
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil { // NaN and ±Inf parse; nothing else fails
		return float64(x)
	}
	return f
}

func toDecimal(v any) (any, bool, error) {
	switch x := v.(type) {
	case string:
		d, err := canonicalDecimal(x)
		if err != nil {
			return nil, false, err
		}
		if d == x {
			return v, true, nil
		}
		return d, false, nil
	case json.Number:
		if !validNumber(string(x)) {
			return nil, false, wrongType("not a JSON number", nil)
		}
		d, err := canonicalDecimal(string(x))
		if err != nil {
			return nil, false, err
		}
		return d, false, nil
	case int:
		return strconv.FormatInt(int64(x), 10), false, nil
	case int8:
		return strconv.FormatInt(int64(x), 10), false, nil
	case int16:
		return strconv.FormatInt(int64(x), 10), false, nil
	case int32:
		return strconv.FormatInt(int64(x), 10), false, nil
	case int64:
		return strconv.FormatInt(x, 10), false, nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), false, nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), false, nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), false, nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), false, nil
	case uint64:
		return strconv.FormatUint(x, 10), false, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false, wrongType("not a finite number", nil)
		}
		return zeroSign(strconv.FormatFloat(x, 'f', -1, 64)), false, nil
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, false, wrongType("not a finite number", nil)
		}
		return zeroSign(strconv.FormatFloat(float64(x), 'f', -1, 32)), false, nil
	case *big.Int:
		if x == nil {
			return nil, false, nil
		}
		return x.String(), false, nil
	case *big.Float:
		if x == nil {
			return nil, false, nil
		}
		return bigFloatDecimal(x)
	case *big.Rat:
		if x == nil {
			return nil, false, nil
		}
		return ratDecimal(x)
	}
	return nil, false, ErrWrongType
}

// zeroSign turns "-0" into "0".
func zeroSign(s string) string {
	if s == "-0" {
		return "0"
	}
	return s
}

func bigFloatDecimal(x *big.Float) (any, bool, error) {
	if x.IsInf() {
		return nil, false, wrongType("not a finite number", nil)
	}
	if e := x.MantExp(nil); e > maxDecimalExp*4 || e < -maxDecimalExp*4 {
		return nil, false, outOfRange(Decimal)
	}
	return zeroSign(x.Text('f', -1)), false, nil
}

// ratDecimal writes x exactly, which is possible when its denominator
// has no prime factor but 2 and 5.
func ratDecimal(x *big.Rat) (any, bool, error) {
	d := new(big.Int).Set(x.Denom())
	twos := d.TrailingZeroBits()
	d.Rsh(d, twos)
	fives := uint(0)
	five, m := big.NewInt(5), new(big.Int)
	for d.Cmp(big.NewInt(1)) != 0 {
		q, r := new(big.Int).QuoRem(d, five, m)
		if r.Sign() != 0 {
			return nil, false, wrongType("not a finite decimal fraction", nil)
		}
		d = q
		fives++
		if fives > maxDecimalExp {
			return nil, false, outOfRange(Decimal)
		}
	}
	if twos > maxDecimalExp {
		return nil, false, outOfRange(Decimal)
	}
	return x.FloatString(int(max(twos, fives))), false, nil
}

// dateLayout and the others are the text forms of the date types.
const (
	dateLayout      = "2006-01-02"
	dateTimeLayout  = "2006-01-02T15:04:05"
	dateSpaceLayout = "2006-01-02 15:04:05"
)

func toTime(t Type, v any) (any, bool, error) {
	var in time.Time
	isTime := false
	switch x := v.(type) {
	case time.Time:
		in, isTime = x, true
	case string:
		var err error
		if in, err = parseTime(t, x); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, ErrWrongType
	}
	var out time.Time
	switch t {
	case NaiveDate:
		y, m, d := in.Date()
		out = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case NaiveDateTime:
		y, m, d := in.Date()
		hh, mm, ss := in.Clock()
		out = time.Date(y, m, d, hh, mm, ss, in.Nanosecond(), time.UTC)
	default:
		out = in.UTC()
	}
	// == (not Equal) also compares the location and the monotonic
	// reading, both of which the canonical form drops.
	if isTime && out == in {
		return v, true, nil
	}
	return out, false, nil
}

func parseTime(t Type, s string) (time.Time, error) {
	var layout, want string
	switch t {
	case NaiveDate:
		layout, want = dateLayout, "a date as 2006-01-02"
	case NaiveDateTime:
		layout, want = dateTimeLayout, "a date and time as 2006-01-02T15:04:05"
		if len(s) > 10 && s[10] == ' ' {
			layout = dateSpaceLayout
		}
	default:
		layout, want = time.RFC3339, "an RFC 3339 time"
	}
	tm, err := time.Parse(layout, s)
	if err != nil {
		msg := "not " + want
		if pe, ok := err.(*time.ParseError); ok && pe.Message != "" {
			msg += pe.Message // such as ": day out of range"
		}
		return time.Time{}, &causeError{msg: msg, errs: []error{ErrWrongType, err}}
	}
	return tm, nil
}

func toBinary(v any) (any, bool, error) {
	switch x := v.(type) {
	case []byte:
		if x == nil {
			return nil, false, nil
		}
		return v, true, nil
	case string:
		b, err := base64.StdEncoding.DecodeString(x)
		if err != nil {
			return nil, false, wrongType("not standard base64", err)
		}
		return b, false, nil
	}
	return nil, false, ErrWrongType
}

func toJSON(v any) (any, bool, error) {
	switch x := v.(type) {
	case json.RawMessage:
		if x == nil {
			return nil, false, nil
		}
		c, err := compactJSON(x)
		if err != nil {
			return nil, false, err
		}
		if string(c) == "null" {
			return nil, false, nil // a JSON null is NULL
		}
		if len(c) == len(x) {
			return v, true, nil
		}
		return json.RawMessage(c), false, nil
	case []byte:
		if x == nil {
			return nil, false, nil
		}
		c, err := compactJSON(x)
		if err != nil {
			return nil, false, err
		}
		if string(c) == "null" {
			return nil, false, nil
		}
		return json.RawMessage(c), false, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false, wrongType("cannot encode as JSON", err)
	}
	if err := checkDepth(b); err != nil {
		return nil, false, err
	}
	if string(b) == "null" {
		return nil, false, nil
	}
	return json.RawMessage(b), false, nil
}

// compactJSON checks JSON text (its depth, UTF-8 and syntax) and removes
// its insignificant white space,
// so that every destination stores one text for one value (a JSON Lines
// file cannot hold a newline). Text without white space comes back as is.
func compactJSON(b []byte) ([]byte, error) {
	if err := checkDepth(b); err != nil {
		return nil, err
	}
	if !utf8.Valid(b) { // encoding/json accepts it, and reads it back changed
		return nil, errInvalidUTF8
	}
	if !bytes.ContainsAny(b, " \t\r\n") {
		if !json.Valid(b) {
			return nil, wrongType("not valid JSON", nil)
		}
		return b, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, wrongType("not valid JSON", nil)
	}
	if buf.Len() == len(b) {
		return b, nil // the white space was in strings
	}
	return buf.Bytes(), nil
}

// MaxJSONDepth is the deepest nesting of arrays and objects a JSON value
// may have: a deeper one is the wrong type for a JSON column. Every
// destination and reader of this module applies the same limit, so that
// what is written can be read back (encoding/json refuses to decode
// values nested beyond 10000, and databases limit the depth too).
const MaxJSONDepth = 512

// errInvalidUTF8 rejects text that is not valid UTF-8: destinations would
// replace its bytes (JSON Lines), refuse it (Postgres) or store it as is
// (SQLite), so two keys that differ only in invalid bytes could become
// one row.
var errInvalidUTF8 = wrongType("text is not valid UTF-8", nil)

// checkDepth rejects JSON text nested deeper than MaxJSONDepth. It counts
// brackets outside strings and does not validate the text otherwise.
func checkDepth(b []byte) error {
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > MaxJSONDepth {
				return wrongType(fmt.Sprintf("JSON nested deeper than %d levels", MaxJSONDepth), nil)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}
