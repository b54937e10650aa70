// Package paginate walks paged collections: HTTP APIs, database queries,
// object listings, anything that hands out items one page at a time.
//
// A [Source] fetches the page at a [Cursor]. A [Strategy] says how the next
// cursor follows from a page and which signals of the response end the
// collection. A [Paginator] combines the two and streams the items with
// [Paginator.All] or the pages with [Paginator.Pages], as iter.Seq2 values
// that yield an error once and then stop.
//
// # Strategies
//
//   - [Offset]: offset and limit. The next offset advances by the number of
//     items actually received, so a server that silently caps the page size
//     loses nothing.
//   - [PageNumber]: page numbers counted from 0 or 1, with a page size.
//   - [Token]: an opaque token or a next URL taken from the response body or
//     from an RFC 8288 Link header (package
//     [github.com/connectkit/connector/rest] reads both).
//   - [Keyset]: the key of the last item, reported by the source in
//     Page.Key (wrap a source with [Keyed] to compute it from the items
//     with a key function checked at compile time); the source asks for
//     the items strictly after it. Keyset paging is the only strategy that
//     neither skips nor repeats items while the collection changes under
//     it.
//
// # Stop rules
//
// Each strategy ends the collection on the signals named by its [Stop] set,
// which [Strategy.WithStop] replaces. The defaults never end early: a short
// page is not the last page unless the response says so (a server may cap
// the page size), and an empty page that still carries a next token or
// has_more=true is not the end either. An explicit statement of the response
// that more follows always wins over a rule that infers the end.
//
// # Safety
//
// Loop detection is on by default and includes the first request: a cursor
// already seen in the run (A,A or A,B,A, a last page whose next link points
// to itself, or a next URL leading back to the first page, which a Source
// names in [Page.Self]) ends the run with an error that satisfies
// errors.Is(err, [ErrCursorLoop]) before any page is yielded twice. A page
// that says more follows but gives no way to advance (has_more=true without
// a next token) is an [ErrNoNext] error unless the stop rules include
// [StopMissingNext]. A cursor of another strategy (a Token cursor given to
// an Offset strategy) is an [ErrBadCursor] error, and nothing is fetched. [Options.MaxPages]
// guards against an API that never ends. Nothing is fetched when a Paginator
// is built, and each call of All or Pages is an independent run from
// [Options.Start].
//
// # Resuming
//
// [Paginator.Cursor] is the resume point: the position after the last page
// the caller fully consumed. It is a comparable value that round-trips
// through JSON, so it can be checkpointed and handed to [Options.Start] in
// another process, which then yields exactly the remaining items.
// [Paginator.From] returns a copy of a Paginator that starts at a given
// cursor, so that a driver can resume a Paginator its user built.
//
// # Concurrency
//
// Where the next cursor is known before the response arrives (Offset and
// PageNumber), [Options.Concurrency] pages are fetched at once and yielded in
// order; a page that comes back shorter than predicted discards the
// speculative fetches after it, so nothing is skipped. Where it is not known
// (Token and Keyset), a Concurrency of 2 or more fetches the next page while
// the caller works on the current one. Memory is bounded by the pages in
// flight. Breaking out of the loop cancels every fetch in flight and returns
// only when all of them have ended.
//
// # Offset paging over a changing collection
//
// Offset and page-number paging over a collection that changes during the
// run skip or repeat items: when a row before the current offset is updated
// and moves to the end, or is deleted, every later row shifts left past the
// offset. When the responses report a total that changes during a run, the
// Paginator logs a warning. Use [Keyset] where the source supports it.
package paginate
