package schema

import (
	"strings"
	"unicode/utf8"
)

// reservedColumns are the system columns destinations add beside a
// table's own columns (ops.SyncedColumn and ops.DeletedColumn; listed here
// because ops imports this package). They are compared ignoring case,
// since some destinations fold the case of column names.
var reservedColumns = [...]string{"_connector_synced", "_connector_deleted"}

// Validate checks the table definition: a non-empty name in valid UTF-8; at least one
// primary key column; non-empty, unique column names in valid UTF-8 (compared exactly),
// none of them a reserved system column (_connector_synced,
// _connector_deleted, in any case); a valid type for every column; and
// primary key names that are distinct, declared columns, none of type
// BINARY or JSON. The error wraps [ErrInvalidTable] and names the first
// problem found.
func (t *Table) Validate() error {
	_, err := compile(t)
	return err
}

// Column returns the column named name. It scans the columns, which for
// a table of a few dozen columns is as fast as a map; [Compiled.Column]
// looks the name up in an index built once by [Table.Compile].
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// compile validates t and builds its index. It is the one place that
// decides whether a table is valid.
func compile(t *Table) (*Compiled, error) {
	if t.Name == "" {
		return nil, invalidTable(t.Name, "table name is empty")
	}
	if !utf8.ValidString(t.Name) {
		return nil, invalidTable(t.Name, "table name is not valid UTF-8")
	}
	if len(t.PrimaryKey) == 0 {
		return nil, invalidTable(t.Name, "no primary key column")
	}
	c := &Compiled{
		table: Table{
			Name:       t.Name,
			PrimaryKey: append([]string(nil), t.PrimaryKey...),
			Columns:    append([]Column(nil), t.Columns...),
		},
		index: make(map[string]int, len(t.Columns)),
		key:   make([]int, 0, len(t.PrimaryKey)),
		isKey: make([]bool, len(t.Columns)),
	}
	for i, col := range t.Columns {
		switch {
		case col.Name == "":
			return nil, invalidTable(t.Name, "column %d has an empty name", i)
		case !utf8.ValidString(col.Name):
			return nil, invalidTable(t.Name, "column %q is not valid UTF-8", col.Name)
		case !col.Type.Valid():
			return nil, invalidTable(t.Name, "column %q has invalid type %v", col.Name, col.Type)
		case isReserved(col.Name):
			return nil, invalidTable(t.Name, "column %q is a reserved system column", col.Name)
		}
		if _, dup := c.index[col.Name]; dup {
			return nil, invalidTable(t.Name, "column %q is declared twice", col.Name)
		}
		c.index[col.Name] = i
	}
	for _, name := range t.PrimaryKey {
		i, ok := c.index[name]
		if !ok {
			return nil, invalidTable(t.Name, "primary key column %q is not a declared column", name)
		}
		if c.isKey[i] {
			return nil, invalidTable(t.Name, "primary key column %q is listed twice", name)
		}
		if typ := t.Columns[i].Type; typ == Binary || typ == JSON {
			return nil, invalidTable(t.Name, "primary key column %q has type %v, which cannot be a key", name, typ)
		}
		c.isKey[i] = true
		c.key = append(c.key, i)
	}
	return c, nil
}

func isReserved(name string) bool {
	for _, r := range reservedColumns {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}
