package paginate

import (
	"errors"
	"fmt"
)

// ErrCursorLoop reports a cursor already seen in the same run: an API whose
// tokens cycle (A,B,A), a last page whose next link points to itself or to
// the first page, or a keyset page none of whose items moves the key.
var ErrCursorLoop = errors.New("paginate: cursor loop")

// ErrNoNext reports a page that says more follows (HasMore is [Yes], or a
// rule that would end the run gave way) but gives no way to advance: a
// [Token] page without a next token, an [Offset] page
// that is empty, or a [Keyset] page without items. Ending the run there
// would silently drop the rest of the collection, so it is an error unless
// the strategy's stop rules include [StopMissingNext].
var ErrNoNext = errors.New("paginate: more pages announced but no way to advance")

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
	// ErrCursorLoop, ErrNoNext, ErrBadCursor or ErrMaxPages.
	Err error
}

// Error describes the failure with the page and cursor it happened at.
func (e *PageError) Error() string {
	return fmt.Sprintf("paginate: page %d at %s: %v", e.Page, e.Cursor, e.Err)
}

// Unwrap returns the underlying error.
func (e *PageError) Unwrap() error { return e.Err }
