package paginate

import "log/slog"

// Options tune a [Paginator]. The zero value means defaults: start at the
// beginning, one page at a time, loop detection on, no page limit, warnings
// to slog.Default().
type Options struct {
	// Start is the cursor of the first fetch, usually a checkpointed
	// [Paginator.Cursor]. Zero starts at the beginning.
	Start Cursor

	// Concurrency is the number of pages in flight. For Offset and
	// PageNumber, up to Concurrency pages are fetched at once and yielded
	// in order. For Token and Keyset, 2 or more fetches the next page
	// while the caller works on the current one. 0 and 1 fetch one page at
	// a time, after the caller is done with the previous one.
	Concurrency int

	// MaxPages ends a run with [ErrMaxPages] after this many pages if the
	// collection has not ended. Zero means no limit.
	MaxPages int

	// AllowRepeats turns loop detection off, for sources whose tokens
	// legitimately repeat. MaxPages is then the only guard.
	AllowRepeats bool

	// Logger receives warnings, such as a total that changed during an
	// offset run. Nil means slog.Default().
	Logger *slog.Logger
}

// Option sets a field of [Options].
type Option func(*Options)

// StartAt starts the run at c.
func StartAt(c Cursor) Option { return func(o *Options) { o.Start = c } }

// WithConcurrency sets [Options.Concurrency].
func WithConcurrency(n int) Option { return func(o *Options) { o.Concurrency = n } }

// WithMaxPages sets [Options.MaxPages].
func WithMaxPages(n int) Option { return func(o *Options) { o.MaxPages = n } }
