package schema

import (
	"fmt"
	"strconv"
	"time"
)

// KeyOf returns a string that identifies a row by its primary key within
// the table, from the row's values by position as the Normalize methods
// return them: two rows of the table have the same KeyOf exactly when
// their primary key values are equal. It is meant for maps and sets of
// rows, for instance to merge operations on the same row.
//
// The values should have been through a Normalize method; KeyOf does not
// check them. Each key value is written as text: a string as is, an int64
// in decimal, a bool as "true" or "false", a float64 in the shortest form
// that reads back the same (with -0 as 0), a time.Time in RFC 3339 with
// nanoseconds in UTC, and any other value with fmt; a nil value is "" for
// a one-column key and "-" in a composite key.
//
// For a one-column key that text is the result, so a STRING key is
// returned as it is, without allocating. A composite key writes each
// part as its length in bytes, a colon and the text ("1:a2:bc"), which
// can be read back only one way, so ("a|b", "c") and ("a", "b|c") differ.
// KeyPrefix of the leading key columns is a prefix of KeyOf.
func (c *Compiled) KeyOf(vals []any) string {
	if len(c.key) == 1 {
		v := vals[c.key[0]]
		if s, ok := v.(string); ok {
			return s
		}
		var buf [48]byte
		return string(appendKeyPart(buf[:0], v))
	}
	return c.KeyPrefix(vals, len(c.key))
}

// KeyPrefix returns the text of the first n primary key columns of vals
// in the form of a composite [Compiled.KeyOf], so that the rows whose
// leading key columns equal a parent's are those whose KeyOf starts with
// KeyPrefix of the parent (for a composite key).
func (c *Compiled) KeyPrefix(vals []any, n int) string {
	var buf [128]byte
	b := buf[:0]
	for _, i := range c.key[:n] {
		v := vals[i]
		if v == nil {
			b = append(b, '-')
			continue
		}
		if s, ok := v.(string); ok {
			b = strconv.AppendInt(b, int64(len(s)), 10)
			b = append(b, ':')
			b = append(b, s...)
			continue
		}
		var part [48]byte
		p := appendKeyPart(part[:0], v)
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
	}
	return string(b)
}

// appendKeyPart appends the text of one key value (not a string).
func appendKeyPart(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return b
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		if x == 0 {
			x = 0 // -0 is 0
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case time.Time:
		return x.UTC().AppendFormat(b, time.RFC3339Nano)
	}
	return fmt.Append(b, v)
}
