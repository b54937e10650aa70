package paginate

import (
	"errors"
	"fmt"
)

// ErrCursorLoop reports a cursor already seen in the same run: an API whose
// tokens cycle (A,B,A), a last page whose next link points to itself, or a
// page that says more follows but gives no way to advance.
var ErrCursorLoop = errors.New("paginate: cursor loop")

// ErrMaxPages reports a run that reached [Options.MaxPages] before the
// collection ended. The pages before it were yielded and
// [Paginator.Cursor] resumes after them.
var ErrMaxPages = errors.New("paginate: page limit reached")

// PageError is the error a run yields: what went wrong, and where.
type PageError struct {
	// Page is the 1-based number of the page within the run.
	Page int
	// Cursor is the cursor the page was fetched at.
	Cursor Cursor
	// Err is the underlying error: the Source's, the context's,
	// ErrCursorLoop or ErrMaxPages.
	Err error
}

// Error describes the failure with the page and cursor it happened at.
func (e *PageError) Error() string {
	return fmt.Sprintf("paginate: page %d at %s: %v", e.Page, e.Cursor, e.Err)
}

// Unwrap returns the underlying error.
func (e *PageError) Unwrap() error { return e.Err }
