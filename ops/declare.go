package ops

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/connectkit/connector/schema"
)

// catalog holds the declared tables by name.
type catalog map[string]*schema.Compiled

// declare checks the tables of a Prepare call against c and returns the
// new catalog, c with the tables added or replaced, and the compiled
// tables of the call, in call order. c itself is not changed. checkName,
// if not nil, checks each table name further. A table may be declared
// again with columns added; see ErrSchemaChange.
func (c catalog) declare(tables []schema.Table, checkName func(string) error) (catalog, []*schema.Compiled, error) {
	next := maps.Clone(c)
	if next == nil {
		next = make(catalog)
	}
	seen := make(map[string]bool, len(tables))
	compiled := make([]*schema.Compiled, 0, len(tables))
	for i := range tables {
		t := &tables[i]
		if seen[t.Name] {
			return nil, nil, fmt.Errorf("ops: preparing table %q: declared twice", t.Name)
		}
		seen[t.Name] = true
		if err := checkUTF8(t); err != nil {
			return nil, nil, fmt.Errorf("ops: preparing table %q: %w", t.Name, err)
		}
		if checkName != nil {
			if err := checkName(t.Name); err != nil {
				return nil, nil, fmt.Errorf("ops: preparing table %q: %w", t.Name, err)
			}
		}
		ct, err := t.Compile()
		if err != nil {
			return nil, nil, fmt.Errorf("ops: preparing table %q: %w", t.Name, err)
		}
		if old := c[t.Name]; old != nil {
			if err := compatible(old.Table(), ct.Table()); err != nil {
				return nil, nil, fmt.Errorf("ops: preparing table %q: %w", t.Name, err)
			}
		}
		next[t.Name] = ct
		compiled = append(compiled, ct)
	}
	return next, compiled, nil
}

// checkUTF8 rejects a table whose name or column names are not valid
// UTF-8: destinations would replace their invalid bytes (JSON), refuse
// them (Postgres) or keep them (SQLite), so two names could become one,
// or a name written could not be read back.
func checkUTF8(t *schema.Table) error {
	if !utf8.ValidString(t.Name) {
		return fmt.Errorf("%w: the table name is not valid UTF-8", schema.ErrInvalidTable)
	}
	for _, c := range t.Columns {
		if !utf8.ValidString(c.Name) {
			return fmt.Errorf("%w: column name %q is not valid UTF-8", schema.ErrInvalidTable, c.Name)
		}
	}
	return nil
}

// compatible reports whether rows stored under old can be read under new.
func compatible(old, new schema.Table) error {
	if !slices.Equal(old.PrimaryKey, new.PrimaryKey) {
		return fmt.Errorf("%w: primary key changed from (%s) to (%s)", ErrSchemaChange,
			strings.Join(old.PrimaryKey, ", "), strings.Join(new.PrimaryKey, ", "))
	}
	for _, oc := range old.Columns {
		nc, ok := new.Column(oc.Name)
		if !ok {
			return fmt.Errorf("%w: column %q was dropped", ErrSchemaChange, oc.Name)
		}
		if nc.Type != oc.Type {
			return fmt.Errorf("%w: column %q changed type from %v to %v", ErrSchemaChange, oc.Name, oc.Type, nc.Type)
		}
	}
	return nil
}

// sortedNames returns the names of c in order.
func (c catalog) sortedNames() []string {
	return slices.Sorted(maps.Keys(c))
}
