package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Type is the type of a [Value]: how it compares and how it is written.
type Type uint8

// The types of a Value. The zero Value has no type.
const (
	// TypeTime is an instant, compared chronologically whatever its time
	// zone: updatedAt columns.
	TypeTime Type = iota + 1
	// TypeInt is a signed 64-bit integer, compared numerically: numeric
	// ids, sequence numbers, versions, unix timestamps.
	TypeInt
	// TypeString is text, compared byte by byte: string ids, ULIDs,
	// zero-padded keys.
	TypeString
)

// String returns "time", "int" or "string", the key a Value is written
// under.
func (t Type) String() string {
	switch t {
	case TypeTime:
		return "time"
	case TypeInt:
		return "int"
	case TypeString:
		return "string"
	}
	return "none"
}

// Value is a typed position value: the cursor or the tie-breaker of a
// [Mark]. It compares by its own type, so that numeric ids compare as
// numbers ("999999999" before "1000000000") and times as instants. Build
// one with [Time], [Int] or [String]. The zero Value is "none", before
// every other value.
//
// A Value is written in JSON as an object naming its type:
//
//	{"time": "2024-05-01T10:00:00Z"}
//	{"int": 1000000000}
//	{"string": "cus_Q2x"}
type Value struct {
	typ Type
	t   time.Time
	n   int64
	s   string
}

// Time returns the Value of the instant t. It keeps t's instant, not its
// location: Time(t).Time() is t in UTC.
func Time(t time.Time) Value { return Value{typ: TypeTime, t: t.UTC()} }

// Int returns the Value of the integer n.
func Int(n int64) Value { return Value{typ: TypeInt, n: n} }

// String returns the Value of the text s.
func String(s string) Value { return Value{typ: TypeString, s: s} }

// Type returns v's type; zero for the zero Value.
func (v Value) Type() Type { return v.typ }

// IsZero reports whether v is the zero Value, which holds nothing. Time
// of the zero time.Time, Int(0) and String("") are not zero Values.
func (v Value) IsZero() bool { return v.typ == 0 }

// Time returns the instant of a [TypeTime] value in UTC, and the zero
// time for any other.
func (v Value) Time() time.Time {
	if v.typ != TypeTime {
		return time.Time{}
	}
	return v.t
}

// Int returns the integer of a [TypeInt] value, and 0 for any other.
func (v Value) Int() int64 {
	if v.typ != TypeInt {
		return 0
	}
	return v.n
}

// Text returns the text of a [TypeString] value, and "" for any other.
// (String describes any Value for logs.)
func (v Value) Text() string {
	if v.typ != TypeString {
		return ""
	}
	return v.s
}

// Compare returns -1, 0 or +1 as v is before, equal to or after o. Values
// of one type compare by that type: times chronologically, integers
// numerically, strings byte by byte. The zero Value is before every
// other. Values of two different types compare by their types alone
// (time before int before string), an order that is fixed but means
// nothing: a Mark's values should have one type per position, which
// [Value.As] converts an old value to.
func (v Value) Compare(o Value) int {
	if v.typ != o.typ {
		if v.typ < o.typ {
			return -1
		}
		return 1
	}
	switch v.typ {
	case TypeTime:
		return v.t.Compare(o.t)
	case TypeInt:
		switch {
		case v.n < o.n:
			return -1
		case v.n > o.n:
			return 1
		}
		return 0
	case TypeString:
		return strings.Compare(v.s, o.s)
	}
	return 0
}

// Equal reports whether v and o are the same value of the same type (for
// times, the same instant). go-cmp uses it to compare states.
func (v Value) Equal(o Value) bool { return v.Compare(o) == 0 }

// ErrType reports a value that cannot be converted to the type asked
// for, such as a mark written as text that is not an integer.
var ErrType = errors.New("state: value of another type")

// As returns v converted to type t, for a mark checkpointed before its
// cursor's type was declared (the marks of version 1 documents hold their
// ids as strings): a string holding a decimal integer becomes an Int, an
// integer becomes its decimal text, and a string in RFC 3339 becomes a
// Time. The zero Value, and a value already of type t, are returned as
// they are. Anything else is an error wrapping [ErrType].
func (v Value) As(t Type) (Value, error) {
	if v.typ == 0 || v.typ == t {
		return v, nil
	}
	switch {
	case v.typ == TypeString && t == TypeInt:
		n, err := strconv.ParseInt(strings.TrimSpace(v.s), 10, 64)
		if err == nil {
			return Int(n), nil
		}
	case v.typ == TypeInt && t == TypeString:
		return String(strconv.FormatInt(v.n, 10)), nil
	case v.typ == TypeString && t == TypeTime:
		tm, err := time.Parse(time.RFC3339Nano, v.s)
		if err == nil {
			return Time(tm), nil
		}
	}
	return Value{}, fmt.Errorf("%w: %s cannot be read as %s", ErrType, v, t)
}

// String describes v for logs: "2024-05-01T10:00:00Z", "1000000000",
// a quoted string, or "none" for the zero Value.
func (v Value) String() string {
	switch v.typ {
	case TypeTime:
		return v.t.Format(time.RFC3339Nano)
	case TypeInt:
		return strconv.FormatInt(v.n, 10)
	case TypeString:
		return strconv.Quote(v.s)
	}
	return "none"
}

// MarshalJSON writes v as an object with one key, its type: {"time":
// "2024-05-01T10:00:00Z"}, {"int": 42} or {"string": "a"}. The zero Value
// is null.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.typ {
	case TypeTime:
		if y := v.t.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("state: time %v outside the years 0 to 9999 cannot be written", v.t)
		}
		return []byte(`{"time":"` + v.t.Format(time.RFC3339Nano) + `"}`), nil
	case TypeInt:
		return []byte(`{"int":` + strconv.FormatInt(v.n, 10) + `}`), nil
	case TypeString:
		s, err := json.Marshal(v.s)
		if err != nil {
			return nil, err
		}
		return append(append([]byte(`{"string":`), s...), '}'), nil
	}
	return []byte("null"), nil
}

// UnmarshalJSON reads what MarshalJSON writes, strictly: exactly one of
// the keys "time" (RFC 3339 text), "int" (an integer within 64 bits,
// written as a JSON number) and "string", or null for the zero Value.
// Anything else is an error wrapping [ErrCorrupt].
func (v *Value) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*v = Value{}
		return nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%w: value: %w", ErrCorrupt, err)
	}
	if len(doc) != 1 {
		return fmt.Errorf(`%w: value %s: want exactly one of "time", "int" and "string"`, ErrCorrupt, b)
	}
	for k, raw := range doc {
		switch k {
		case "time":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("%w: time value %s: %w", ErrCorrupt, raw, err)
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fmt.Errorf("%w: time value %s: %w", ErrCorrupt, raw, err)
			}
			*v = Time(t)
		case "int":
			n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
			if err != nil {
				return fmt.Errorf("%w: int value %s: not an integer within 64 bits", ErrCorrupt, raw)
			}
			*v = Int(n)
		case "string":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("%w: string value %s: %w", ErrCorrupt, raw, err)
			}
			*v = String(s)
		default:
			return fmt.Errorf(`%w: value of unknown type %q: want "time", "int" or "string"`, ErrCorrupt, k)
		}
	}
	return nil
}
