package ops

import (
	"time"

	"github.com/connectkit/connector/schema"
)

// Kind is one of the row operations of a [Destination]. Destinations
// share it so that they count and check operations alike.
type Kind uint8

// The row operations.
const (
	OpUpsert Kind = iota + 1
	OpUpdate
	OpDelete
	OpTruncate
)

var opNames = [...]string{OpUpsert: "upsert", OpUpdate: "update", OpDelete: "delete", OpTruncate: "truncate"}

// String returns the name of k as the log lines of a Dir carry it:
// "upsert", "update", "delete" or "truncate".
func (k Kind) String() string {
	if k >= OpUpsert && k <= OpTruncate {
		return opNames[k]
	}
	return "invalid"
}

// parseOp returns the Kind named s.
func parseOp(s string) (Kind, bool) {
	for k := OpUpsert; k <= OpTruncate; k++ {
		if opNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

// hasRow reports whether an operation of kind k carries a row.
func (k Kind) hasRow() bool { return k != OpTruncate }

// Normalize checks row for an operation of kind k on table and converts
// it in place: a full row for an upsert, a partial row for an update, the
// keys for a delete. A truncate has no row.
func (k Kind) Normalize(table *schema.Compiled, row schema.Row) (schema.Row, error) {
	switch k {
	case OpUpsert:
		return table.Normalize(row)
	case OpUpdate:
		return table.NormalizePartial(row)
	case OpDelete:
		return table.NormalizeKeys(row)
	}
	return row, nil
}

// apply applies an operation of kind k with its normalized row to s.
func (s *rowSet) apply(k Kind, row schema.Row, at time.Time) {
	switch k {
	case OpUpsert:
		s.upsert(row, at)
	case OpUpdate:
		s.update(row, at)
	case OpDelete:
		s.delete(row, at)
	case OpTruncate:
		s.truncate(at)
	}
}

// Count adds an operation of kind k to s.
func (s *Summary) Count(k Kind) {
	switch k {
	case OpUpsert:
		s.Upserts++
	case OpUpdate:
		s.Updates++
	case OpDelete:
		s.Deletes++
	case OpTruncate:
		s.Truncates++
	}
}
