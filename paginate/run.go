package paginate

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
)

// run is the state of one range over a Paginator. Nothing in it outlives
// the range, so two runs never share loop detection or page counts.
type run[T any] struct {
	p     *Paginator[T]
	s     Strategy
	ctx   context.Context
	limit int // predicted page length for concurrent offset fetches

	seed   maphash.Seed
	seen   map[uint64]int // token or key hash -> page that produced it
	maxLen int            // longest page so far, the page size a server really uses

	total   int64 // first total reported, for drift warnings
	drifted bool

	// concurrent fetching
	window int
	cancel context.CancelFunc
	wg     sync.WaitGroup
	queue  []*slot[T]
}

// slot is one fetch in flight.
type slot[T any] struct {
	c      Cursor
	cancel context.CancelFunc
	done   chan struct{}
	page   Page[T]
	err    error
}

// run drives one pass: deliver gets each page with the cursor after it and
// returns false to stop; fail gets the one error that ends the run.
func (p *Paginator[T]) run(ctx context.Context, deliver func(Page[T], Cursor) bool, fail func(error)) {
	c, err := p.start()
	if err != nil {
		fail(err)
		return
	}
	p.setCursor(c)
	if c.Done {
		return
	}
	r := &run[T]{p: p, s: p.strategy, ctx: ctx, limit: p.strategy.limit, window: p.opts.Concurrency}
	if r.window > 1 {
		r.ctx, r.cancel = context.WithCancel(ctx)
		defer r.close()
	}
	if r.s.kind == KindToken || r.s.kind == KindKeyset {
		r.seed = maphash.MakeSeed()
		r.seen = make(map[uint64]int)
		r.seen[r.hash(c)] = 0
	}
	for n := 1; ; n++ {
		pg, err := r.fetch(c)
		if err != nil {
			fail(&PageError{Page: n, Cursor: c, Err: err})
			return
		}
		next, end, loop := r.advance(n, c, pg)
		after := next
		if end {
			after.Done = true
		} else if loop == nil && r.window > 1 {
			r.prefetch(next, pg)
		}
		if !deliver(pg, after) || end {
			return
		}
		if loop != nil {
			fail(&PageError{Page: n + 1, Cursor: next, Err: loop})
			return
		}
		if max := p.opts.MaxPages; max > 0 && n >= max {
			fail(&PageError{Page: n + 1, Cursor: next, Err: fmt.Errorf("%w: %d pages", ErrMaxPages, max)})
			return
		}
		c = next
	}
}

// fetch returns the page at c, from a fetch already in flight if there is
// one.
func (r *run[T]) fetch(c Cursor) (Page[T], error) {
	if err := r.ctx.Err(); err != nil {
		return Page[T]{}, err
	}
	if r.window <= 1 {
		return r.p.src.Fetch(r.ctx, c)
	}
	if len(r.queue) == 0 || r.queue[0].c != c {
		r.discard()
		r.launch(c)
		r.fill(0)
	}
	s := r.queue[0]
	select {
	case <-s.done:
	case <-r.ctx.Done():
		return Page[T]{}, r.ctx.Err()
	}
	r.queue = r.queue[1:]
	s.cancel()
	return s.page, s.err
}

// advance computes the cursor after page pg, fetched at c, and whether the
// collection ends there. stop is non-nil when the next cursor cannot make
// progress: ErrCursorLoop or ErrNoNext.
func (r *run[T]) advance(n int, c Cursor, pg Page[T]) (next Cursor, end bool, stop error) {
	s := r.s
	got := len(pg.Items)
	if got > r.maxLen {
		r.maxLen = got
	}
	next = c
	more := pg.HasMore == Yes
	canAdvance := true
	pos, hasPos := int64(0), false
	switch s.kind {
	case KindOffset:
		next.Offset = c.Offset + int64(got)
		pos, hasPos = next.Offset, true
		canAdvance = got > 0
	case KindPageNumber:
		next.Page = c.Page + 1
		// The longest page seen never exceeds the size the server uses, so
		// the position is never overestimated.
		pos, hasPos = (c.Page-s.first)*int64(r.maxLen)+int64(got), true
	case KindToken:
		next.Token = pg.Next
		more = more || pg.Next != ""
		canAdvance = pg.Next != ""
		if pg.Self != "" {
			// The page's own URL leads back to it: the first page's cursor
			// has no token, and a next URL naming it must count as seen.
			if _, ok := r.seen[r.hashToken(pg.Self)]; !ok {
				r.seen[r.hashToken(pg.Self)] = n - 1
			}
		}
	case KindKeyset:
		// The position the Source reports (see Keyed): the key of the
		// last item that has one.
		if pg.Key != "" {
			next.Key = pg.Key
		}
		canAdvance = got > 0
		if got > 0 && next.Key == c.Key && !r.p.opts.AllowRepeats {
			return next, false, fmt.Errorf("%w: no item of page %d has a keyset key after the current one", ErrCursorLoop, n)
		}
	}
	if hasPos && pg.Total > 0 {
		r.watchTotal(n, pg.Total)
	}

	switch {
	case s.stop&StopHasMore != 0 && pg.HasMore == No,
		s.stop&StopNoNext != 0 && pg.Next == "" && pg.HasMore != Yes:
		return next, true, nil
	case more:
	case s.stop&StopEmpty != 0 && got == 0,
		s.stop&StopShort != 0 && s.limit > 0 && got < s.limit,
		s.stop&StopTotal != 0 && hasPos && pg.Total > 0 && pos >= pg.Total:
		return next, true, nil
	}
	if !canAdvance {
		if s.stop&StopMissingNext != 0 {
			return next, true, nil
		}
		return next, false, fmt.Errorf("%w: page %d %s, so the %s cannot advance; add StopMissingNext to the stop rules to end there", ErrNoNext, n, r.noWay(pg), s.kind)
	}
	if r.p.opts.AllowRepeats {
		return next, false, nil
	}
	switch s.kind {
	case KindToken, KindKeyset:
		h := r.hash(next)
		if at, ok := r.seen[h]; ok {
			what := "the next token"
			if s.kind == KindKeyset {
				what = "the key of the last item"
			}
			return next, false, fmt.Errorf("%w: %s after page %d was already seen %s", ErrCursorLoop, what, n, seenAt(at))
		}
		r.seen[h] = n
	}
	return next, false, nil
}

// noWay says why page pg gives no way to advance.
func (r *run[T]) noWay(pg Page[T]) string {
	what := "says more follows"
	if pg.HasMore != Yes {
		what = "does not end the collection"
	}
	if r.s.kind == KindToken {
		return what + " but names no next token"
	}
	return what + " but is empty"
}

func seenAt(page int) string {
	if page == 0 {
		return "at the start of the run"
	}
	return fmt.Sprintf("after page %d", page)
}

func (r *run[T]) hash(c Cursor) uint64 {
	if r.s.kind == KindKeyset {
		return maphash.String(r.seed, c.Key)
	}
	return r.hashToken(c.Token)
}

func (r *run[T]) hashToken(token string) uint64 { return maphash.String(r.seed, token) }

// watchTotal warns, once per run, when the total an offset or page-number
// API reports changes: items moved under the run, which may have skipped or
// repeated some of them.
func (r *run[T]) watchTotal(n int, total int64) {
	switch {
	case r.total == 0:
		r.total = total
	case total != r.total && !r.drifted:
		r.drifted = true
		r.p.logger.Warn("paginate: collection changed during an "+r.s.kind.String()+" run; items may have been skipped or repeated; use keyset paging where the source allows it",
			"page", n, "first_total", r.total, "total", total)
	}
}

// prefetch starts the fetches that follow page pg, whose next cursor is
// next: next itself, and for offset and page numbers the predicted cursors
// after it, up to the window.
func (r *run[T]) prefetch(next Cursor, pg Page[T]) {
	if len(r.queue) > 0 && r.queue[0].c != next {
		// A short page moved the offset: the predictions are wrong.
		r.discard()
	}
	if got := len(pg.Items); got > 0 && r.s.kind == KindOffset {
		r.limit = got
	}
	if len(r.queue) == 0 {
		r.launch(next)
	}
	r.fill(pg.Total)
}

// fill launches predicted fetches after the last one queued until the
// window is full or the next cursor cannot be predicted.
func (r *run[T]) fill(total int64) {
	for len(r.queue) < r.window {
		c, ok := r.predict(r.queue[len(r.queue)-1].c, total)
		if !ok {
			return
		}
		r.launch(c)
	}
}

// predict returns the cursor after c, where it is known before c's page
// arrives, and not past a reported total.
func (r *run[T]) predict(c Cursor, total int64) (Cursor, bool) {
	stopAtTotal := r.s.stop&StopTotal != 0 && total > 0
	switch r.s.kind {
	case KindOffset:
		if r.limit <= 0 {
			return c, false
		}
		c.Offset += int64(r.limit)
		return c, !stopAtTotal || c.Offset < total
	case KindPageNumber:
		c.Page++
		return c, !stopAtTotal || r.maxLen == 0 || (c.Page-r.s.first)*int64(r.maxLen) < total
	}
	return c, false
}

// launch starts fetching c in a goroutine that ends with the run.
func (r *run[T]) launch(c Cursor) {
	ctx, cancel := context.WithCancel(r.ctx)
	s := &slot[T]{c: c, cancel: cancel, done: make(chan struct{})}
	r.queue = append(r.queue, s)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(s.done)
		defer func() {
			if v := recover(); v != nil {
				s.err = fmt.Errorf("paginate: Source panicked: %v", v)
			}
		}()
		s.page, s.err = r.p.src.Fetch(ctx, c)
	}()
}

// discard cancels every fetch in flight.
func (r *run[T]) discard() {
	for _, s := range r.queue {
		s.cancel()
	}
	r.queue = r.queue[:0]
}

// close cancels what is in flight and waits for it.
func (r *run[T]) close() {
	r.discard()
	r.cancel()
	r.wg.Wait()
}
