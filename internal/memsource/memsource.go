// Package memsource serves a slice as a paginate.Source for any strategy,
// with switches that make it behave like the awkward APIs the paginator
// must survive: capped page sizes, silent totals, lies about the last page.
// It exists for tests and examples.
package memsource

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/connectkit/connector/paginate"
)

// Source serves Items, in order, for cursors of strategy Kind.
type Source[T any] struct {
	Items []T
	Kind  paginate.Kind
	// First is the number of the first page, for KindPageNumber.
	First int64
	// Key returns an item's keyset key; Items must be sorted by it. Each
	// page reports the key of its last item in Page.Key.
	Key func(T) string
	// Cap is the largest page the source serves, whatever the limit
	// asked; 0 means no cap.
	Cap int
	// Default is the page size when the cursor has no limit; 0 means 10.
	Default int
	// Total and HasMore make pages report those fields.
	Total, HasMore bool
	// Fail, if set, is called before each fetch with its 1-based number;
	// a non-nil error is returned instead of the page.
	Fail func(n int64, c paginate.Cursor) error

	fetches atomic.Int64
}

// Fetches returns the number of Fetch calls so far.
func (s *Source[T]) Fetches() int64 { return s.fetches.Load() }

// Fetch serves the page at c.
func (s *Source[T]) Fetch(ctx context.Context, c paginate.Cursor) (paginate.Page[T], error) {
	n := s.fetches.Add(1)
	if err := ctx.Err(); err != nil {
		return paginate.Page[T]{}, err
	}
	if s.Fail != nil {
		if err := s.Fail(n, c); err != nil {
			return paginate.Page[T]{}, err
		}
	}
	limit := c.Limit
	if limit <= 0 {
		limit = s.Default
		if limit <= 0 {
			limit = 10
		}
	}
	if s.Cap > 0 && limit > s.Cap {
		limit = s.Cap
	}
	var start int
	switch s.Kind {
	case paginate.KindOffset:
		start = int(c.Offset)
	case paginate.KindPageNumber:
		start = int(c.Page-s.First) * limit
	case paginate.KindToken:
		if c.Token != "" {
			v, ok := strings.CutPrefix(c.Token, "pos-")
			i, err := strconv.Atoi(v)
			if !ok || err != nil || i < 0 {
				return paginate.Page[T]{}, fmt.Errorf("memsource: bad token %q", c.Token)
			}
			start = i
		}
	case paginate.KindKeyset:
		if c.Key != "" {
			start = sort.Search(len(s.Items), func(i int) bool { return s.Key(s.Items[i]) > c.Key })
		}
	default:
		return paginate.Page[T]{}, fmt.Errorf("memsource: unknown kind %v", s.Kind)
	}
	if start < 0 {
		return paginate.Page[T]{}, fmt.Errorf("memsource: negative position %d", start)
	}
	start = min(start, len(s.Items))
	end := min(start+limit, len(s.Items))
	pg := paginate.Page[T]{Items: append([]T(nil), s.Items[start:end]...)}
	if s.Kind == paginate.KindToken && end < len(s.Items) {
		pg.Next = "pos-" + strconv.Itoa(end)
	}
	if s.Kind == paginate.KindKeyset && end > start {
		pg.Key = s.Key(s.Items[end-1])
	}
	if s.Total {
		pg.Total = int64(len(s.Items))
	}
	if s.HasMore {
		pg.HasMore = paginate.FlagOf(end < len(s.Items))
	}
	return pg, nil
}

// Ints returns 0, 1, ..., n-1.
func Ints(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// IntKey is a keyset key for non-negative ints that sorts as the ints do.
func IntKey(i int) string { return fmt.Sprintf("%012d", i) }
