package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/state"
)

// Incremental syncs a table whose source can list rows by updatedAt, in
// (updatedAt, id) order, keeping a high-water mark in the table's state.
//
// Each page is followed by a commit of the mark: the (updatedAt, id) of its
// last row. The next pass asks the source for the rows updated at or after
// the mark's time and drops those at or before the mark itself, so rows
// that share the boundary timestamp are neither repeated nor lost, and the
// state holds one mark, never a list of seen ids.
//
// With PriorityFirst set, each sync first brings the recent rows forward
// up to now, then fills history backwards in bounded windows (see
// [PriorityFirst]).
type Incremental[T any] struct {
	// Pages returns a Paginator over the rows with updatedAt in w, in
	// (updatedAt, id) order. A zero bound of w is open.
	Pages func(w Window) *paginate.Paginator[T]

	// Key returns a row's (updatedAt, id).
	Key func(T) state.Mark

	// Check, if set, vets each row before anything else looks at it. A
	// row it rejects is skipped with [Sync.Skip] (logged and counted) and
	// does not move the mark; use it for records with missing fields or
	// values the schema cannot take.
	Check func(T) error

	// Lookback re-reads this much time before the mark on each pass, for
	// sources whose timestamps arrive late (a row committed with an
	// updatedAt a little in the past). Rows read again are emitted again,
	// which upserts make harmless. Zero re-reads nothing.
	Lookback time.Duration

	// PriorityFirst, if set, syncs recent rows before history.
	PriorityFirst *PriorityFirst
}

// PriorityFirst is Fivetran's priority-first sync: the first sync brings
// the Recent window up to now, so that fresh data lands first; then every
// sync, after its forward pass, fills history backwards one Window at a
// time until Oldest, or until its Budget or MaxWindows is spent. Both
// cursors, the forward mark and the backward edge, live in the table's
// state; later syncs continue the history where the last one stopped.
type PriorityFirst struct {
	// Recent is how far back the first forward pass reaches. Required.
	Recent time.Duration
	// Window is the span of each backward step. Zero means Recent.
	Window time.Duration
	// Oldest is the oldest updatedAt wanted. Zero means: until the
	// source has no row older than the backward edge.
	Oldest time.Time
	// Budget is the time a sync may spend on history, checked at page
	// boundaries. Zero means no limit.
	Budget time.Duration
	// MaxWindows is the number of backward windows a sync may complete.
	// Zero means no limit.
	MaxWindows int
}

// errBudget stops a history pass at a page boundary.
var errBudget = errors.New("history budget spent")

// Sync runs the incremental sync of s's table, calling emit for every row
// to write (emit typically calls s.Upsert, or s.Delete for a tombstone).
func (inc Incremental[T]) Sync(ctx context.Context, s *Sync, emit func(context.Context, T) error) error {
	if inc.Pages == nil || inc.Key == nil || emit == nil {
		return errors.New("connector: Incremental needs Pages, Key and an emit function")
	}
	pf := inc.PriorityFirst
	if pf != nil && pf.Recent <= 0 {
		return errors.New("connector: PriorityFirst.Recent must be positive")
	}
	st := s.State()
	syncStart := s.Now()

	// Forward: from the mark, or on the first sync from the history edge,
	// up to now and beyond.
	var since time.Time
	switch {
	case !st.Mark.IsZero():
		since = st.Mark.UpdatedAt.Add(-inc.Lookback)
	case pf != nil && st.History != nil:
		since = st.History.Until
	case pf != nil:
		since = syncStart.Add(-pf.Recent)
		st.History = &state.History{Until: since}
	}
	s.logger.Debug("incremental forward pass", "window", Window{Since: since}, "mark", st.Mark)
	forward := func(t *state.Table) *state.Mark { return &t.Mark }
	if err := inc.pass(ctx, s, &st, Window{Since: since}, forward, emit, nil); err != nil {
		return err
	}
	if pf == nil || st.History == nil || st.History.Done {
		return nil
	}
	return inc.history(ctx, s, &st, pf, syncStart, emit)
}

// history fills the backward windows.
func (inc Incremental[T]) history(ctx context.Context, s *Sync, st *state.Table, pf *PriorityFirst, syncStart time.Time, emit func(context.Context, T) error) error {
	step := pf.Window
	if step <= 0 {
		step = pf.Recent
	}
	spent := func() bool { return pf.Budget > 0 && s.Now().Sub(syncStart) >= pf.Budget }
	backward := func(t *state.Table) *state.Mark { return &t.History.Mark }
	for windows := 0; ; windows++ {
		if (pf.MaxWindows > 0 && windows >= pf.MaxWindows) || spent() {
			s.logger.Info("history paused", "until", st.History.Until, "windows", windows)
			return nil
		}
		h := st.History
		if !pf.Oldest.IsZero() && !h.Until.After(pf.Oldest) {
			// The recent window already reaches back to Oldest.
			h.Done = true
			return s.Commit(ctx, *st)
		}
		lo := h.Until.Add(-step)
		if !pf.Oldest.IsZero() && lo.Before(pf.Oldest) {
			lo = pf.Oldest
		}
		w := Window{Since: lo, Until: h.Until}
		s.logger.Debug("history window", "window", w, "mark", h.Mark)
		rows := 0
		err := inc.pass(ctx, s, st, w, backward, emit, func(n int) error {
			rows += n
			if spent() {
				return errBudget
			}
			return nil
		})
		if errors.Is(err, errBudget) {
			s.logger.Info("history paused: budget spent", "window", w)
			return nil
		}
		if err != nil {
			return err
		}
		// The window is complete: move the edge back.
		h = st.History
		h.Until, h.Mark = lo, state.Mark{}
		switch {
		case !pf.Oldest.IsZero() && !lo.After(pf.Oldest):
			h.Done = true
		case pf.Oldest.IsZero() && rows == 0:
			older, err := inc.any(ctx, Window{Until: lo})
			if err != nil {
				return err
			}
			h.Done = !older
		}
		if err := s.Commit(ctx, *st); err != nil {
			return err
		}
		if h.Done {
			s.logger.Info("history complete", "until", h.Until)
			return nil
		}
	}
}

// any reports whether the source has a row in w.
func (inc Incremental[T]) any(ctx context.Context, w Window) (bool, error) {
	for page, err := range inc.Pages(w).Pages(ctx) {
		if err != nil {
			return false, fmt.Errorf("connector: probing for history in %s: %w", w, err)
		}
		if len(page.Items) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// pass pages through w, emitting the rows after the mark that markOf picks
// in st, and commits st after every page with the mark advanced. afterPage,
// if set, runs after each commit with the page's row count.
//
// Each response must be in (updatedAt, id) order: disorder within one
// response is ErrOutOfOrder, since a mark past rows the source has yet to
// send would skip them on resume. Across pages, order is not guaranteed
// when the collection changes under offset paging (more so with pages
// fetched concurrently): rows repeat across a boundary, or arrive after
// newer ones. A row the previous page held is skipped, as it was written;
// any other row older than the previous page is written, with one warning
// per pass, and the mark never moves back.
func (inc Incremental[T]) pass(ctx context.Context, s *Sync, st *state.Table, w Window,
	markOf func(*state.Table) *state.Mark, emit func(context.Context, T) error, afterPage func(rows int) error) error {
	floor := *markOf(st)
	if inc.Lookback > 0 {
		floor = state.Mark{} // re-read the lookback: emit everything fetched
	}
	var prevKeys, keys []state.Mark // the previous page's keys, and this page's, in order
	warned := false
	p := inc.Pages(w)
	for page, err := range p.Pages(ctx) {
		if err != nil {
			return fmt.Errorf("connector: incremental pass over %s: %w", w, err)
		}
		var boundary state.Mark // the last row of the previous page
		if len(prevKeys) > 0 {
			boundary = prevKeys[len(prevKeys)-1]
		}
		keys = keys[:0]
		for _, it := range page.Items {
			if inc.Check != nil {
				if err := inc.Check(it); err != nil {
					s.Skip(err, it)
					continue
				}
			}
			k := inc.Key(it)
			if n := len(keys); n > 0 && k.Before(keys[n-1]) {
				return fmt.Errorf("%w: %s came after %s in one response over %s", ErrOutOfOrder, k, keys[n-1], w)
			}
			keys = append(keys, k)
			if !boundary.IsZero() && !boundary.Before(k) {
				if _, seen := slices.BinarySearchFunc(prevKeys, k, state.Mark.Compare); seen {
					continue // the previous page's row again: already written
				}
				if !warned {
					warned = true
					s.logger.Warn("a row older than the previous page: the collection changed during offset paging, "+
						"or the source does not order by (updatedAt, id); set a Lookback if it orders by updatedAt alone",
						"row", k, "previous_page_ends", boundary, "window", w)
				}
			}
			if !floor.IsZero() && !floor.Before(k) {
				continue // at or before the mark: already written
			}
			if err := emit(ctx, it); err != nil {
				return err
			}
		}
		if n := len(keys); n > 0 {
			if m := markOf(st); m.Before(keys[n-1]) {
				*m = keys[n-1]
			}
		}
		if err := s.Commit(ctx, *st); err != nil {
			return err
		}
		if afterPage != nil {
			if err := afterPage(len(page.Items)); err != nil {
				return err
			}
		}
		if len(keys) > 0 {
			prevKeys, keys = keys, prevKeys
		}
	}
	return nil
}
