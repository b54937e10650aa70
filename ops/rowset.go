package ops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/connectkit/connector/schema"
)

// rowSet is the current content of one table, as a destination holds it:
// rows by schema.Compiled.KeyOf, each its values by column position
// followed by SyncedColumn (a time.Time) and DeletedColumn (a bool). It
// implements the semantics of the operations once, for Memory and for the
// replay of a Dir, so that the two agree. A rowSet is not safe for
// concurrent use.
type rowSet struct {
	table *schema.Compiled
	cols  []string // the declared column names, by position
	rows  map[string][]any

	// children indexes the keys of the rows by the text of their first k
	// key columns (schema.Compiled.KeyPrefix), for each k a delete of
	// children used, so that replacing the children of one parent does
	// not scan the table.
	children map[int]map[string]map[string]struct{}
}

func newRowSet(table *schema.Compiled) *rowSet {
	s := &rowSet{rows: make(map[string][]any)}
	s.declare(table)
	return s
}

// declare sets the table's declaration, which may add columns to the one
// the rows were stored under (see compatible): stored rows move their
// values to the new positions, NULL in the added columns.
func (s *rowSet) declare(table *schema.Compiled) {
	cols := make([]string, 0, len(table.Table().Columns))
	for _, c := range table.Table().Columns {
		cols = append(cols, c.Name)
	}
	if s.table != nil && !slices.Equal(cols, s.cols) {
		pos := make(map[string]int, len(cols))
		for i, c := range cols {
			pos[c] = i
		}
		n := len(cols)
		for k, old := range s.rows {
			row := make([]any, n+2)
			for i, c := range s.cols {
				if j, ok := pos[c]; ok {
					row[j] = old[i]
				}
			}
			row[n], row[n+1] = old[len(s.cols)], old[len(s.cols)+1]
			s.rows[k] = row
		}
	}
	s.table, s.cols = table, cols
}

// check reports an operation whose row does not have one value per
// column, which no normalized operation has.
func (s *rowSet) check(op *Op) error {
	if op.Kind == OpTruncate || len(op.Row) == len(s.cols) {
		return nil
	}
	return fmt.Errorf("ops: %v in table %q: %d values for %d columns", op.Kind, op.Table, len(op.Row), len(s.cols))
}

// apply applies op, checked by check, at time at. The rowSet takes op.Row
// over.
func (s *rowSet) apply(op *Op, at time.Time) {
	n := len(s.cols)
	switch op.Kind {
	case OpUpsert:
		s.put(append(slices.Grow(op.Row, 2), at, false))
	case OpUpdate:
		key := s.table.KeyOf(op.Row)
		old := s.rows[key]
		if old == nil || old[n+1] == true {
			// A missing or deleted row becomes the given columns: the
			// values of a deleted row are history, not the current row.
			s.put(append(slices.Grow(op.Row, 2), at, false))
			return
		}
		for i := range n {
			if op.Set == nil || op.Set.Has(i) {
				old[i] = op.Row[i]
			}
		}
		old[n] = at
	case OpDelete:
		if row := s.rows[s.table.KeyOf(op.Row)]; row != nil && row[n+1] == false {
			row[n], row[n+1] = at, true
		}
	case OpTruncate:
		for _, row := range s.rows {
			if row[n+1] == false {
				row[n], row[n+1] = at, true
			}
		}
	case OpDeleteChildren:
		k := op.Set.Len()
		for key := range s.index(k)[s.table.KeyPrefix(op.Row, k)] {
			if row := s.rows[key]; row[n+1] == false {
				row[n], row[n+1] = at, true
			}
		}
	}
}

// put stores row, a full row with its system columns, under its key.
func (s *rowSet) put(row []any) {
	key := s.table.KeyOf(row)
	if _, ok := s.rows[key]; !ok {
		for k, idx := range s.children {
			p := s.table.KeyPrefix(row, k)
			if idx[p] == nil {
				idx[p] = make(map[string]struct{})
			}
			idx[p][key] = struct{}{}
		}
	}
	s.rows[key] = row
}

// index returns the index of the rows by their first k key columns,
// building it on first use.
func (s *rowSet) index(k int) map[string]map[string]struct{} {
	if idx := s.children[k]; idx != nil {
		return idx
	}
	if s.children == nil {
		s.children = make(map[int]map[string]map[string]struct{})
	}
	idx := make(map[string]map[string]struct{})
	for key, row := range s.rows {
		p := s.table.KeyPrefix(row, k)
		if idx[p] == nil {
			idx[p] = make(map[string]struct{})
		}
		idx[p][key] = struct{}{}
	}
	s.children[k] = idx
	return idx
}

// sorted returns copies of every row, with the system columns, sorted by
// key.
func (s *rowSet) sorted() []schema.Row {
	keys := slices.Sorted(maps.Keys(s.rows))
	out := make([]schema.Row, len(keys))
	for i, k := range keys {
		out[i] = s.copyRow(s.rows[k], true)
	}
	return out
}

// live returns copies of the rows not marked deleted, without the system
// columns, by key.
func (s *rowSet) live() map[string]schema.Row {
	out := make(map[string]schema.Row)
	n := len(s.cols)
	for k, row := range s.rows {
		if row[n+1] == false {
			out[k] = s.copyRow(row, false)
		}
	}
	return out
}

// copyRow returns row as a Row holding every declared column, NULL (nil)
// for a column without a value, with the system columns or not. Byte
// slices are copied so that the caller cannot change the stored row.
func (s *rowSet) copyRow(row []any, system bool) schema.Row {
	n := len(s.cols)
	out := make(schema.Row, n+2)
	for i, c := range s.cols {
		v := row[i]
		switch x := v.(type) {
		case []byte:
			v = bytes.Clone(x)
		case json.RawMessage:
			v = json.RawMessage(bytes.Clone(x))
		}
		out[c] = v
	}
	if system {
		out[SyncedColumn] = row[n]
		out[DeletedColumn] = row[n+1]
	}
	return out
}
