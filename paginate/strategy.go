package paginate

import (
	"context"
	"fmt"
	"strings"
)

// Kind names a pagination scheme.
type Kind uint8

// The kinds of [Strategy].
const (
	KindOffset Kind = iota + 1
	KindPageNumber
	KindToken
	KindKeyset
)

// String returns the kind's name: "offset", "page", "token" or "keyset".
func (k Kind) String() string {
	switch k {
	case KindOffset:
		return "offset"
	case KindPageNumber:
		return "page"
	case KindToken:
		return "token"
	case KindKeyset:
		return "keyset"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Stop is a set of signals that end a collection. Rules that infer the end
// (StopEmpty, StopShort, StopTotal, StopNoNext) give way when the same
// response says more follows: HasMore is [Yes] or, for [Token], Next is
// set.
type Stop uint8

const (
	// StopEmpty ends on a page without items.
	StopEmpty Stop = 1 << iota
	// StopShort ends on a page with fewer items than the limit. Off by
	// default: servers cap the page size without saying so.
	StopShort
	// StopTotal ends once the position reaches the reported Total.
	StopTotal
	// StopHasMore ends when the response says HasMore is [No].
	StopHasMore
	// StopNoNext ends when the response names no next token or URL,
	// unless it says HasMore is [Yes].
	StopNoNext
	// StopMissingNext ends on a page that says more follows but gives no
	// way to advance (see [ErrNoNext]), for APIs known to answer
	// has_more=true on their last page. Off by default: such a page is
	// an ErrNoNext error, since ending there could drop the rest.
	StopMissingNext
)

// String lists the rules, as in "empty|total|has_more".
func (s Stop) String() string {
	names := []string{"empty", "short", "total", "has_more", "no_next", "missing_next"}
	var out []string
	for i, n := range names {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, "|")
}

// Strategy decides the next cursor from a page and when the collection
// ends. Build one with [Offset], [PageNumber], [Token] or [Keyset]; the
// methods return modified copies, so a Strategy can be shared freely. The
// zero Strategy is invalid: a Paginator built with it yields an error.
type Strategy struct {
	kind  Kind
	limit int
	first int64
	stop  Stop
}

// Offset pages with an offset and a limit. The next offset advances by the
// number of items received, not by limit, so a server that caps the page
// size silently loses nothing. It ends on an empty page, on the reported
// total, or on HasMore [No].
//
// Offset paging skips or repeats items when the collection changes during
// the run; prefer [Keyset] where the source allows it.
func Offset(limit int) Strategy {
	return Strategy{kind: KindOffset, limit: limit, stop: StopEmpty | StopTotal | StopHasMore}
}

// PageNumber pages with page numbers starting at first (0 or 1) and a page
// size. It ends on an empty page, on the reported total, or on HasMore [No].
// Like [Offset], it skips or repeats items when the collection changes
// during the run.
func PageNumber(first, size int) Strategy {
	return Strategy{kind: KindPageNumber, limit: size, first: int64(first), stop: StopEmpty | StopTotal | StopHasMore}
}

// Token follows the token or next URL that each response names in
// [Page.Next], from its body or from a Link header (see [NextLink]). It ends
// when a response names no next token, or says HasMore [No]. An empty page
// that still names a next token is not the end. Limit, set with
// [Strategy.WithLimit], is passed to the Source in [Cursor.Limit] for APIs
// that take a page size beside the token. A page that says HasMore [Yes]
// but names no next token is an [ErrNoNext] error unless the stop rules
// include [StopMissingNext]. A Source whose tokens are URLs sets
// [Page.Self], so that a next URL leading back to the first page is a
// loop.
func Token() Strategy {
	return Strategy{kind: KindToken, stop: StopNoNext | StopHasMore}
}

// Keyset pages by the key of the last item: the Source reports the
// position of each page in [Page.Key], the Paginator stores it in
// [Cursor.Key], and the Source asks for the items strictly after it, in
// key order. For an incremental sync the key is usually (updatedAt, id),
// encoded so that the Source can parse it back. Keyset paging neither
// skips nor repeats items while the collection changes. It ends on an
// empty page or on HasMore [No].
//
// A Source whose items carry their key wraps itself in [Keyed], which
// fills Page.Key from the items with a key function typed by the
// Source's item type, so that a key of the wrong type does not compile. A
// page of items none of which has a new key ends the run with
// [ErrCursorLoop].
func Keyset(limit int) Strategy {
	return Strategy{kind: KindKeyset, limit: limit, stop: StopEmpty | StopHasMore}
}

// Keyed returns src with Page.Key set, on every page that src leaves it
// empty, to the key of the last item that has one: key may return "" for
// an item that lacks its sort key (a record with a missing field), which
// is yielded but cannot be paged after. Use it with [Keyset].
func Keyed[T any](src Source[T], key func(T) string) Source[T] {
	return SourceFunc[T](func(ctx context.Context, c Cursor) (Page[T], error) {
		pg, err := src.Fetch(ctx, c)
		if err != nil || pg.Key != "" {
			return pg, err
		}
		for i := len(pg.Items) - 1; i >= 0; i-- {
			if k := key(pg.Items[i]); k != "" {
				pg.Key = k
				break
			}
		}
		return pg, nil
	})
}

// Kind returns the strategy's kind.
func (s Strategy) Kind() Kind { return s.kind }

// Limit returns the page size the strategy asks for, zero if none.
func (s Strategy) Limit() int { return s.limit }

// First returns the number of the first page of a [PageNumber] strategy.
func (s Strategy) First() int { return int(s.first) }

// Stops returns the rules that end the collection.
func (s Strategy) Stops() Stop { return s.stop }

// WithStop returns a copy of s that ends the collection on exactly the
// given rules.
func (s Strategy) WithStop(rules Stop) Strategy {
	s.stop = rules
	return s
}

// WithLimit returns a copy of s that asks for n items per page.
func (s Strategy) WithLimit(n int) Strategy {
	s.limit = n
	return s
}

// String describes s, as in "offset(limit=100, stop=empty|total|has_more)".
func (s Strategy) String() string {
	if s.kind == 0 {
		return "invalid strategy"
	}
	var b strings.Builder
	b.WriteString(s.kind.String())
	b.WriteString("(")
	if s.kind == KindPageNumber {
		fmt.Fprintf(&b, "first=%d, ", s.first)
	}
	if s.limit > 0 {
		fmt.Fprintf(&b, "limit=%d, ", s.limit)
	}
	fmt.Fprintf(&b, "stop=%s)", s.stop)
	return b.String()
}

// check reports a strategy that cannot run.
func (s Strategy) check() error {
	switch s.kind {
	case KindOffset, KindKeyset:
		if s.limit < 0 {
			return fmt.Errorf("paginate: %s strategy: negative limit %d", s.kind, s.limit)
		}
	case KindPageNumber:
		if s.limit <= 0 {
			return fmt.Errorf("paginate: page strategy: page size %d, want > 0", s.limit)
		}
		if s.first < 0 {
			return fmt.Errorf("paginate: page strategy: first page %d, want 0 or 1", s.first)
		}
	case KindToken:
		if s.limit < 0 {
			return fmt.Errorf("paginate: token strategy: negative limit %d", s.limit)
		}
	default:
		return fmt.Errorf("paginate: zero Strategy: build one with Offset, PageNumber, Token or Keyset")
	}
	return nil
}
