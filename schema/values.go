package schema

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// AnyRow is a row in one of the two forms a connector writes: a [Row],
// column names to values, convenient to build by hand, or the [Values] a
// [Codec] makes from a struct, by column position and already converted.
// The methods of [Compiled] named Normalize check either form against a
// table and return its canonical values by position, which is the form
// destinations receive.
//
// AnyRow is implemented by Row and Values only.
type AnyRow interface {
	// positional returns the row's values by position in c's columns,
	// checked and converted for mode m, and, for an update or a parent
	// key, the positions it holds (nil: every column).
	positional(c *Compiled, m mode) ([]any, ColumnSet, error)
}

// Values is a row by column position, as [Codec.Row] makes it: one
// canonical value per column of the codec's table, in declaration order.
// Pass it to a Normalize method of [Compiled] (or to a connector's
// writer) like a [Row]; use [Values.Map] to read it by name.
//
// The zero Values belongs to no table and is rejected by every Normalize
// method.
type Values struct {
	table *Compiled
	vals  []any
	err   error // the first field that could not be converted
}

// Table returns the compiled table the values belong to, nil for the zero
// Values.
func (v Values) Table() *Compiled { return v.table }

// Len returns the number of values, one per column.
func (v Values) Len() int { return len(v.vals) }

// At returns the value of the column at position i (NULL is nil).
func (v Values) At(i int) any { return v.vals[i] }

// Map returns the values as a Row keyed by column name, every column
// present (nil for NULL); nil for the zero Values and for those of a nil
// pointer, which hold no values. It shares []byte and json.RawMessage
// values with v.
func (v Values) Map() Row {
	if v.table == nil || v.vals == nil {
		return nil
	}
	row := make(Row, len(v.vals))
	for i, col := range v.table.table.Columns {
		row[col.Name] = v.vals[i]
	}
	return row
}

// Err returns the error of the first field that could not be converted to
// its column's type, which every Normalize method returns too; nil if
// every value is canonical.
func (v Values) Err() error { return v.err }

// ErrWrongTable reports [Values] given to a table other than the one
// they were made for (whose columns differ).
var ErrWrongTable = errors.New("schema: values of another table")

func (v Values) positional(c *Compiled, m mode) ([]any, ColumnSet, error) {
	switch {
	case v.table == nil:
		return nil, nil, fmt.Errorf("%w: zero Values for table %q", ErrWrongTable, c.table.Name)
	case v.table != c && !slices.Equal(v.table.table.Columns, c.table.Columns):
		return nil, nil, fmt.Errorf("%w: values of table %q given to table %q, whose columns differ", ErrWrongTable, v.table.table.Name, c.table.Name)
	case v.err != nil:
		return nil, nil, v.err
	}
	for _, i := range c.key {
		if v.vals[i] == nil {
			return nil, nil, c.errorAt(&c.table.Columns[i], nil, ErrMissingKey)
		}
	}
	switch m {
	case remove:
		for i := range v.vals {
			if !c.isKey[i] {
				v.vals[i] = nil
			}
		}
	case parent:
		return nil, nil, fmt.Errorf("schema: table %q: a parent key is given as a Row of the leading primary key columns, not as Values", c.table.Name)
	}
	return v.vals, nil, nil
}

func (r Row) positional(c *Compiled, m mode) ([]any, ColumnSet, error) {
	cols := c.table.Columns
	for _, i := range c.key {
		if r[cols[i].Name] == nil {
			if m == parent {
				break // checked below: a parent key is a prefix
			}
			return nil, nil, c.errorAt(&cols[i], nil, ErrMissingKey)
		}
	}
	vals := make([]any, len(cols))
	var set ColumnSet
	if m == update || m == parent {
		set = NewColumnSet(len(cols))
	}
	found := 0
	for i := range cols {
		col := &cols[i]
		v, ok := r[col.Name]
		if !ok {
			continue
		}
		found++
		if m == remove && !c.isKey[i] {
			continue // a delete needs the key only
		}
		if set != nil {
			set.Add(i)
		}
		if v == nil {
			continue // NULL; the key was checked above
		}
		out, _, err := convert(col.Type, v)
		if err != nil {
			return nil, nil, c.errorAt(col, v, err)
		}
		if out == nil && c.isKey[i] {
			return nil, nil, c.errorAt(col, v, ErrMissingKey)
		}
		vals[i] = out
	}
	if found != len(r) {
		return nil, nil, c.unknownColumn(r)
	}
	if m == parent {
		if err := c.checkParent(set, vals); err != nil {
			return nil, nil, err
		}
	}
	return vals, set, nil
}

// checkParent reports whether set holds exactly the first k primary key
// columns, 0 < k < len(key), each non-NULL.
func (c *Compiled) checkParent(set ColumnSet, vals []any) error {
	k := set.Len()
	if k == 0 || k >= len(c.key) {
		return fmt.Errorf("schema: table %q: a parent key holds the leading columns of the primary key (%v), not all of them: got %d columns", c.table.Name, c.table.PrimaryKey, k)
	}
	for _, i := range c.key[:k] {
		if !set.Has(i) {
			return fmt.Errorf("schema: table %q: a parent key holds the leading columns of the primary key %v; column %q is missing", c.table.Name, c.table.PrimaryKey, c.table.Columns[i].Name)
		}
		if vals[i] == nil {
			return c.errorAt(&c.table.Columns[i], nil, ErrMissingKey)
		}
	}
	return nil
}

// ColumnSet is a set of column positions, a bit set. Make one with
// [NewColumnSet]; nil is the empty set.
type ColumnSet []uint64

// NewColumnSet returns an empty set for a table of n columns.
func NewColumnSet(n int) ColumnSet { return make(ColumnSet, (n+63)/64) }

// Add adds position i, which must be below the n the set was made for.
func (s ColumnSet) Add(i int) { s[i/64] |= 1 << (i % 64) }

// Has reports whether position i is in the set.
func (s ColumnSet) Has(i int) bool { return i/64 < len(s) && s[i/64]&(1<<(i%64)) != 0 }

// Len returns the number of positions in the set.
func (s ColumnSet) Len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}
