package paginate

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"sync"
)

// Paginator walks a [Source] with a [Strategy]. Build it with [New]; range
// over [Paginator.All] for items or [Paginator.Pages] for pages. Each range
// is an independent run that starts at [Options.Start]; nothing is fetched
// before the first range begins. The methods are safe to call from several
// goroutines, though concurrent runs of one Paginator share its Cursor.
type Paginator[T any] struct {
	src      Source[T]
	strategy Strategy
	opts     Options
	logger   *slog.Logger

	mu  sync.Mutex
	cur Cursor
}

// New returns a Paginator over src with strategy s. The options are applied
// to a copy of the defaults; nothing is fetched until a run begins.
// Problems with the arguments (a nil Source, a zero Strategy, a Keyset key
// function for another item type) are reported as the run's first error.
func New[T any](src Source[T], s Strategy, opts ...Option) *Paginator[T] {
	p := &Paginator[T]{src: src, strategy: s}
	for _, o := range opts {
		if o != nil {
			o(&p.opts)
		}
	}
	p.logger = p.opts.Logger
	if p.logger == nil {
		p.logger = slog.Default()
	}
	p.cur = p.opts.Start
	return p
}

// WithOptions replaces all of [Options] with a copy of o.
func WithOptions(o Options) Option { return func(dst *Options) { *dst = o } }

// Cursor returns the resume point of the latest run: the cursor after the
// last page the caller fully consumed. With [Paginator.Pages] a page counts
// as consumed once it is handed to the loop body, so the body may
// checkpoint Cursor() after writing the page. With [Paginator.All] it counts
// once the loop body has returned from the page's last item. Before any run,
// Cursor returns [Options.Start]. After a run that reached the end, the
// cursor is marked Done.
func (p *Paginator[T]) Cursor() Cursor {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

func (p *Paginator[T]) setCursor(c Cursor) {
	p.mu.Lock()
	p.cur = c
	p.mu.Unlock()
}

// Pages returns the pages of a new run, in order. After an error it yields
// (Page{}, err) once and stops; the error is a [*PageError]. Breaking out of
// the loop cancels any fetch in flight and returns once all have ended.
func (p *Paginator[T]) Pages(ctx context.Context) iter.Seq2[Page[T], error] {
	return func(yield func(Page[T], error) bool) {
		p.run(ctx, func(pg Page[T], after Cursor) bool {
			p.setCursor(after)
			return yield(pg, nil)
		}, func(err error) {
			yield(Page[T]{}, err)
		})
	}
}

// All returns the items of a new run, in order. After an error it yields
// (zero, err) once and stops; the error is a [*PageError]. Breaking out of
// the loop cancels any fetch in flight and returns once all have ended.
func (p *Paginator[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		p.run(ctx, func(pg Page[T], after Cursor) bool {
			for _, it := range pg.Items {
				if !yield(it, nil) {
					return false
				}
			}
			p.setCursor(after)
			return true
		}, func(err error) {
			var zero T
			yield(zero, err)
		})
	}
}

// start returns the cursor of the run's first fetch.
func (p *Paginator[T]) start() (Cursor, error) {
	s := p.strategy
	if err := s.check(); err != nil {
		return Cursor{}, err
	}
	if p.src == nil {
		return Cursor{}, fmt.Errorf("paginate: nil Source")
	}
	c := p.opts.Start
	if err := c.validate(); err != nil {
		return Cursor{}, err
	}
	if err := c.fits(s.kind); err != nil {
		return Cursor{}, err
	}
	if s.kind == KindPageNumber {
		if c.Page < s.first {
			c.Page = s.first
		} else if c.Limit > 0 && c.Limit != s.limit {
			// A page cursor of another page size: convert the position.
			pos := (c.Page - s.first) * int64(c.Limit)
			if pos%int64(s.limit) != 0 {
				return Cursor{}, fmt.Errorf("%w: page %d of size %d cannot resume with page size %d", ErrBadCursor, c.Page, c.Limit, s.limit)
			}
			c.Page = s.first + pos/int64(s.limit)
		}
	}
	c.Limit = s.limit
	return c, nil
}

// From returns a copy of p whose runs start at c instead of
// [Options.Start]: a driver resumes a Paginator that its user built,
// without the user handling cursors. The copy shares p's Source and
// Strategy and has its own Cursor. c is checked when a run begins, as
// Options.Start is.
func (p *Paginator[T]) From(c Cursor) *Paginator[T] {
	q := &Paginator[T]{src: p.src, strategy: p.strategy, opts: p.opts, logger: p.logger}
	q.opts.Start = c
	q.cur = c
	return q
}
