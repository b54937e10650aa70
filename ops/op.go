package ops

import (
	"time"

	"github.com/connectkit/connector/schema"
)

// opKind is one of the row operations of a [Destination].
type opKind uint8

const (
	opUpsert opKind = iota + 1
	opUpdate
	opDelete
	opTruncate
)

var opNames = [...]string{opUpsert: "upsert", opUpdate: "update", opDelete: "delete", opTruncate: "truncate"}

// String returns the name of k as the log lines of a Dir carry it.
func (k opKind) String() string {
	if k >= opUpsert && k <= opTruncate {
		return opNames[k]
	}
	return "invalid"
}

// parseOp returns the opKind named s.
func parseOp(s string) (opKind, bool) {
	for k := opUpsert; k <= opTruncate; k++ {
		if opNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

// hasRow reports whether an operation of kind k carries a row.
func (k opKind) hasRow() bool { return k != opTruncate }

// normalize checks row for an operation of kind k on table and converts
// it in place: a full row for an upsert, a partial row for an update, the
// keys for a delete.
func (k opKind) normalize(table *schema.Compiled, row schema.Row) (schema.Row, error) {
	switch k {
	case opUpsert:
		return table.Normalize(row)
	case opUpdate:
		return table.NormalizePartial(row)
	case opDelete:
		return table.NormalizeKeys(row)
	}
	return row, nil
}

// apply applies an operation of kind k with its normalized row to s.
func (s *rowSet) apply(k opKind, row schema.Row, at time.Time) {
	switch k {
	case opUpsert:
		s.upsert(row, at)
	case opUpdate:
		s.update(row, at)
	case opDelete:
		s.delete(row, at)
	case opTruncate:
		s.truncate(at)
	}
}

// count adds an operation of kind k to s.
func (s *Summary) count(k opKind) {
	switch k {
	case opUpsert:
		s.Upserts++
	case opUpdate:
		s.Updates++
	case opDelete:
		s.Deletes++
	case opTruncate:
		s.Truncates++
	}
}
