package connector

import (
	"context"
	"fmt"

	"github.com/connectkit/connector/paginate"
)

// SyncPages syncs a table by walking a paginated source from the cursor
// in the table's state, calling emit for every item and committing the
// Paginator's cursor after every page. newPaginator builds the Paginator
// from the cursor to start at (pass it to paginate.StartAt).
//
// This is a full-refresh sync that resumes: after a crash the next run
// continues from the last checkpointed page; after a run that reached the
// end, the next run starts over. For sources that can list by update time,
// [Incremental] reads only what changed.
func SyncPages[T any](ctx context.Context, s *Sync, newPaginator func(start paginate.Cursor) *paginate.Paginator[T], emit func(context.Context, T) error) error {
	st := s.State()
	start := st.Cursor
	if start.Done {
		start = paginate.Cursor{}
	}
	p := newPaginator(start)
	for page, err := range p.Pages(ctx) {
		if err != nil {
			return fmt.Errorf("connector: paging: %w", err)
		}
		for _, it := range page.Items {
			if err := emit(ctx, it); err != nil {
				return err
			}
		}
		st.Cursor = p.Cursor()
		if err := s.Commit(ctx, st); err != nil {
			return err
		}
	}
	return nil
}
