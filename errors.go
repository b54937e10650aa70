package connector

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/connectkit/connector/state"
)

// TableError is a stream's fatal error, with the state the stream was
// left at: the state of its last checkpoint, from which the next run
// resumes.
type TableError struct {
	// Table is the name of the stream's table.
	Table string
	// State is the stream's state as of its last checkpoint: what the
	// destination holds, and where the next run starts.
	State state.Table
	// Err is what went wrong.
	Err error
}

// Error names the table once, where it resumes and why it stopped.
func (e *TableError) Error() string {
	return fmt.Sprintf("connector: table %q (resumes at %s): %v", e.Table, describeState(e.State), e.Err)
}

// Unwrap returns the underlying error.
func (e *TableError) Unwrap() error { return e.Err }

// describeState says where a stream with state t resumes, for logs and
// errors.
func describeState(t state.Table) string {
	var parts []string
	if !t.Mark.IsZero() {
		parts = append(parts, "mark "+t.Mark.String())
	}
	if p := t.Pass; p != nil {
		parts = append(parts, fmt.Sprintf("newest-first pass from %s down to %s", p.Top, p.Last))
	}
	if h := t.History; h != nil {
		switch {
		case h.Done:
			parts = append(parts, "history done")
		case !h.Mark.IsZero():
			parts = append(parts, fmt.Sprintf("history window before %s at %s", h.Until.Format(time.RFC3339Nano), h.Mark))
		default:
			parts = append(parts, "history before "+h.Until.Format(time.RFC3339Nano))
		}
		if t.Mark.IsZero() && !h.Start.IsZero() {
			parts = append(parts, "forward from "+h.Start.Format(time.RFC3339Nano))
		}
	}
	if !t.Cursor.IsZero() {
		parts = append(parts, "cursor "+t.Cursor.String())
	}
	if n := len(t.Partitions); n > 0 {
		done := 0
		for _, p := range t.Partitions {
			if p.Done {
				done++
			}
		}
		parts = append(parts, fmt.Sprintf("%d of %d partitions done", done, n))
	}
	if len(parts) == 0 {
		return "the start"
	}
	return strings.Join(parts, ", ")
}

// ErrOutOfOrder reports an incremental source whose rows are not in the
// order of their marks (ascending for an oldest-first source, descending
// for a newest-first one) within one response, where a high-water mark
// would skip rows.
var ErrOutOfOrder = errors.New("connector: rows out of order")
