package ops

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/connectkit/connector/schema"
)

// rowSet is the current content of one table, as a destination holds it:
// rows by schema.Compiled.KeyOf, each carrying SyncedColumn and
// DeletedColumn. It implements the semantics of the row operations once,
// for Memory and for the replay of a Dir, so that the two agree. A rowSet
// is not safe for concurrent use.
type rowSet struct {
	table *schema.Compiled
	cols  []string // the declared column names
	rows  map[string]schema.Row
}

func newRowSet(table *schema.Compiled) *rowSet {
	s := &rowSet{rows: make(map[string]schema.Row)}
	s.declare(table)
	return s
}

// declare sets the table's declaration, which may add columns to the one
// the rows were stored under (see compatible).
func (s *rowSet) declare(table *schema.Compiled) {
	s.table = table
	s.cols = s.cols[:0]
	for _, c := range table.Table().Columns {
		s.cols = append(s.cols, c.Name)
	}
}

// upsert stores row, a normalized full row it takes over, as live.
func (s *rowSet) upsert(row schema.Row, at time.Time) {
	row[SyncedColumn] = at
	row[DeletedColumn] = false
	s.rows[s.table.KeyOf(row)] = row
}

// update merges row, a normalized partial row it takes over, into the
// live row with its key. A missing row, or one marked deleted, is
// replaced by row: the values of a deleted row are history, not the
// current row, so they do not come back. Either way the row is live.
func (s *rowSet) update(row schema.Row, at time.Time) {
	key := s.table.KeyOf(row)
	old := s.rows[key]
	if old == nil || old[DeletedColumn] == true {
		s.upsert(row, at)
		return
	}
	maps.Copy(old, row)
	old[SyncedColumn] = at
}

// delete marks the live row with the key of keys as deleted. A missing or
// already deleted row is left as it is.
func (s *rowSet) delete(keys schema.Row, at time.Time) {
	if row := s.rows[s.table.KeyOf(keys)]; row != nil && row[DeletedColumn] == false {
		row[DeletedColumn] = true
		row[SyncedColumn] = at
	}
}

// truncate marks every live row as deleted.
func (s *rowSet) truncate(at time.Time) {
	for _, row := range s.rows {
		if row[DeletedColumn] == false {
			row[DeletedColumn] = true
			row[SyncedColumn] = at
		}
	}
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
	for k, row := range s.rows {
		if row[DeletedColumn] == false {
			out[k] = s.copyRow(row, false)
		}
	}
	return out
}

// copyRow returns a copy of row holding every declared column, NULL (nil)
// for a column the row never received, with the system columns or not.
// Byte slices are copied so that the caller cannot change the stored row.
func (s *rowSet) copyRow(row schema.Row, system bool) schema.Row {
	out := make(schema.Row, len(s.cols)+2)
	for _, c := range s.cols {
		out[c] = nil
	}
	for k, v := range row {
		switch x := v.(type) {
		case []byte:
			v = bytes.Clone(x)
		case json.RawMessage:
			v = json.RawMessage(bytes.Clone(x))
		}
		out[k] = v
	}
	if !system {
		delete(out, SyncedColumn)
		delete(out, DeletedColumn)
	}
	return out
}
