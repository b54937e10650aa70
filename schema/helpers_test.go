package schema

// The tests of the Normalize methods compare rows by name: these wrap
// the positional methods so that a result holds the columns its input
// held (nil for NULL), as a Row.

// normRow is Normalize for a Row, its result as a Row of the columns the
// input held.
func normRow(c *Compiled, row Row) (Row, error) { return normMode(c, upsert, row) }

// normMode is the Normalize method of mode m for row, as a Row.
func normMode(c *Compiled, m mode, row Row) (Row, error) {
	if row == nil {
		_, _, err := c.normalize(nil, m)
		return nil, err
	}
	present := NewColumnSet(len(c.table.Columns))
	for name := range row {
		if i, ok := c.index[name]; ok {
			present.Add(i)
		}
	}
	vals, _, err := c.normalize(row, m)
	if err != nil {
		return nil, err
	}
	if m == remove {
		present = NewColumnSet(len(c.table.Columns))
		for _, i := range c.key {
			present.Add(i)
		}
	}
	return c.Map(vals, present), nil
}

// rowFn returns normMode for mode m as a function of a Row.
func rowFn(c *Compiled, m mode) func(Row) (Row, error) {
	return func(r Row) (Row, error) { return normMode(c, m, r) }
}

// keyOf is KeyOf of a Row.
func keyOf(c *Compiled, row Row) string {
	vals := make([]any, len(c.table.Columns))
	for name, v := range row {
		if i, ok := c.index[name]; ok {
			vals[i] = v
		}
	}
	return c.KeyOf(vals)
}
