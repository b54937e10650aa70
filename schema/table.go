package schema

// Row is one record of a table: column name to value. Its values may be
// of any Go type the column type accepts (see [Compiled.Normalize], which
// returns them by position in the canonical Go type of each column type,
// and [Compiled.Map], which turns those back into a Row). A nil value is
// NULL, allowed in every column but the primary key.
type Row map[string]any

// Column is a named, typed column.
type Column struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Table declares a destination table.
type Table struct {
	// Name is the table's name, unique within a connector.
	Name string `json:"name"`
	// PrimaryKey names the columns that identify a row; at least one.
	PrimaryKey []string `json:"primary_key"`
	// Columns are the table's typed columns, primary key included.
	Columns []Column `json:"columns"`
}
