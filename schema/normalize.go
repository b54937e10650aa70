package schema

import "sort"

// mode selects what a row must hold.
type mode uint8

const (
	upsert mode = iota // any declared columns; absent ones are NULL
	update             // any declared columns; absent ones are unchanged
	remove             // the primary key; other declared columns are dropped
)

// Normalize checks a full row, as written by an upsert, and converts each
// value in place to the canonical Go type of its column's type (see
// [Type] and the conversions below). It returns the same map.
//
// The row must hold every primary key column, non-NULL, and no column
// the table does not declare; a column it does not hold is NULL. A nil
// value is NULL. On error the result is nil and the error is a
// [*ValueError] wrapping [ErrMissingKey], [ErrUnknownColumn] or
// [ErrWrongType]; the checks run in a fixed order (missing key first,
// then values in column order, then unknown columns), so the same row
// gives the same error.
//
// Normalize modifies row and the caller hands it over: after the call the
// row belongs to whoever Normalize's result is given to, and on error it
// may be partly converted and should be dropped. Values that are already
// canonical are kept as they are, so normalizing a normalized row does
// not allocate, and a []byte or json.RawMessage is kept, not copied.
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
//     JSON, and any other value, which is encoded with json.Marshal (so
//     the Go string "a" becomes the JSON text "\"a\"").
//
// Nil slices of the accepted types ([]byte, json.RawMessage) and nil
// *big values are NULL, as encoding/json writes them as null.
func (c *Compiled) Normalize(row Row) (Row, error) {
	return c.normalize(row, upsert)
}

// NormalizePartial checks a row for an update, which changes only the
// columns it holds, and converts it in place like [Compiled.Normalize].
// The checks are the same: the primary key is required and the other
// columns are optional; they differ in meaning, as a column the row does
// not hold is left unchanged by an update and set to NULL by an upsert.
func (c *Compiled) NormalizePartial(row Row) (Row, error) {
	return c.normalize(row, update)
}

// NormalizeKeys checks a row for a delete and converts it in place like
// [Compiled.Normalize]: the primary key is required, the declared columns
// outside it are removed from the row (a delete needs only the key), and
// a column the table does not declare is an error. The values of the
// dropped columns are not checked.
func (c *Compiled) NormalizeKeys(row Row) (Row, error) {
	return c.normalize(row, remove)
}

func (c *Compiled) normalize(row Row, m mode) (Row, error) {
	for _, i := range c.key {
		col := &c.table.Columns[i]
		if row[col.Name] == nil {
			return nil, c.errorAt(col, nil, ErrMissingKey)
		}
	}
	total, found := len(row), 0
	for i := range c.table.Columns {
		col := &c.table.Columns[i]
		v, ok := row[col.Name]
		if !ok {
			continue
		}
		found++
		if v == nil {
			continue // NULL; the key was checked above
		}
		if m == remove && !c.isKey[i] {
			continue // dropped below
		}
		out, same, err := convert(col.Type, v)
		if err != nil {
			return nil, c.errorAt(col, v, err)
		}
		if same {
			continue
		}
		if out == nil && c.isKey[i] {
			return nil, c.errorAt(col, v, ErrMissingKey)
		}
		row[col.Name] = out
	}
	if found != total {
		return nil, c.unknownColumn(row)
	}
	if m == remove && len(row) > len(c.key) {
		for i := range c.table.Columns {
			if !c.isKey[i] {
				delete(row, c.table.Columns[i].Name)
			}
		}
	}
	return row, nil
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

// Normalize compiles t and calls [Compiled.Normalize]; an invalid table
// is an error wrapping [ErrInvalidTable]. For many rows, [Table.Compile]
// once and use the result.
func (t *Table) Normalize(row Row) (Row, error) {
	c, err := compile(t)
	if err != nil {
		return nil, err
	}
	return c.Normalize(row)
}

// NormalizePartial compiles t and calls [Compiled.NormalizePartial].
func (t *Table) NormalizePartial(row Row) (Row, error) {
	c, err := compile(t)
	if err != nil {
		return nil, err
	}
	return c.NormalizePartial(row)
}

// NormalizeKeys compiles t and calls [Compiled.NormalizeKeys].
func (t *Table) NormalizeKeys(row Row) (Row, error) {
	c, err := compile(t)
	if err != nil {
		return nil, err
	}
	return c.NormalizeKeys(row)
}
