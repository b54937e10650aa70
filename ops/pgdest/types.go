package pgdest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/connectkit/connector/schema"
)

// pgTypes are the Postgres column types by schema type, as format_type
// names them (which is how Prepare compares them).
var pgTypes = [...]string{
	schema.String:        "text",
	schema.Boolean:       "boolean",
	schema.Short:         "smallint",
	schema.Int:           "integer",
	schema.Long:          "bigint",
	schema.Float:         "double precision",
	schema.Double:        "double precision",
	schema.Decimal:       "numeric",
	schema.NaiveDate:     "date",
	schema.NaiveDateTime: "timestamp without time zone",
	schema.UTCDateTime:   "timestamp with time zone",
	schema.Binary:        "bytea",
	schema.JSON:          "json",
	schema.XML:           "text",
}

// ColumnType returns the Postgres type of a column of type t, as the
// package documentation lists them ("timestamp with time zone" for
// UTC_DATETIME), or "" for an invalid type.
func ColumnType(t schema.Type) string {
	if !t.Valid() {
		return ""
	}
	return pgTypes[t]
}

// The ranges Postgres holds: days and microseconds since 2000-01-01, from
// 4714-11-24 BC (Julian day 0) to the end of 5874897 AD for dates and of
// 294276 AD for timestamps.
const (
	pgEpochUnix  = 946684800 // 2000-01-01 in Unix seconds
	minDateDays  = -2451545
	endDateDays  = 2147483494 - 2451545
	minTimestamp = -211813488000000000
	endTimestamp = 9223371331200000000
)

// errValue wraps the errors of values Postgres cannot hold.
var errValue = errors.New("value Postgres cannot hold")

// appendValue appends the binary COPY field (length and bytes) of v, a
// canonical value of type t or nil for NULL.
func appendValue(b []byte, t schema.Type, v any) ([]byte, error) {
	if v == nil {
		return binary.BigEndian.AppendUint32(b, math.MaxUint32), nil // -1: NULL
	}
	switch t {
	case schema.String, schema.XML:
		s, ok := v.(string)
		if !ok {
			break
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("%w: text with a NUL byte (a %v value may not hold U+0000 in Postgres)", errValue, t)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		return append(b, s...), nil
	case schema.Boolean:
		x, ok := v.(bool)
		if !ok {
			break
		}
		b = binary.BigEndian.AppendUint32(b, 1)
		if x {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case schema.Short, schema.Int, schema.Long:
		n, ok := v.(int64)
		if !ok {
			break
		}
		switch t {
		case schema.Short:
			b = binary.BigEndian.AppendUint32(b, 2)
			return binary.BigEndian.AppendUint16(b, uint16(int16(n))), nil
		case schema.Int:
			b = binary.BigEndian.AppendUint32(b, 4)
			return binary.BigEndian.AppendUint32(b, uint32(int32(n))), nil
		}
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(n)), nil
	case schema.Float, schema.Double:
		f, ok := v.(float64)
		if !ok {
			break
		}
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f)), nil
	case schema.Decimal:
		s, ok := v.(string)
		if !ok {
			break
		}
		return appendNumeric(b, s)
	case schema.NaiveDate:
		tm, ok := v.(time.Time)
		if !ok {
			break
		}
		sec := tm.Unix() - pgEpochUnix
		days := sec / 86400
		if sec%86400 < 0 {
			days--
		}
		if days < minDateDays || days >= endDateDays {
			return nil, fmt.Errorf("%w: date %s is outside 4714-11-24 BC to 5874897-12-31", errValue, tm.Format("2006-01-02"))
		}
		b = binary.BigEndian.AppendUint32(b, 4)
		return binary.BigEndian.AppendUint32(b, uint32(int32(days))), nil
	case schema.NaiveDateTime, schema.UTCDateTime:
		tm, ok := v.(time.Time)
		if !ok {
			break
		}
		us, err := micros(tm)
		if err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(us)), nil
	case schema.Binary:
		x, ok := v.([]byte)
		if !ok {
			break
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
		return append(b, x...), nil
	case schema.JSON:
		var x []byte
		switch j := v.(type) {
		case json.RawMessage:
			x = j
		case []byte:
			x = j
		default:
			return nil, fmt.Errorf("%w: %T for a %v column", schema.ErrWrongType, v, t)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
		return append(b, x...), nil
	default:
		return nil, fmt.Errorf("invalid column type %v", t)
	}
	return nil, fmt.Errorf("%w: %T for a %v column", schema.ErrWrongType, v, t)
}

// micros returns tm as microseconds since 2000-01-01 UTC, truncating the
// nanoseconds (Postgres keeps microseconds).
func micros(tm time.Time) (int64, error) {
	sec := tm.Unix()
	if sec < minTimestamp/1e6+pgEpochUnix || sec >= endTimestamp/1e6+pgEpochUnix {
		return 0, fmt.Errorf("%w: time %s is outside 4714-11-24 BC to 294276-12-31", errValue, tm.Format(time.RFC3339))
	}
	return (sec-pgEpochUnix)*1e6 + int64(tm.Nanosecond()/1000), nil
}

// Limits of the numeric type: digits before and after the point.
const (
	maxNumericWhole = 131072
	maxNumericScale = 16383
)

// appendNumeric appends the binary numeric field of a canonical decimal
// ("-12.50"): base-10000 digit groups, the weight of the first, the sign
// and the display scale, which keeps the trailing zeros of the fraction.
func appendNumeric(b []byte, s string) ([]byte, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > maxNumericWhole || len(frac) > maxNumericScale {
		return nil, fmt.Errorf("%w: decimal with %d digits before the point and %d after; numeric holds at most %d and %d",
			errValue, len(whole), len(frac), maxNumericWhole, maxNumericScale)
	}
	for _, c := range []byte(whole + frac) {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("%w: %q is not a canonical decimal", schema.ErrWrongType, s)
		}
	}
	wholeGroups := (len(whole) + 3) / 4
	fracGroups := (len(frac) + 3) / 4
	digits := make([]int16, 0, wholeGroups+fracGroups)
	// Whole part: groups of 4 from the point leftwards, so the first
	// group may be short.
	first := len(whole) - (wholeGroups-1)*4
	for i := 0; i < wholeGroups; i++ {
		lo, hi := 0, first
		if i > 0 {
			lo, hi = first+(i-1)*4, first+i*4
		}
		digits = append(digits, group(whole[lo:hi], false))
	}
	for i := 0; i < fracGroups; i++ {
		hi := min(len(frac), (i+1)*4)
		digits = append(digits, group(frac[i*4:hi], true))
	}
	weight := wholeGroups - 1
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		weight--
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	sign := uint16(0)
	if neg && len(digits) > 0 {
		sign = 0x4000
	}
	if len(digits) == 0 {
		weight = 0
	}
	b = binary.BigEndian.AppendUint32(b, uint32(8+2*len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(len(frac)))
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, uint16(d))
	}
	return b, nil
}

// group returns the value of up to 4 decimal digits; a short fraction
// group is padded with zeros on the right.
func group(s string, frac bool) int16 {
	n := 0
	for _, c := range []byte(s) {
		n = n*10 + int(c-'0')
	}
	if frac {
		for range 4 - len(s) {
			n *= 10
		}
	}
	return int16(n)
}

// readExpr returns the expression that selects column q (quoted) of type
// t for decodeValue: numeric and json as text, whose exact form pgx's
// scanning into any would not keep.
func readExpr(q string, t schema.Type) string {
	switch t {
	case schema.Decimal, schema.JSON:
		return q + "::text"
	}
	return q
}

// decodeValue converts a value pgx scanned from the expression of
// readExpr back to the canonical Go value of t.
func decodeValue(t schema.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case schema.String, schema.XML, schema.Decimal:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case schema.Boolean:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case schema.Short, schema.Int, schema.Long:
		switch n := v.(type) {
		case int16:
			return int64(n), nil
		case int32:
			return int64(n), nil
		case int64:
			return n, nil
		}
	case schema.Float, schema.Double:
		switch f := v.(type) {
		case float32: // a real column made by hand
			return float64(f), nil
		case float64:
			return f, nil
		}
	case schema.NaiveDate, schema.NaiveDateTime:
		if tm, ok := v.(time.Time); ok {
			y, m, d := tm.Date()
			hh, mm, ss := tm.Clock()
			if t == schema.NaiveDate {
				return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
			}
			return time.Date(y, m, d, hh, mm, ss, tm.Nanosecond(), time.UTC), nil
		}
	case schema.UTCDateTime:
		if tm, ok := v.(time.Time); ok {
			return tm.UTC(), nil
		}
	case schema.Binary:
		if x, ok := v.([]byte); ok {
			return append([]byte{}, x...), nil
		}
	case schema.JSON:
		if s, ok := v.(string); ok {
			var buf bytes.Buffer
			if err := json.Compact(&buf, []byte(s)); err != nil {
				return nil, fmt.Errorf("invalid JSON in a %v column: %w", t, err)
			}
			return json.RawMessage(buf.Bytes()), nil
		}
	}
	return nil, fmt.Errorf("%T %v in a %v column", v, v, t)
}
