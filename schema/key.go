package schema

import (
	"fmt"
	"strconv"
	"time"
)

// KeyOf returns a string that identifies the row by its primary key
// within the table: two normalized rows of the table have the same KeyOf
// exactly when their primary key values are equal. It is meant for maps
// and sets of rows, for instance to merge operations on the same row.
//
// The row should have been through a Normalize method; KeyOf does not
// check it. Each key value is written as text: a string as is, an int64
// in decimal, a bool as "true" or "false", a float64 in the shortest form
// that reads back the same (with -0 as 0), a time.Time in RFC 3339 with
// nanoseconds in UTC, and any other value with fmt; an absent or nil
// value is "" for a one-column key and "-" in a composite key.
//
// For a one-column key that text is the result, so a STRING key is
// returned as it is, without allocating. A composite key writes each
// part as its length in bytes, a colon and the text ("1:a2:bc"), which
// can be read back only one way, so ("a|b", "c") and ("a", "b|c") differ.
// One-column and composite results never need to differ: every row of a
// table has the same number of key columns, and a key is only unique
// within its table.
func (c *Compiled) KeyOf(row Row) string {
	return keyOf(c.table.PrimaryKey, row)
}

// KeyOf is [Compiled.KeyOf] on t's primary key. It does not validate t.
func (t *Table) KeyOf(row Row) string {
	return keyOf(t.PrimaryKey, row)
}

func keyOf(key []string, row Row) string {
	if len(key) == 1 {
		v := row[key[0]]
		if s, ok := v.(string); ok {
			return s
		}
		var buf [48]byte
		return string(appendKeyPart(buf[:0], v))
	}
	var buf [128]byte
	b := buf[:0]
	for _, name := range key {
		v := row[name]
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
