package schema

import (
	"fmt"
	"sort"
)

// mode selects what a row must hold.
type mode uint8

const (
	upsert mode = iota // any declared columns; absent ones are NULL
	update             // any declared columns; absent ones are unchanged
	remove             // the primary key; other declared columns are dropped
	parent             // the leading primary key columns, naming a parent
)

// Normalize checks a full row, as written by an upsert, and returns its
// values by column position, each converted to the canonical Go type of
// its column's type (see [Type] and the conversions below); a column the
// row does not hold is NULL (nil).
//
// row is a [Row] or the [Values] of a [Codec]. A Row must hold every
// primary key column, non-NULL, and no column the table does not declare.
// A nil value is NULL. On error the result is nil and the error is a
// [*ValueError] wrapping [ErrMissingKey], [ErrUnknownColumn] or
// [ErrWrongType] (or an error wrapping [ErrWrongTable] for Values of
// another table); the checks run in a fixed order (missing key first,
// then values in column order, then unknown columns), so the same row
// gives the same error. Values were converted by their Codec: only their
// key is checked again, in constant time per column.
//
// The caller hands row over: Normalize may return the Values' own slice,
// and keeps []byte and json.RawMessage values without copying them.
//
// Accepted values per column type, with the canonical type in brackets;
// the Go types are exact, so a named type such as type Status string is
// the wrong type here ([Codec.Row] reads those by their underlying type):
//
//   - STRING, XML [string]: string only.
//   - BOOLEAN [bool]: bool only.
//   - SHORT, INT, LONG [int64]: every int and uint kind, json.Number, and
//     float64 or float32 holding an integer; checked against the range of
//     int16, int32 and int64. Numeric text is the wrong type.
//   - FLOAT [float64 within float32 range], DOUBLE [float64]: float and
//     int kinds and json.Number. NaN and ±Inf are rejected, since JSON,
//     which many destinations write, cannot carry them. A float32 becomes
//     the float64 of its shortest decimal form (float32(0.1) gives 0.1).
//     Integers beyond 2^53 are rounded.
//   - DECIMAL [string]: decimal text as "-12.50" or "1.5e3", json.Number,
//     int kinds, finite floats, *big.Int, *big.Float and *big.Rat with a
//     finite decimal expansion. The result is plain decimal text: an
//     optional "-", the integer digits without leading zeros, and the
//     fraction as given (its trailing zeros are kept, as they carry the
//     scale); "+1.0" gives "1.0", ".5" gives "0.5", "-0" gives "0",
//     "1.50e1" gives "15.0". Exponents beyond ±1000 are out of range.
//   - NAIVE_DATE [time.Time at midnight UTC]: time.Time (its date in its
//     own location) or text "2006-01-02".
//   - NAIVE_DATETIME [time.Time in UTC]: time.Time (its wall clock in its
//     own location, the location dropped) or text "2006-01-02T15:04:05"
//     with optional fractional seconds, or with a space for the "T".
//   - UTC_DATETIME [time.Time in UTC]: time.Time (the same instant) or
//     RFC 3339 text with optional fractional seconds. The zero time.Time
//     is a value, not NULL.
//   - BINARY [[]byte]: []byte, or text in standard base64 with padding,
//     which is how encoding/json carries bytes.
//   - JSON [json.RawMessage]: json.RawMessage or []byte holding valid
//     JSON in valid UTF-8, and any other value, which is encoded with json.Marshal (so
//     the Go string "a" becomes the JSON text "\"a\"").
//
// Nil slices of the accepted types ([]byte, json.RawMessage) and nil
// *big values are NULL, as encoding/json writes them as null.
func (c *Compiled) Normalize(row AnyRow) ([]any, error) {
	vals, _, err := c.normalize(row, upsert)
	return vals, err
}

// NormalizePartial checks a row for an update, which changes only the
// columns it holds, and returns its values by position like
// [Compiled.Normalize], with the set of positions it holds (nil for
// Values, which hold every column). The checks are the same: the primary
// key is required and the other columns are optional; they differ in
// meaning, as a column the row does not hold is left unchanged by an
// update and set to NULL by an upsert.
func (c *Compiled) NormalizePartial(row AnyRow) ([]any, ColumnSet, error) {
	return c.normalize(row, update)
}

// NormalizeKeys checks a row for a delete and returns the values of its
// primary key columns by position, the other positions nil: a delete
// needs only the key. A column the table does not declare is an error;
// the values of the other declared columns of a Row are not checked
// (Values that carry a conversion error are rejected, as by every
// method).
func (c *Compiled) NormalizeKeys(row AnyRow) ([]any, error) {
	vals, _, err := c.normalize(row, remove)
	return vals, err
}

// NormalizeParent checks the key of a parent row, as a child table's
// rows refer to it: a Row holding exactly the first k columns of the
// primary key, 0 < k < len(PrimaryKey), each non-NULL. It returns their
// values by position and the set of their positions. A child table keyed
// by (issue_id, label) has parents keyed by issue_id.
func (c *Compiled) NormalizeParent(row Row) ([]any, ColumnSet, error) {
	return c.normalize(row, parent)
}

func (c *Compiled) normalize(row AnyRow, m mode) ([]any, ColumnSet, error) {
	switch r := row.(type) {
	case nil:
		return nil, nil, c.errorAt(&c.table.Columns[c.key[0]], nil, ErrMissingKey)
	case *Values: // pointers have the methods too
		if r == nil {
			return nil, nil, fmt.Errorf("%w: nil *Values for table %q", ErrWrongTable, c.table.Name)
		}
		row = *r
	case *Row:
		if r == nil {
			return nil, nil, c.errorAt(&c.table.Columns[c.key[0]], nil, ErrMissingKey)
		}
		row = *r
	}
	return row.positional(c, m)
}

// Map returns the values by position vals, as the Normalize methods
// return them, as a Row keyed by column name. With set nil every column
// is in the Row (NULL as nil); otherwise only the positions in set are.
func (c *Compiled) Map(vals []any, set ColumnSet) Row {
	row := make(Row, len(c.table.Columns))
	for i, col := range c.table.Columns {
		if i < len(vals) && (set == nil || set.Has(i)) {
			row[col.Name] = vals[i]
		}
	}
	return row
}

func (c *Compiled) errorAt(col *Column, v any, err error) error {
	return &ValueError{Table: c.table.Name, Column: col.Name, Value: v, Type: col.Type, Err: err}
}

// unknownColumn reports the first, in sorted order, of the row's columns
// the table does not declare.
func (c *Compiled) unknownColumn(row Row) error {
	var names []string
	for name := range row {
		if _, ok := c.index[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return &ValueError{Table: c.table.Name, Column: names[0], Value: row[names[0]], Err: ErrUnknownColumn}
}
