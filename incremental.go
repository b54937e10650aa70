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

// Order is the order in which an incremental source lists its rows.
type Order uint8

const (
	// OldestFirst sources list rows in ascending (cursor, id) order: the
	// mark moves after every page.
	OldestFirst Order = iota
	// NewestFirst sources list rows in descending (cursor, id) order, as
	// Stripe does: a pass reads from the newest row down to the mark,
	// and the mark moves only once the pass completes.
	NewestFirst
)

// String returns "oldest first" or "newest first".
func (o Order) String() string {
	if o == NewestFirst {
		return "newest first"
	}
	return "oldest first"
}

// Incremental is a [Stream] over a source that can list rows by a cursor
// (an updatedAt time, a sequence number, a version) with a tie-breaker
// (an id), keeping a high-water mark in the stream's state: the
// [state.Mark] of the last row synced. Each sync reads only the rows
// after the mark. Rows that share the boundary cursor are neither
// repeated nor lost, and the state holds one mark, never a list of ids.
//
// Marks compare by the types of their values (see [state.Value]):
// numeric ids as numbers, times as instants, strings byte by byte, or by
// Compare when set.
//
// An OldestFirst source (the default) commits the mark after every page,
// so an interrupted sync resumes at the last checkpointed page. A
// NewestFirst source is read from the newest row down to the mark; the
// pass's position and its newest row are committed after every page, and
// the mark moves to that newest row when the pass completes, so an
// interrupted pass resumes where it stopped without losing the rows
// below it.
//
// With PriorityFirst set (oldest-first time cursors), each sync first
// brings the recent rows forward up to now, then fills history backwards
// in bounded windows (see [PriorityFirst]).
type Incremental[T any] struct {
	// Pages returns a Paginator over the rows in w, in the source's
	// Order. A source may ignore the bounds it cannot express: the
	// driver filters rows outside w itself. Newest-first passes resume
	// at the checkpointed cursor (the driver calls Paginator.From).
	Pages func(w Window) *paginate.Paginator[T]

	// Key returns a row's mark: its cursor value and its tie-breaker,
	// such as state.Mark{Cursor: state.Time(u.UpdatedAt), ID:
	// state.Int(u.ID)}.
	Key func(T) state.Mark

	// Emit writes one row, typically with w.Upsert, or w.Delete for a
	// tombstone, and any child rows with w.ReplaceChildren.
	Emit func(ctx context.Context, w *Writer, item T) error

	// Check, if set, vets each row before anything else looks at it. A
	// row it rejects is skipped with [Writer.Skip] (logged and counted)
	// and does not move the mark; use it for records with missing fields
	// or values the schema cannot take.
	Check func(T) error

	// Order is the order in which Pages lists rows: OldestFirst (the
	// zero value) or NewestFirst.
	Order Order

	// Compare, if set, orders marks instead of state.Mark.Compare, for
	// sources that sort by a rule of their own (a collation, version
	// strings). It must agree with the source's order.
	Compare func(a, b state.Mark) int

	// Lookback re-reads this much time before the mark on each pass, for
	// sources whose timestamps arrive late (a row committed with an
	// updatedAt a little in the past). Rows read again are emitted again,
	// which upserts make harmless. Time cursors only; zero re-reads
	// nothing.
	Lookback time.Duration

	// Granularity aligns the time bounds of every Window (Since, Until)
	// to a multiple of it, for sources that take whole seconds or
	// milliseconds: 0 keeps nanoseconds. Use time.Second for an API
	// whose since/until parameters are in seconds, so that adjacent
	// windows meet exactly.
	Granularity time.Duration

	// PriorityFirst, when its Recent is set, syncs recent rows before
	// history. Oldest-first sources with time cursors only.
	PriorityFirst PriorityFirst
}

// PriorityFirst is Fivetran's priority-first sync: the first sync brings
// the Recent window up to now, so that fresh data lands first; then every
// sync, after its forward pass, fills history backwards one Window at a
// time until Oldest, or until its Budget or MaxWindows is spent. Both
// cursors, the forward mark and the backward edge, live in the stream's
// state; later syncs continue the history where the last one stopped.
// The zero PriorityFirst is off.
type PriorityFirst struct {
	// Recent is how far back the first forward pass reaches; zero turns
	// priority-first off.
	Recent time.Duration
	// Window is the span of each backward step. Zero means Recent.
	Window time.Duration
	// Oldest is the oldest cursor time wanted. Zero means: until the
	// source has no row older than the backward edge.
	Oldest time.Time
	// Budget is the time a sync may spend on history, checked at page
	// boundaries. Zero means no limit.
	Budget time.Duration
	// MaxWindows is the number of backward windows a sync may complete,
	// for a history that is not Partitioned. Zero means no limit.
	MaxWindows int
	// Partitioned plans the history at the first sync, as windows of
	// Window from the recent edge down to Oldest (or to the source's
	// oldest row when Oldest is zero), each a partition of its own that
	// runs and resumes alone: concurrently in one process (see
	// Options.Partitions), or as separate tasks on several machines (see
	// Connector.Plan). Budget applies to each partition.
	Partitioned bool
}

// ErrStateMismatch reports a stream state written by another kind of
// stream (a full refresh's cursor read by an incremental stream, a
// newest-first pass read by an oldest-first one): reading it would pass
// stale positions to the source. Remove the table's entry from the state
// to start the table over.
var ErrStateMismatch = errors.New("connector: the table's state was written by another kind of stream")

// errBudget stops a history pass at a page boundary.
var errBudget = errors.New("history budget spent")

// Read runs the incremental sync of the stream's table.
func (inc Incremental[T]) Read(ctx context.Context, w *Writer) error {
	if err := inc.check(); err != nil {
		return err
	}
	st := w.State()
	d := &incremental[T]{inc: inc, w: w, cmp: inc.Compare}
	if d.cmp == nil {
		d.cmp = state.Mark.Compare
	}
	if inc.Order == NewestFirst {
		if err := checkStateFor(st, "a newest-first incremental stream", true); err != nil {
			return err
		}
		if st.History != nil {
			return fmt.Errorf("%w: it holds a priority-first history, which a newest-first stream does not keep", ErrStateMismatch)
		}
		return d.newestFirst(ctx, &st)
	}
	if err := checkStateFor(st, "an oldest-first incremental stream", false); err != nil {
		return err
	}
	if st.Pass != nil {
		return fmt.Errorf("%w: it holds a newest-first pass in progress, and this stream lists oldest first", ErrStateMismatch)
	}
	return d.oldestFirst(ctx, &st)
}

func (inc Incremental[T]) check() error {
	pf := inc.PriorityFirst
	switch {
	case inc.Pages == nil || inc.Key == nil || inc.Emit == nil:
		return errors.New("connector: Incremental needs Pages, Key and Emit")
	case inc.Order != OldestFirst && inc.Order != NewestFirst:
		return fmt.Errorf("connector: Incremental: invalid Order %d", inc.Order)
	case pf.Recent < 0 || pf.Window < 0 || pf.Budget < 0 || pf.MaxWindows < 0:
		return errors.New("connector: Incremental: PriorityFirst durations and MaxWindows must not be negative")
	case pf.Recent > 0 && inc.Order == NewestFirst:
		return errors.New("connector: Incremental: PriorityFirst needs an OldestFirst source (a newest-first pass brings recent rows first anyway)")
	case inc.Lookback < 0 || inc.Granularity < 0:
		return errors.New("connector: Incremental: Lookback and Granularity must not be negative")
	}
	return nil
}

// checkStateFor rejects a state that another kind of stream wrote: a
// full refresh keeps only a cursor, an oldest-first incremental stream
// never keeps one, and a newest-first one keeps one only with its pass.
func checkStateFor(st state.Table, what string, newestFirst bool) error {
	incremental := !st.Mark.IsZero() || st.Pass != nil || st.History != nil
	switch {
	case what == "a full refresh" && incremental:
		return fmt.Errorf("%w: it holds an incremental mark or pass (%s), and this stream is %s", ErrStateMismatch, describeState(st), what)
	case what != "a full refresh" && !st.Cursor.IsZero() && (!newestFirst || st.Pass == nil):
		return fmt.Errorf("%w: it holds a paging cursor outside a newest-first pass (%s), and this stream is %s", ErrStateMismatch, describeState(st), what)
	}
	return nil
}

// incremental is one run of an Incremental driver.
type incremental[T any] struct {
	inc Incremental[T]
	w   *Writer
	cmp func(a, b state.Mark) int
}

// align converts *m, a checkpointed mark, to the types of k, the first
// key a pass sees: marks checkpointed before the types were declared
// (version 1 states keep ids as strings) then compare by the row's
// types. It also checks that options needing a time cursor have one.
func (d *incremental[T]) align(m *state.Mark, k state.Mark) error {
	if k.Cursor.Type() != state.TypeTime && (d.inc.Lookback > 0 || d.inc.PriorityFirst.Recent > 0) {
		return fmt.Errorf("connector: Incremental: Lookback and PriorityFirst need a time cursor; Key returned a %s cursor (%s)", k.Cursor.Type(), k)
	}
	c, err := m.As(k.Cursor.Type(), k.ID.Type())
	if err != nil {
		return fmt.Errorf("connector: the checkpointed mark %s cannot be compared with the rows' keys such as %s: %w", *m, k, err)
	}
	*m = c
	return nil
}

// floor aligns t down to the driver's granularity.
func (d *incremental[T]) floor(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	t = t.UTC()
	if g := d.inc.Granularity; g > 0 {
		t = t.Truncate(g)
	}
	return t
}

// oldestFirst runs the forward pass and, with priority-first, history.
func (d *incremental[T]) oldestFirst(ctx context.Context, st *state.Table) error {
	pf := d.inc.PriorityFirst
	syncStart := d.w.Now()
	if pf.Recent <= 0 && st.History != nil && !st.History.Done {
		d.w.Logger().Warn("the state holds a priority-first history, but PriorityFirst is off: history is not filled", "history", describeState(*st))
	}
	if !d.w.partitionOnly() {
		// Forward: from the mark (less the lookback), or from the recent
		// edge while the mark is zero, up to now and beyond.
		var since time.Time
		switch {
		case !st.Mark.IsZero():
			if t := st.Mark.Cursor.Time(); !t.IsZero() {
				since = d.floor(t.Add(-d.inc.Lookback))
			}
		case pf.Recent > 0 && st.History != nil:
			since = st.History.Start
		case pf.Recent > 0:
			since = d.floor(syncStart.Add(-pf.Recent))
			st.History = &state.History{Start: since, Until: since}
		}
		commit := func(ctx context.Context) error { return d.w.Commit(ctx, *st) }
		if _, err := d.pass(ctx, d.w, Window{Since: since}, &st.Mark, commit, nil); err != nil {
			return err
		}
	}
	if pf.Recent <= 0 || (st.History != nil && st.History.Done) {
		return nil
	}
	if pf.Partitioned {
		return d.partitionedHistory(ctx, st, syncStart)
	}
	if st.History == nil {
		return nil
	}
	return d.history(ctx, st, syncStart)
}

// step is the span of a history window, in whole units of the
// granularity so that windows stay aligned.
func (d *incremental[T]) step() time.Duration {
	pf := d.inc.PriorityFirst
	step := pf.Window
	if step <= 0 {
		step = pf.Recent
	}
	if g := d.inc.Granularity; g > 0 && step%g != 0 {
		step = (step/g + 1) * g
	}
	return step
}

// plan makes the history plan of a partitioned priority-first stream:
// windows of Window from the recent edge down to Oldest (or to the
// source's oldest row), newest first, each a partition.
func (inc Incremental[T]) plan(ctx context.Context, w *Writer) (own bool, err error) {
	pf := inc.PriorityFirst
	if err := inc.check(); err != nil || pf.Recent <= 0 || !pf.Partitioned {
		return true, err
	}
	d := &incremental[T]{inc: inc, w: w, cmp: inc.Compare}
	st := w.State()
	if err := checkStateFor(st, "an oldest-first incremental stream", false); err != nil {
		return true, err
	}
	if st.Partitions != nil || (st.History != nil && st.History.Done) {
		return true, nil // planned once, for good
	}
	if st.History == nil {
		edge := d.floor(w.Now().Add(-pf.Recent))
		st.History = &state.History{Start: edge, Until: edge}
	}
	edge := st.History.Until
	oldest := d.floor(pf.Oldest)
	if oldest.IsZero() {
		first, found, err := d.oldestBefore(ctx, edge)
		if err != nil {
			return true, err
		}
		if found {
			oldest = d.floor(first)
		}
	}
	plan := []*state.Partition{}
	for hi := edge; !oldest.IsZero() && hi.After(oldest); {
		lo := hi.Add(-d.step())
		if lo.Before(oldest) {
			lo = oldest
		}
		plan = append(plan, &state.Partition{ID: lo.Format(time.RFC3339Nano), Since: lo, Until: hi})
		hi = lo
	}
	st.Partitions = plan
	if len(plan) == 0 {
		st.History.Done = true
	}
	w.logger.Info("history planned", "partitions", len(plan), "from", oldest, "until", edge)
	return true, w.Commit(ctx, st)
}

// partitionedHistory runs the planned history partitions, planning them
// first if needed.
func (d *incremental[T]) partitionedHistory(ctx context.Context, st *state.Table, syncStart time.Time) error {
	if !d.w.partitionOnly() && st.Partitions == nil {
		if _, err := d.inc.plan(ctx, d.w); err != nil {
			return err
		}
	}
	pf := d.inc.PriorityFirst
	spent := func() bool { return pf.Budget > 0 && d.w.Now().Sub(syncStart) >= pf.Budget }
	err := d.w.runPartitions(ctx, func(ctx context.Context, pw *Writer, p state.Partition) error {
		commit := func(ctx context.Context) error { return pw.commitPartition(ctx, p) }
		win := Window{Since: p.Since, Until: p.Until, Partition: &p}
		_, err := d.pass(ctx, pw, win, &p.Mark, commit, func() error {
			if spent() {
				return errBudget
			}
			return nil
		})
		if errors.Is(err, errBudget) {
			pw.Logger().Info("history partition paused: budget spent")
			return nil
		}
		if err != nil {
			return err
		}
		p.Done = true
		return commit(ctx)
	})
	if err != nil || d.w.partitionOnly() {
		return err
	}
	// Every partition this run could see is done: so is history.
	latest := d.w.State()
	for _, p := range latest.Partitions {
		if !p.Done {
			return nil
		}
	}
	latest.History.Done = true
	d.w.logger.Info("history complete", "partitions", len(latest.Partitions))
	return d.w.Commit(ctx, latest)
}

// history fills the backward windows of priority-first.
func (d *incremental[T]) history(ctx context.Context, st *state.Table, syncStart time.Time) error {
	pf := d.inc.PriorityFirst
	step := d.step()
	oldest := d.floor(pf.Oldest)
	spent := func() bool { return pf.Budget > 0 && d.w.Now().Sub(syncStart) >= pf.Budget }
	commit := func(ctx context.Context) error { return d.w.Commit(ctx, *st) }
	for windows := 0; ; windows++ {
		if (pf.MaxWindows > 0 && windows >= pf.MaxWindows) || spent() {
			d.w.Logger().Info("history paused", "until", st.History.Until, "windows", windows)
			return nil
		}
		h := st.History
		if !oldest.IsZero() && !h.Until.After(oldest) {
			h.Done = true // the recent window already reaches back to Oldest
			return d.w.Commit(ctx, *st)
		}
		lo := h.Until.Add(-step)
		if !oldest.IsZero() && lo.Before(oldest) {
			lo = oldest
		}
		win := Window{Since: lo, Until: h.Until}
		rows, err := d.pass(ctx, d.w, win, &st.History.Mark, commit, func() error {
			if spent() {
				return errBudget
			}
			return nil
		})
		if errors.Is(err, errBudget) {
			d.w.Logger().Info("history paused: budget spent", "window", win)
			return nil
		}
		if err != nil {
			return err
		}
		// The window is complete: move the edge back.
		h = st.History
		h.Until, h.Mark = lo, state.Mark{}
		switch {
		case !oldest.IsZero() && !lo.After(oldest):
			h.Done = true
		case oldest.IsZero() && rows == 0:
			older, err := d.anyBefore(ctx, lo)
			if err != nil {
				return err
			}
			h.Done = !older
		}
		if err := d.w.Commit(ctx, *st); err != nil {
			return err
		}
		if h.Done {
			d.w.Logger().Info("history complete", "until", h.Until)
			return nil
		}
	}
}

// anyBefore reports whether the source has a row with a cursor before t.
func (d *incremental[T]) anyBefore(ctx context.Context, t time.Time) (bool, error) {
	_, found, err := d.oldestBefore(ctx, t)
	return found, err
}

// oldestBefore returns the cursor time of the source's oldest row, if it
// is before t. The source lists oldest first, so its first valid row
// says.
func (d *incremental[T]) oldestBefore(ctx context.Context, t time.Time) (time.Time, bool, error) {
	win := Window{Until: t}
	for page, err := range d.inc.Pages(win).Pages(ctx) {
		if err != nil {
			return time.Time{}, false, fmt.Errorf("connector: probing for history before %s: %w", t.Format(time.RFC3339Nano), err)
		}
		for _, it := range page.Items {
			if d.inc.Check != nil && d.inc.Check(it) != nil {
				continue
			}
			first := d.inc.Key(it).Cursor.Time()
			return first, first.Before(t), nil
		}
	}
	return time.Time{}, false, nil
}

// pass pages oldest first through win, writing through w the rows after
// *mark, and calls commit after every page with *mark advanced. It
// returns how many rows the window held. afterPage, if set, runs after
// each commit and may stop the pass with an error.
//
// Each response must be in ascending order: disorder within one response
// is ErrOutOfOrder, since a mark past rows the source has yet to send
// would skip them on resume. Across pages, order is not guaranteed when
// the collection changes under offset paging (more so with pages fetched
// concurrently): rows repeat across a boundary, or arrive after newer
// ones. A row the previous page held is skipped, as it was written; any
// other row older than the previous page is written, with one warning per
// pass, and the mark never moves back. Rows outside win are dropped; the
// first row past win.Until ends the pass, as the source is sorted.
func (d *incremental[T]) pass(ctx context.Context, w *Writer, win Window, mark *state.Mark,
	commit func(context.Context) error, afterPage func() error) (rows int, err error) {
	win.After = *mark
	p := d.inc.Pages(win)
	if p == nil {
		return 0, errors.New("connector: Incremental.Pages returned a nil Paginator")
	}
	var floor state.Mark // rows at or before it are written
	floorSet := false
	var prevKeys, keys []state.Mark // the previous page's keys, and this page's, in order
	warned := false
	n := 0
	for page, err := range p.Pages(ctx) {
		if err != nil {
			return rows, fmt.Errorf("connector: incremental pass over %s: %w", win, err)
		}
		n++
		var boundary state.Mark // the last row of the previous page
		if len(prevKeys) > 0 {
			boundary = prevKeys[len(prevKeys)-1]
		}
		keys = keys[:0]
		past := false
		var last state.Mark // the last row of the page within the window
		for i, it := range page.Items {
			if d.inc.Check != nil {
				if err := d.inc.Check(it); err != nil {
					w.Skip(err, position(n, i))
					continue
				}
			}
			k := d.inc.Key(it)
			if !floorSet {
				// The first row: convert the checkpointed mark to its
				// types, then read the floor.
				if err := d.align(mark, k); err != nil {
					return rows, err
				}
				floorSet = true
				if d.inc.Lookback <= 0 {
					floor = *mark
				}
			}
			if m := len(keys); m > 0 && d.cmp(k, keys[m-1]) < 0 {
				return rows, fmt.Errorf("%w: %s came after %s in one response over %s", ErrOutOfOrder, k, keys[m-1], win)
			}
			keys = append(keys, k)
			if t := k.Cursor.Time(); k.Cursor.Type() == state.TypeTime {
				if !win.Until.IsZero() && !t.Before(win.Until) {
					past = true // sorted: the rest of the source is past the window too
					break
				}
				if !win.Since.IsZero() && t.Before(win.Since) {
					continue // the source ignored Since
				}
			}
			rows++
			last = k
			if !boundary.IsZero() && d.cmp(boundary, k) >= 0 {
				if _, seen := slices.BinarySearchFunc(prevKeys, k, d.cmp); seen {
					continue // the previous page's row again: already written
				}
				if !warned {
					warned = true
					w.Logger().Warn("a row older than the previous page: the collection changed during offset paging, "+
						"or the source does not order by (cursor, id); set a Lookback if it orders by the cursor alone",
						"row", k, "previous_page_ends", boundary, "window", win)
				}
			}
			if !floor.IsZero() && d.cmp(floor, k) >= 0 {
				continue // at or before the mark: already written
			}
			if err := d.inc.Emit(ctx, w, it); err != nil {
				return rows, err
			}
		}
		if !last.IsZero() && d.cmp(*mark, last) < 0 {
			*mark = last
		}
		if err := commit(ctx); err != nil {
			return rows, err
		}
		if afterPage != nil {
			if err := afterPage(); err != nil {
				return rows, err
			}
		}
		if past {
			break
		}
		if len(keys) > 0 {
			prevKeys, keys = keys, prevKeys
		}
	}
	return rows, nil
}

// newestFirst runs a newest-first pass, or resumes the one in progress:
// from the newest row down to the mark, then the mark moves to the pass's
// newest row.
func (d *incremental[T]) newestFirst(ctx context.Context, st *state.Table) error {
	if st.Pass == nil {
		st.Pass = &state.Pass{}
		st.Cursor = paginate.Cursor{}
	}
	win := Window{After: st.Mark}
	if t := st.Mark.Cursor.Time(); !t.IsZero() {
		win.Since = d.floor(t.Add(-d.inc.Lookback))
	}
	p := d.inc.Pages(win)
	if p == nil {
		return errors.New("connector: Incremental.Pages returned a nil Paginator")
	}
	p = p.From(st.Cursor)
	var floor state.Mark // rows at or below it are synced: the pass ends there
	floorSet := false
	var prev state.Mark // the previous row of the response
	reached := false
	n := 0
	for page, err := range p.Pages(ctx) {
		if err != nil {
			return fmt.Errorf("connector: newest-first pass down to %s: %w", st.Mark, err)
		}
		n++
		prev = state.Mark{}
		for i, it := range page.Items {
			if d.inc.Check != nil {
				if err := d.inc.Check(it); err != nil {
					d.w.Skip(err, position(n, i))
					continue
				}
			}
			k := d.inc.Key(it)
			if !floorSet {
				for _, m := range []*state.Mark{&st.Mark, &st.Pass.Top, &st.Pass.Last} {
					if err := d.align(m, k); err != nil {
						return err
					}
				}
				floorSet = true
				floor = st.Mark
				if d.inc.Lookback > 0 && !floor.IsZero() {
					floor = state.Mark{Cursor: state.Time(floor.Cursor.Time().Add(-d.inc.Lookback))}
				}
			}
			if !prev.IsZero() && d.cmp(k, prev) > 0 {
				return fmt.Errorf("%w: %s came after %s in one response of a newest-first source", ErrOutOfOrder, k, prev)
			}
			prev = k
			pass := st.Pass
			if !pass.Last.IsZero() && d.cmp(k, pass.Last) >= 0 {
				// At or above the pass's position: handled already (a
				// resumed page, or rows shifted down by an insert), or
				// newer than the pass, which the next pass reads.
				continue
			}
			if !floor.IsZero() && d.cmp(k, floor) <= 0 {
				reached = true // the rest is older: synced before
				break
			}
			if err := d.inc.Emit(ctx, d.w, it); err != nil {
				return err
			}
			if pass.Top.IsZero() || d.cmp(k, pass.Top) > 0 {
				pass.Top = k
			}
			pass.Last = k
		}
		st.Cursor = p.Cursor()
		if err := d.w.Commit(ctx, *st); err != nil {
			return err
		}
		if reached {
			break
		}
	}
	// The pass is complete: everything from its newest row down to the
	// old mark is synced.
	if top := st.Pass.Top; !top.IsZero() && (st.Mark.IsZero() || d.cmp(top, st.Mark) > 0) {
		st.Mark = top
	}
	st.Pass, st.Cursor = nil, paginate.Cursor{}
	return d.w.Commit(ctx, *st)
}
