package connector

import (
	"errors"
	"fmt"

	"github.com/connectkit/connector/state"
)

// TableError is a table's fatal error, with the state the table was left
// at: the last checkpointed one, from which the next run resumes.
type TableError struct {
	// Table is the table's name.
	Table string
	// State is the table's state as of its last commit.
	State state.Table
	// Err is what went wrong.
	Err error
}

// Error names the table, where it stopped and why.
func (e *TableError) Error() string {
	return fmt.Sprintf("connector: table %q (resumes at %s): %v", e.Table, describeState(e.State), e.Err)
}

// Unwrap returns the underlying error.
func (e *TableError) Unwrap() error { return e.Err }

func describeState(t state.Table) string {
	switch {
	case !t.Mark.IsZero() && t.History != nil:
		return fmt.Sprintf("mark %s, history until %s", t.Mark, t.History.Until.Format("2006-01-02T15:04:05Z07:00"))
	case !t.Mark.IsZero():
		return "mark " + t.Mark.String()
	case !t.Cursor.IsZero():
		return "cursor " + t.Cursor.String()
	}
	return "the start"
}

// ErrOutOfOrder reports an incremental source whose rows are not in
// (updatedAt, id) order, where a high-water mark would skip rows.
var ErrOutOfOrder = errors.New("connector: rows out of (updatedAt, id) order")
