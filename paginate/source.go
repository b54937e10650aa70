package paginate

import "context"

// Source fetches the page at a cursor. Any paged thing can be a Source: an
// HTTP API, a database query, a directory listing.
//
// Fetch must honour ctx and must not retain c. The zero Cursor asks for the
// first page; c.Limit is the page size the strategy asks for (zero when the
// strategy has none). A Source that cannot serve c returns an error, which
// the Paginator yields once, wrapped in a [*PageError].
type Source[T any] interface {
	Fetch(ctx context.Context, c Cursor) (Page[T], error)
}

// SourceFunc adapts a function to a [Source].
type SourceFunc[T any] func(ctx context.Context, c Cursor) (Page[T], error)

// Fetch calls f(ctx, c).
func (f SourceFunc[T]) Fetch(ctx context.Context, c Cursor) (Page[T], error) { return f(ctx, c) }
