package ops

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/connectkit/connector/schema"
)

// rowSet is the current content of one table, as a destination holds it:
// rows by schema.Compiled.KeyOf, each stored in a compact binary form of
// its values (see appendStored) with its SyncedColumn and DeletedColumn. It implements the semantics of the
// operations once, for Memory and for the replay of a Dir, so that the
// two agree. A row is one allocation without pointers inside, so that a
// table of millions of rows costs the garbage collector little; the
// values are decoded again only to read or merge a row. A rowSet is not
// safe for concurrent use.
type rowSet struct {
	table *schema.Compiled
	cols  []schema.Column // the declared columns, by position
	isKey []bool          // by position: whether the column is in the key
	rows  map[string]storedRow
	buf   []byte // scratch for encoding a row
	jbuf  []byte // scratch for compacting a JSON value

	// children indexes the keys of the rows by the text of their first k
	// key columns (schema.Compiled.KeyPrefix), for each k a delete of
	// children used, so that replacing the children of one parent does
	// not scan the table.
	children map[int]map[string]map[string]struct{}
}

// storedRow is a row of a rowSet.
type storedRow struct {
	data    []byte // the values of every column (see appendStored)
	synced  int64  // SyncedColumn, in Unix nanoseconds
	deleted bool   // DeletedColumn
}

func newRowSet(table *schema.Compiled) *rowSet {
	s := &rowSet{rows: make(map[string]storedRow)}
	s.setTable(table)
	return s
}

// setTable sets the declaration the rows are encoded by.
func (s *rowSet) setTable(table *schema.Compiled) {
	t := table.Table()
	s.isKey = make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		s.isKey[i] = slices.Contains(t.PrimaryKey, c.Name)
	}
	s.table, s.cols = table, t.Columns
}

// declare sets the table's declaration, which may add columns to the one
// the rows were stored under (see compatible): stored rows get NULL in the
// added columns. The rows are re-encoded only when the columns changed.
func (s *rowSet) declare(table *schema.Compiled) error {
	old := s.table
	s.setTable(table)
	if len(s.rows) == 0 || slices.Equal(old.Table().Columns, s.cols) {
		return nil
	}
	// A stored row is decoded by position under the old declaration;
	// encode it again under the new one, the added columns NULL.
	for k, r := range s.rows {
		vals, err := s.decodeWith(old, r.data)
		if err != nil {
			return err
		}
		row := s.table.Map(nil, nil)
		maps.Copy(row, old.Map(vals, nil))
		op, err := OpUpsert.Normalize(s.table, row)
		if err != nil {
			return err
		}
		if r.data, err = s.encode(op.Row); err != nil {
			return err
		}
		s.rows[k] = r
	}
	return nil
}

// check reports an operation whose row does not have one value per
// column, which no normalized operation has.
func (s *rowSet) check(op *Op) error {
	if op.Kind == OpTruncate || len(op.Row) == len(s.cols) {
		return nil
	}
	return fmt.Errorf("ops: %v in table %q: %d values for %d columns", op.Kind, op.Table, len(op.Row), len(s.cols))
}

// encode returns the stored form of vals, a full row.
func (s *rowSet) encode(vals []any) ([]byte, error) {
	var err error
	s.buf, s.jbuf, err = appendStored(s.buf[:0], s.jbuf, s.cols, vals)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(s.buf), nil
}

// decode returns the values of a stored row.
func (s *rowSet) decode(data []byte) ([]any, error) { return s.decodeWith(s.table, data) }

func (s *rowSet) decodeWith(t *schema.Compiled, data []byte) ([]any, error) {
	vals, err := decodeStored(data, len(t.Table().Columns))
	if err != nil {
		return nil, fmt.Errorf("ops: a stored row of table %q does not decode: %w", t.Name(), err)
	}
	return vals, nil
}

// apply applies op, checked by check, at time at. It fails only for a
// value that JSON cannot carry (a time outside the years 0 to 9999).
func (s *rowSet) apply(op *Op, at time.Time) error {
	ns := at.UnixNano()
	switch op.Kind {
	case OpUpsert:
		return s.put(op.Row, ns)
	case OpUpdate:
		key := s.table.KeyOf(op.Row)
		old, ok := s.rows[key]
		if !ok || old.deleted || op.Set == nil {
			// A missing or deleted row becomes the given columns: the
			// values of a deleted row are history, not the current row.
			return s.put(op.Row, ns)
		}
		vals, err := s.decode(old.data)
		if err != nil {
			return err
		}
		for i := range s.cols {
			if op.Set.Has(i) {
				vals[i] = op.Row[i]
			}
		}
		return s.put(vals, ns)
	case OpDelete:
		key := s.table.KeyOf(op.Row)
		if r, ok := s.rows[key]; ok && !r.deleted {
			r.synced, r.deleted = ns, true
			s.rows[key] = r
		}
	case OpTruncate:
		for k, r := range s.rows {
			if !r.deleted {
				r.synced, r.deleted = ns, true
				s.rows[k] = r
			}
		}
	case OpDeleteChildren:
		k := op.Set.Len()
		idx, err := s.index(k)
		if err != nil {
			return err
		}
		for key := range idx[s.table.KeyPrefix(op.Row, k)] {
			if r := s.rows[key]; !r.deleted {
				r.synced, r.deleted = ns, true
				s.rows[key] = r
			}
		}
	}
	return nil
}

// put stores vals, a full row, as live under its key.
func (s *rowSet) put(vals []any, synced int64) error {
	data, err := s.encode(vals)
	if err != nil {
		return err
	}
	key := s.table.KeyOf(vals)
	if len(s.children) == 0 {
		s.rows[key] = storedRow{data: data, synced: synced}
		return nil
	}
	if _, ok := s.rows[key]; !ok {
		for k, idx := range s.children {
			p := s.table.KeyPrefix(vals, k)
			if idx[p] == nil {
				idx[p] = make(map[string]struct{})
			}
			idx[p][key] = struct{}{}
		}
	}
	s.rows[key] = storedRow{data: data, synced: synced}
	return nil
}

// index returns the index of the rows by their first k key columns,
// building it on first use.
func (s *rowSet) index(k int) (map[string]map[string]struct{}, error) {
	if idx := s.children[k]; idx != nil {
		return idx, nil
	}
	idx := make(map[string]map[string]struct{})
	for key, r := range s.rows {
		vals, err := s.decode(r.data)
		if err != nil {
			return nil, err
		}
		p := s.table.KeyPrefix(vals, k)
		if idx[p] == nil {
			idx[p] = make(map[string]struct{})
		}
		idx[p][key] = struct{}{}
	}
	if s.children == nil {
		s.children = make(map[int]map[string]map[string]struct{})
	}
	s.children[k] = idx
	return idx, nil
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
	for k, r := range s.rows {
		if !r.deleted {
			out[k] = s.copyRow(r, false)
		}
	}
	return out
}

// copyRow returns r decoded as a Row holding every declared column, NULL
// (nil) for a column without a value, with the system columns or not. A
// row that no longer decodes, which no operation stores, is a row of its
// key alone.
func (s *rowSet) copyRow(r storedRow, system bool) schema.Row {
	vals, err := s.decode(r.data)
	if err != nil {
		vals = make([]any, len(s.cols))
	}
	out := s.table.Map(vals, nil)
	if system {
		out[SyncedColumn] = time.Unix(0, r.synced).UTC()
		out[DeletedColumn] = r.deleted
	}
	return out
}
