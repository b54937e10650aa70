package ops

import (
	"fmt"

	"github.com/connectkit/connector/schema"
)

// Kind is one of the operations of a [Destination]. Destinations share
// it so that they count and check operations alike.
type Kind uint8

// The operations.
const (
	// OpUpsert writes a full row, replacing any row with the same primary
	// key, and clears its deleted mark.
	OpUpsert Kind = iota + 1
	// OpUpdate changes only the columns of Op.Set (nil: every column) of
	// the row with the primary key; a row that does not exist, or is
	// marked deleted, becomes the given columns, the others NULL.
	OpUpdate
	// OpDelete marks the live row with the primary key as deleted (a soft
	// delete). Deleting a row that does not exist does nothing.
	OpDelete
	// OpTruncate marks every live row of the table as deleted.
	OpTruncate
	// OpDeleteChildren marks as deleted every live row of a child table
	// whose leading primary key columns, those in Op.Set, equal Op.Row's
	// values there: the children of one parent. The runner sends it
	// followed by the upserts of the parent's current children, so the
	// children not re-emitted end up deleted.
	OpDeleteChildren
)

var opNames = [...]string{OpUpsert: "upsert", OpUpdate: "update", OpDelete: "delete", OpTruncate: "truncate", OpDeleteChildren: "delete_children"}

// String returns the name of k as the log lines of a Dir carry it:
// "upsert", "update", "delete", "truncate" or "delete_children".
func (k Kind) String() string {
	if k >= OpUpsert && k <= OpDeleteChildren {
		return opNames[k]
	}
	return "invalid"
}

// parseOp returns the Kind named s.
func parseOp(s string) (Kind, bool) {
	for k := OpUpsert; k <= OpDeleteChildren; k++ {
		if opNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

// hasRow reports whether an operation of kind k carries a row.
func (k Kind) hasRow() bool { return k != OpTruncate }

// Op is one operation on one table, as the runner hands it to a
// [Destination]: checked and normalized against the table's declaration.
type Op struct {
	// Kind is what the operation does.
	Kind Kind
	// Table is the name of a table declared by Prepare.
	Table string
	// Row holds the values by column position in the table's
	// declaration (schema.Table.Columns), each of its column's canonical
	// Go type, nil for NULL: every column for an upsert; for an update,
	// the columns in Set (the others are nil and stay unchanged); the
	// primary key columns for a delete; the parent key columns (those in
	// Set) for a delete of children. Nil for a truncate.
	Row []any
	// Set is, for an update, the columns it changes (nil: every column),
	// and for a delete of children, the leading primary key columns that
	// name the parent. Nil for the other kinds.
	Set schema.ColumnSet
}

// Normalize checks row for an operation of kind k on table and returns
// the Op the runner hands to a Destination: a full row for an upsert, a
// partial row for an update, the keys for a delete, a parent key (a
// schema.Row of leading key columns) for a delete of children, and no
// row for a truncate. It is what the runner calls for every row, and
// what readers of stored operations call to rebuild them.
func (k Kind) Normalize(table *schema.Compiled, row schema.AnyRow) (Op, error) {
	op := Op{Kind: k, Table: table.Name()}
	var err error
	switch k {
	case OpUpsert:
		op.Row, err = table.Normalize(row)
	case OpUpdate:
		op.Row, op.Set, err = table.NormalizePartial(row)
	case OpDelete:
		op.Row, err = table.NormalizeKeys(row)
	case OpDeleteChildren:
		r, ok := row.(schema.Row)
		if !ok {
			return Op{}, fmt.Errorf("ops: %v in table %q: the parent key must be a schema.Row of leading key columns", k, table.Name())
		}
		op.Row, op.Set, err = table.NormalizeParent(r)
	case OpTruncate:
	default:
		return Op{}, fmt.Errorf("ops: invalid operation kind %d", uint8(k))
	}
	if err != nil {
		return Op{}, err
	}
	return op, nil
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
	case OpDeleteChildren:
		s.Replaces++
	}
}
