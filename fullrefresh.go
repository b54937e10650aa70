package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/connectkit/connector/paginate"
)

// FullRefresh is a [Stream] that reads a whole paginated collection on
// every sync, resuming an interrupted pass where its last checkpoint left
// it. Use it for sources that cannot list by change; [Incremental] reads
// only what changed.
//
// After every page it commits the Paginator's cursor. After a crash the
// next run continues from the last checkpointed page; after a pass that
// reached the end, the next run starts a new pass.
type FullRefresh[T any] struct {
	// Pages returns a Paginator over the collection; the zero Window
	// asks for all of it. The driver resumes it at the checkpointed
	// cursor (with Paginator.From), so Pages need not handle cursors.
	Pages func(w Window) *paginate.Paginator[T]

	// Check, if set, vets each item before Emit. An item it rejects is
	// skipped with [Writer.Skip] (logged and counted).
	Check func(T) error

	// Emit writes one item, typically with w.Upsert.
	Emit func(ctx context.Context, w *Writer, item T) error

	// Truncate, if set, truncates the stream's table (a soft delete) at
	// the start of every new pass, so that rows the source no longer
	// lists end up marked deleted once the pass completes: the rows the
	// pass writes again are live. Until the pass completes, rows not yet
	// reached read as deleted.
	Truncate bool
}

// Read runs the full-refresh sync of the stream's table.
func (f FullRefresh[T]) Read(ctx context.Context, w *Writer) error {
	if f.Pages == nil || f.Emit == nil {
		return errors.New("connector: FullRefresh needs Pages and Emit")
	}
	st := w.State()
	if err := checkStateFor(st, "a full refresh", false); err != nil {
		return err
	}
	start := st.Cursor
	if start.Done {
		start = paginate.Cursor{}
	}
	if start.IsZero() && f.Truncate {
		if err := w.Truncate(ctx, w.Table()); err != nil {
			return err
		}
	}
	p := f.Pages(Window{})
	if p == nil {
		return errors.New("connector: FullRefresh.Pages returned a nil Paginator")
	}
	p = p.From(start)
	n := 0
	for page, err := range p.Pages(ctx) {
		if err != nil {
			return fmt.Errorf("connector: full refresh: %w", err)
		}
		n++
		for i, it := range page.Items {
			if f.Check != nil {
				if err := f.Check(it); err != nil {
					w.Skip(err, position(n, i))
					continue
				}
			}
			if err := f.Emit(ctx, w, it); err != nil {
				return err
			}
		}
		st.Cursor = p.Cursor()
		if err := w.Commit(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// position names an item of a run for a skip log: its page within the
// run and its index within the page.
func position(page, item int) string {
	return fmt.Sprintf("page %d of this run, item %d", page, item)
}
