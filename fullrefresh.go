package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/state"
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

	// Partitions, if set, splits each pass into partitions (key ranges,
	// or shards the source names), planned when a pass starts and kept in
	// the state: each is a resumable pass of its own over
	// Pages(Window{Partition: p}), run concurrently in one process (see
	// Options.Partitions) or as separate tasks (see Connector.Plan). IDs
	// must be unique and not empty. A pass ends when every partition is
	// done; the next sync plans a new one.
	Partitions func(ctx context.Context) ([]state.Partition, error)
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
	if f.Partitions != nil {
		if !w.partitionOnly() {
			if _, err := f.plan(ctx, w); err != nil {
				return err
			}
		}
		return w.runPartitions(ctx, f.partition)
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

// plan makes the partition plan of a new pass, when the state has none
// or the last one is complete.
func (f FullRefresh[T]) plan(ctx context.Context, w *Writer) (own bool, err error) {
	if f.Partitions == nil {
		return true, nil
	}
	st := w.State()
	if err := checkStateFor(st, "a full refresh", false); err != nil {
		return false, err
	}
	for _, p := range st.Partitions {
		if !p.Done {
			return false, nil // a pass in progress
		}
	}
	parts, err := f.Partitions(ctx)
	if err != nil {
		return false, fmt.Errorf("connector: planning the partitions of a full refresh: %w", err)
	}
	seen := make(map[string]bool, len(parts))
	st.Partitions = make([]*state.Partition, len(parts))
	for i, p := range parts {
		if p.ID == "" || seen[p.ID] {
			return false, fmt.Errorf("connector: FullRefresh.Partitions: partition %d has an empty or repeated ID %q", i, p.ID)
		}
		seen[p.ID] = true
		p.Cursor, p.Mark, p.Done = paginate.Cursor{}, state.Mark{}, false
		st.Partitions[i] = &p
	}
	if f.Truncate {
		if err := w.Truncate(ctx, w.Table()); err != nil {
			return false, err
		}
	}
	w.logger.Info("full refresh planned", "partitions", len(parts))
	return false, w.Commit(ctx, st)
}

// partition runs, or resumes, the pass of one partition.
func (f FullRefresh[T]) partition(ctx context.Context, w *Writer, p state.Partition) error {
	pg := f.Pages(Window{Partition: &p})
	if pg == nil {
		return errors.New("connector: FullRefresh.Pages returned a nil Paginator")
	}
	pg = pg.From(p.Cursor)
	n := 0
	for page, err := range pg.Pages(ctx) {
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
		p.Cursor = pg.Cursor()
		if err := w.commitPartition(ctx, p); err != nil {
			return err
		}
	}
	p.Done = true
	return w.commitPartition(ctx, p)
}

// position names an item of a run for a skip log: its page within the
// run and its index within the page.
func position(page, item int) string {
	return fmt.Sprintf("page %d of this run, item %d", page, item)
}
