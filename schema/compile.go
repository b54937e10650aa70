package schema

// Compiled is a validated table with an index of its columns, which
// checks rows. Compile a table once, when the connector starts, and call
// the methods of Compiled for each record.
//
// A Compiled is immutable (it holds its own copy of the table) and safe
// for concurrent use by multiple goroutines.
type Compiled struct {
	table Table
	index map[string]int // column name to position in table.Columns
	key   []int          // positions of the primary key columns, in key order
	isKey []bool         // by position: whether the column is in the key
}

// Compile validates t (see [Table.Validate]) and returns its compiled
// form. Later changes to t do not affect the result.
func (t *Table) Compile() (*Compiled, error) {
	return compile(t)
}

// Name returns the table's name.
func (c *Compiled) Name() string { return c.table.Name }

// Table returns a copy of the table c was compiled from.
func (c *Compiled) Table() Table {
	return Table{
		Name:       c.table.Name,
		PrimaryKey: append([]string(nil), c.table.PrimaryKey...),
		Columns:    append([]Column(nil), c.table.Columns...),
	}
}

// Column returns the column named name, in constant time.
func (c *Compiled) Column(name string) (Column, bool) {
	i, ok := c.index[name]
	if !ok {
		return Column{}, false
	}
	return c.table.Columns[i], true
}
