package pgdest

import (
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// The net effects of a segment's operations on one row, which is how a
// segment is staged (the op column of the staging table).
const (
	// netFull sets the whole row, live or deleted.
	netFull = 1
	// netMerge sets the columns of set in a live row, deleted or not
	// after; a missing or deleted row becomes those columns, the others
	// NULL.
	netMerge = 2
	// netDelete marks the row deleted if it is live.
	netDelete = 3
	// netChildren marks deleted the live rows whose first k key columns
	// are the row's (k = 0: every live row, a truncate), except the rows
	// of the segment's other entries.
	netChildren = 4
)

// netOp is the net effect of a segment's operations on one row: the
// operations composed, so that each row is staged once and the merge
// statements of a segment touch disjoint rows, in any order.
type netOp struct {
	kind    uint8
	deleted bool             // for netFull and netMerge: the row ends deleted
	at      time.Time        // the synced time it ends with
	row     []any            // by position; for netMerge NULL outside set
	set     schema.ColumnSet // netMerge: the columns it sets
}

// segment is the buffered operations of one table since its last flush,
// composed per row. Delete-children and truncates of the segment (all of
// one parent key length k, or truncates) are kept apart, since they
// apply to rows the segment does not name: at flush they run first,
// sparing the rows of the segment, whose entries already include their
// effect. A child operation of another length first flushes the segment.
//
// The composition keeps the semantics of ops.Memory, operation by
// operation (see ops.Op): an upsert replaces the row; an update of a live
// row merges, of a deleted or missing row makes the given columns the
// row; a delete marks a live row; a delete of children or a truncate
// marks the live rows it covers.
type segment struct {
	t     *table
	index map[string]int32 // KeyOf to position in nets[:indexed]; nil until needed
	nets  []netOp
	// indexed counts the nets in index: the rows addNew appends, new
	// keys of a table loaded without its key, join it only when a
	// lookup needs it (ensureIndex).
	indexed int
	hint    int // the size to make index with

	// The delete-children of the segment: their parent key length (-1:
	// none yet; 0: truncate), the first time of each parent key by
	// KeyPrefix, and their rows, in order.
	k        int
	parents  map[string]time.Time
	children [][]any
	// byParent indexes nets by their KeyPrefix of length k, built at the
	// first delete of children.
	byParent map[string][]int32
}

func newSegment(t *table) *segment {
	// Sized as the last segment of the table, which a flush ended.
	n := 0
	if t.seg != nil {
		n = len(t.seg.nets)
	}
	return &segment{t: t, nets: make([]netOp, 0, n), hint: n, k: -1}
}

// ensureIndex indexes the nets not in index yet.
func (s *segment) ensureIndex() {
	if s.index == nil {
		s.index = make(map[string]int32, max(s.hint, len(s.nets)))
	}
	for ; s.indexed < len(s.nets); s.indexed++ {
		s.index[s.t.c.KeyOf(s.nets[s.indexed].row)] = int32(s.indexed)
	}
}

// has reports whether the segment holds a row of key (a KeyOf).
func (s *segment) has(key string) bool {
	s.ensureIndex()
	_, ok := s.index[key]
	return ok
}

// addNew adds op, an upsert of a key the segment does not hold, and
// takes op.Row over, as add does, without indexing the key until a
// lookup needs it. Only for a segment without deletes of children.
func (s *segment) addNew(op *ops.Op, at time.Time) {
	if s.k >= 0 {
		s.add(op, at)
		return
	}
	s.nets = append(s.nets, netOp{kind: netFull, at: at, row: op.Row})
}

// size is the number of staged rows the segment makes.
func (s *segment) size() int { return len(s.nets) + len(s.children) }

// conflicts reports whether a delete of children with parent key length
// k (0 for a truncate) cannot join the segment, which then must be
// flushed first.
func (s *segment) conflicts(k int) bool { return s.k >= 0 && s.k != k }

// add composes op, written at time at, into the segment. The segment
// takes op.Row over. Call conflicts first for a delete of children or a
// truncate.
func (s *segment) add(op *ops.Op, at time.Time) {
	switch op.Kind {
	case ops.OpTruncate:
		s.addChildren(nil, 0, at)
		return
	case ops.OpDeleteChildren:
		s.addChildren(op.Row, op.Set.Len(), at)
		return
	}
	c := s.t.c
	key := c.KeyOf(op.Row)
	s.ensureIndex()
	i, ok := s.index[key]
	if !ok {
		i = int32(len(s.nets))
		s.index[key] = i
		s.indexed++
		n := netOp{kind: 0}
		if s.k >= 0 {
			p := ""
			if s.k > 0 {
				p = c.KeyPrefix(op.Row, s.k)
				s.byParent[p] = append(s.byParent[p], i)
			}
			// A delete of children of this segment covered the row,
			// which the flush spares: its entry starts deleted.
			if at0, ok := s.parents[p]; ok {
				n = netOp{kind: netDelete, at: at0, row: op.Row}
			}
		}
		s.nets = append(s.nets, n)
	}
	n := &s.nets[i]
	switch op.Kind {
	case ops.OpUpsert:
		*n = netOp{kind: netFull, at: at, row: op.Row}
	case ops.OpUpdate:
		s.update(n, op, at)
	case ops.OpDelete:
		switch {
		case n.kind == 0:
			*n = netOp{kind: netDelete, at: at, row: op.Row}
		case (n.kind == netFull || n.kind == netMerge) && !n.deleted:
			n.deleted, n.at = true, at
		}
		// A delete of a deleted row, or of a row a delete already
		// covers, changes nothing.
	}
}

// update composes an update into n.
func (s *segment) update(n *netOp, op *ops.Op, at time.Time) {
	cols := len(s.t.cols)
	all := op.Set == nil || op.Set.Len() == cols
	switch {
	case all:
		// Every column: on a live row as on a deleted one, the row
		// becomes the given values.
		*n = netOp{kind: netFull, at: at, row: op.Row}
	case n.kind == netDelete || n.deleted:
		// The row is deleted (or missing) when the update applies: it
		// becomes the given columns, the others NULL, which op.Row
		// holds.
		*n = netOp{kind: netFull, at: at, row: op.Row}
	case n.kind == netFull:
		for j := range cols {
			if op.Set.Has(j) {
				n.row[j] = op.Row[j]
			}
		}
		n.at = at
	case n.kind == netMerge:
		for j := range cols {
			if op.Set.Has(j) {
				n.row[j] = op.Row[j]
				n.set.Add(j)
			}
		}
		n.at = at
	default: // the first operation on the row
		set := schema.NewColumnSet(cols)
		for j := range cols {
			if op.Set.Has(j) {
				set.Add(j)
			} else {
				op.Row[j] = nil
			}
		}
		*n = netOp{kind: netMerge, at: at, row: op.Row, set: set}
	}
}

// addChildren adds a delete of the children of parent (its first k key
// columns; k = 0 and a nil parent for a truncate).
func (s *segment) addChildren(parent []any, k int, at time.Time) {
	c := s.t.c
	p := ""
	if k > 0 {
		p = c.KeyPrefix(parent, k)
	}
	if s.k < 0 {
		s.k = k
		s.parents = make(map[string]time.Time)
		if k > 0 {
			s.byParent = make(map[string][]int32)
			for i := range s.nets {
				q := c.KeyPrefix(s.nets[i].row, k)
				s.byParent[q] = append(s.byParent[q], int32(i))
			}
		}
	}
	if _, seen := s.parents[p]; !seen {
		s.parents[p] = at
		row := parent
		if row == nil {
			row = make([]any, len(s.t.cols))
		}
		s.children = append(s.children, row)
	}
	// The rows of the segment it covers are deleted as by a delete.
	mark := func(n *netOp) {
		if (n.kind == netFull || n.kind == netMerge) && !n.deleted {
			n.deleted, n.at = true, at
		}
	}
	if k == 0 {
		for i := range s.nets {
			mark(&s.nets[i])
		}
		return
	}
	for _, i := range s.byParent[p] {
		mark(&s.nets[i])
	}
}

// childrenAt returns the time of the delete of children of the staged
// parent row.
func (s *segment) childrenAt(row []any) time.Time {
	if s.k == 0 {
		return s.parents[""]
	}
	return s.parents[s.t.c.KeyPrefix(row, s.k)]
}
