package paginate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/internal/memsource"
	"github.com/connectkit/connector/paginate"
)

// collect drains an iterator, returning the items and every error.
func collect[T any](seq func(func(T, error) bool)) ([]T, []error) {
	var items []T
	var errs []error
	for it, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, it)
	}
	return items, errs
}

// scripted serves fixed pages in sequence, whatever the cursor, and
// records the cursors it was asked for.
type scripted[T any] struct {
	pages []paginate.Page[T]
	asked []paginate.Cursor
	key   func(T) string // for keyset strategies: fills Page.Key as paginate.Keyed does
}

func (s *scripted[T]) Fetch(_ context.Context, c paginate.Cursor) (paginate.Page[T], error) {
	s.asked = append(s.asked, c)
	if len(s.asked) > len(s.pages) {
		return paginate.Page[T]{}, fmt.Errorf("scripted: fetch %d past the script at %v", len(s.asked), c)
	}
	pg := s.pages[len(s.asked)-1]
	if s.key != nil && pg.Key == "" {
		for i := len(pg.Items) - 1; i >= 0; i-- {
			if k := s.key(pg.Items[i]); k != "" {
				pg.Key = k
				break
			}
		}
	}
	return pg, nil
}

// script returns a scripted source of pages for strategy st: for a
// keyset strategy, each item's key is its decimal text.
func script(st paginate.Strategy, pages []paginate.Page[int]) *scripted[int] {
	s := &scripted[int]{pages: pages}
	if st.Kind() == paginate.KindKeyset {
		s.key = func(i int) string { return fmt.Sprint(i) }
	}
	return s
}

func TestStopRules(t *testing.T) {
	page := func(items []int, next string, more paginate.Flag, total int64) paginate.Page[int] {
		return paginate.Page[int]{Items: items, Next: next, HasMore: more, Total: total}
	}
	tests := []struct {
		name      string
		strategy  paginate.Strategy
		pages     []paginate.Page[int]
		want      []int
		wantPages int
	}{
		{
			name:     "offset: short page is not the end",
			strategy: paginate.Offset(3),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Unset, 0),
				page([]int{3, 4, 5}, "", paginate.Unset, 0),
				page(nil, "", paginate.Unset, 0),
			},
			want: []int{1, 2, 3, 4, 5}, wantPages: 3,
		},
		{
			name:     "offset: short page ends when opted in",
			strategy: paginate.Offset(3).WithStop(paginate.StopShort | paginate.StopEmpty),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Unset, 0),
			},
			want: []int{1, 2}, wantPages: 1,
		},
		{
			name:     "offset: short page with has_more=true goes on even when short pages stop",
			strategy: paginate.Offset(3).WithStop(paginate.StopShort | paginate.StopHasMore),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Yes, 0),
				page([]int{3}, "", paginate.No, 0),
			},
			want: []int{1, 2, 3}, wantPages: 2,
		},
		{
			name:     "offset: total reached",
			strategy: paginate.Offset(2),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Unset, 3),
				page([]int{3}, "", paginate.Unset, 3),
			},
			want: []int{1, 2, 3}, wantPages: 2,
		},
		{
			name:     "offset: total reached but has_more=true goes on",
			strategy: paginate.Offset(2),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Yes, 2),
				page([]int{3}, "", paginate.No, 3),
			},
			want: []int{1, 2, 3}, wantPages: 2,
		},
		{
			name:     "offset: has_more=false",
			strategy: paginate.Offset(2),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.No, 0),
			},
			want: []int{1, 2}, wantPages: 1,
		},
		{
			name:     "offset: more items than the limit advance by what was received",
			strategy: paginate.Offset(2),
			pages: []paginate.Page[int]{
				page([]int{1, 2, 3}, "", paginate.Unset, 0),
				page(nil, "", paginate.Unset, 0),
			},
			want: []int{1, 2, 3}, wantPages: 2,
		},
		{
			name:     "page: empty page ends",
			strategy: paginate.PageNumber(1, 2),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Unset, 0),
				page([]int{3}, "", paginate.Unset, 0),
				page(nil, "", paginate.Unset, 0),
			},
			want: []int{1, 2, 3}, wantPages: 3,
		},
		{
			name:     "page: empty page with has_more=true is not the end",
			strategy: paginate.PageNumber(1, 2),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Yes, 0),
				page(nil, "", paginate.Yes, 0),
				page([]int{3}, "", paginate.No, 0),
			},
			want: []int{1, 2, 3}, wantPages: 3,
		},
		{
			name:     "page: total counted with the page size the server really uses",
			strategy: paginate.PageNumber(1, 10),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Unset, 5),
				page([]int{3, 4}, "", paginate.Unset, 5),
				page([]int{5}, "", paginate.Unset, 5),
			},
			want: []int{1, 2, 3, 4, 5}, wantPages: 3,
		},
		{
			name:     "token: empty page with a next token is not the end",
			strategy: paginate.Token(),
			pages: []paginate.Page[int]{
				page([]int{1}, "a", paginate.Unset, 0),
				page(nil, "b", paginate.Unset, 0),
				page([]int{2}, "", paginate.Unset, 0),
			},
			want: []int{1, 2}, wantPages: 3,
		},
		{
			name:     "token: empty page with a next token is not the end even when empty pages stop",
			strategy: paginate.Token().WithStop(paginate.StopEmpty | paginate.StopNoNext),
			pages: []paginate.Page[int]{
				page(nil, "a", paginate.Unset, 0),
				page([]int{1}, "", paginate.Unset, 0),
			},
			want: []int{1}, wantPages: 2,
		},
		{
			name:     "token: has_more=false ends even with a token",
			strategy: paginate.Token(),
			pages: []paginate.Page[int]{
				page([]int{1}, "a", paginate.No, 0),
			},
			want: []int{1}, wantPages: 1,
		},
		{
			name:     "token: short page is not the end",
			strategy: paginate.Token().WithLimit(5),
			pages: []paginate.Page[int]{
				page([]int{1}, "a", paginate.Unset, 0),
				page([]int{2}, "", paginate.Unset, 0),
			},
			want: []int{1, 2}, wantPages: 2,
		},
		{
			name:     "keyset: empty page ends",
			strategy: paginate.Keyset(2),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.Unset, 0),
				page([]int{3}, "", paginate.Unset, 0),
				page(nil, "", paginate.Unset, 0),
			},
			want: []int{1, 2, 3}, wantPages: 3,
		},
		{
			name:     "keyset: has_more=false ends",
			strategy: paginate.Keyset(2),
			pages: []paginate.Page[int]{
				page([]int{1, 2}, "", paginate.No, 0),
			},
			want: []int{1, 2}, wantPages: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := script(tt.strategy, tt.pages)
			quiet := func(o *paginate.Options) { o.Logger = slog.New(slog.DiscardHandler) }
			got, errs := collect(paginate.New(src, tt.strategy, quiet).All(context.Background()))
			if len(errs) > 0 {
				t.Fatalf("All() errors = %v, want none", errs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("All() items mismatch (-want +got):\n%s", diff)
			}
			if len(src.asked) != tt.wantPages {
				t.Errorf("All() fetched %d pages, want %d (cursors %v)", len(src.asked), tt.wantPages, src.asked)
			}
		})
	}
}

func TestLoops(t *testing.T) {
	p := func(items []int, next string, more paginate.Flag) paginate.Page[int] {
		return paginate.Page[int]{Items: items, Next: next, HasMore: more}
	}
	tests := []struct {
		name     string
		strategy paginate.Strategy
		start    paginate.Cursor
		pages    []paginate.Page[int]
		want     []int // items yielded before the error
	}{
		{
			name:     "token A,A",
			strategy: paginate.Token(),
			pages:    []paginate.Page[int]{p([]int{1}, "A", 0), p([]int{2}, "A", 0)},
			want:     []int{1, 2},
		},
		{
			name:     "token A,B,A",
			strategy: paginate.Token(),
			pages:    []paginate.Page[int]{p([]int{1}, "A", 0), p([]int{2}, "B", 0), p([]int{3}, "A", 0)},
			want:     []int{1, 2, 3},
		},
		{
			name:     "last page links to itself",
			strategy: paginate.Token(),
			start:    paginate.Cursor{Token: "https://api.example.com/users?page=3"},
			pages:    []paginate.Page[int]{p([]int{7}, "https://api.example.com/users?page=3", 0)},
			want:     []int{7},
		},
		{
			name:     "first page links to itself",
			strategy: paginate.Token(),
			pages:    []paginate.Page[int]{{Items: []int{1}, Next: "https://x/a?limit=2", Self: "https://x/a?limit=2"}},
			want:     []int{1},
		},
		{
			name:     "cycle back to the first page",
			strategy: paginate.Token(),
			pages: []paginate.Page[int]{
				{Items: []int{1}, Next: "https://x/a?p=2", Self: "https://x/a"},
				{Items: []int{2}, Next: "https://x/a?p=3", Self: "https://x/a?p=2"},
				{Items: []int{3}, Next: "https://x/a", Self: "https://x/a?p=3"},
			},
			want: []int{1, 2, 3},
		},
		{
			name:     "keyset key repeats",
			strategy: paginate.Keyset(1),
			pages:    []paginate.Page[int]{p([]int{1}, "", 0), p([]int{2}, "", 0), p([]int{1}, "", 0)},
			want:     []int{1, 2, 1},
		},
		{
			name:     "keyset page without a key",
			strategy: paginate.Keyset(2),
			pages:    []paginate.Page[int]{p([]int{1, 2}, "", 0), {Items: []int{0, 0}, Key: "2"}},
			want:     []int{1, 2, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := script(tt.strategy, tt.pages)
			got, errs := collect(paginate.New(src, tt.strategy, paginate.StartAt(tt.start)).All(context.Background()))
			if len(errs) != 1 || !errors.Is(errs[0], paginate.ErrCursorLoop) {
				t.Fatalf("All() errors = %v, want one ErrCursorLoop", errs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("All() items before the loop mismatch (-want +got):\n%s", diff)
			}
			var pe *paginate.PageError
			if !errors.As(errs[0], &pe) {
				t.Fatalf("All() error %T, want *PageError", errs[0])
			}
			if pe.Page != len(tt.pages)+1 {
				t.Errorf("PageError.Page = %d, want %d", pe.Page, len(tt.pages)+1)
			}
		})
	}
}

// A page that says more follows but gives no way to advance is ErrNoNext,
// unless StopMissingNext makes it the end.
func TestNoNext(t *testing.T) {
	p := func(items []int, next string, more paginate.Flag) paginate.Page[int] {
		return paginate.Page[int]{Items: items, Next: next, HasMore: more}
	}
	tests := []struct {
		name     string
		strategy paginate.Strategy
		pages    []paginate.Page[int]
		want     []int
	}{
		{"token has_more without a token", paginate.Token(), []paginate.Page[int]{p([]int{1}, "A", 0), p([]int{2}, "", paginate.Yes)}, []int{1, 2}},
		{"token has_more without a token on the first page", paginate.Token(), []paginate.Page[int]{p([]int{1}, "", paginate.Yes)}, []int{1}},
		{"token without end rules and without a token", paginate.Token().WithStop(paginate.StopHasMore), []paginate.Page[int]{p([]int{1}, "", 0)}, []int{1}},
		{"offset empty page that says more", paginate.Offset(2), []paginate.Page[int]{p([]int{1, 2}, "", paginate.Yes), p(nil, "", paginate.Yes)}, []int{1, 2}},
		{"keyset empty page that says more", paginate.Keyset(1), []paginate.Page[int]{p([]int{1}, "", 0), p(nil, "", paginate.Yes)}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := script(tt.strategy, tt.pages)
			got, errs := collect(paginate.New(src, tt.strategy).All(context.Background()))
			if len(errs) != 1 || !errors.Is(errs[0], paginate.ErrNoNext) || errors.Is(errs[0], paginate.ErrCursorLoop) {
				t.Fatalf("All() errors = %v, want one ErrNoNext", errs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("All() items before the error mismatch (-want +got):\n%s", diff)
			}
			if len(src.asked) != len(tt.pages) {
				t.Errorf("All() fetched %d pages, want %d", len(src.asked), len(tt.pages))
			}
			// Opted in, the same pages end the run.
			src = script(tt.strategy, tt.pages)
			p := paginate.New(src, tt.strategy.WithStop(tt.strategy.Stops()|paginate.StopMissingNext))
			got, errs = collect(p.All(context.Background()))
			if len(errs) != 0 || !p.Cursor().Done {
				t.Fatalf("All() with StopMissingNext = %v, %v, cursor %v; want the end", got, errs, p.Cursor())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("All() with StopMissingNext items mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A cursor that another strategy produced is refused before any fetch.
func TestForeignCursor(t *testing.T) {
	tests := []struct {
		name     string
		strategy paginate.Strategy
		start    paginate.Cursor
	}{
		{"token cursor to offset", paginate.Offset(2), paginate.Cursor{Token: "https://x/?page=3"}},
		{"offset cursor to token", paginate.Token(), paginate.Cursor{Offset: 40, Limit: 20}},
		{"page cursor to keyset", paginate.Keyset(2), paginate.Cursor{Page: 3}},
		{"key cursor to page", paginate.PageNumber(1, 2), paginate.Cursor{Key: "k", Done: true}},
		{"offset cursor to page", paginate.PageNumber(1, 2), paginate.Cursor{Offset: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scripted[int]{pages: []paginate.Page[int]{{Items: []int{1}}}}
			got, errs := collect(paginate.New(src, tt.strategy, paginate.StartAt(tt.start)).All(context.Background()))
			if len(got) != 0 || len(errs) != 1 || !errors.Is(errs[0], paginate.ErrBadCursor) || len(src.asked) != 0 {
				t.Errorf("All() from %v with %v = %v, %v after %d fetches; want one ErrBadCursor, no fetch", tt.start, tt.strategy, got, errs, len(src.asked))
			}
		})
	}
}

func TestFrom(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindOffset}
	p := paginate.New(src, paginate.Offset(4))
	q := p.From(paginate.Cursor{Offset: 6})
	if c := q.Cursor(); c.Offset != 6 {
		t.Errorf("From(offset 6).Cursor() = %v, want offset 6", c)
	}
	got, errs := collect(q.All(context.Background()))
	if len(errs) != 0 || !slices.Equal(got, []int{6, 7, 8, 9}) {
		t.Errorf("From(offset 6).All() = %v, %v; want [6 7 8 9]", got, errs)
	}
	if c := p.Cursor(); !c.IsZero() {
		t.Errorf("the original's Cursor() after a run of its copy = %v, want the start", c)
	}
	if got, _ := collect(p.All(context.Background())); !slices.Equal(got, memsource.Ints(10)) {
		t.Errorf("the original's All() = %v, want every item", got)
	}
	if _, errs := collect(p.From(paginate.Cursor{Token: "x"}).All(context.Background())); len(errs) != 1 || !errors.Is(errs[0], paginate.ErrBadCursor) {
		t.Errorf("From(token cursor) of an offset Paginator: errors %v, want ErrBadCursor", errs)
	}
}

// A Source reports the keyset position itself in Page.Key.
func TestKeysetPositionFromSource(t *testing.T) {
	src := &scripted[int]{pages: []paginate.Page[int]{{Items: []int{1, 2}, Key: "k2"}, {Items: []int{3}, Key: "k3"}, {}}}
	p := paginate.New(src, paginate.Keyset(2))
	got, errs := collect(p.All(context.Background()))
	if len(errs) != 0 || !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("All() = %v, %v; want [1 2 3]", got, errs)
	}
	var keys []string
	for _, c := range src.asked {
		keys = append(keys, c.Key)
	}
	if diff := cmp.Diff([]string{"", "k2", "k3"}, keys); diff != "" {
		t.Errorf("fetched at keys mismatch (-want +got):\n%s", diff)
	}
	if c := p.Cursor(); c.Key != "k3" || !c.Done {
		t.Errorf("Cursor() at the end = %v, want key k3, done", c)
	}
}

func TestKeysetSkipsItemsWithoutKey(t *testing.T) {
	// Item 0 stands for a record missing its sort key: the position after
	// a page is the key of its last item that has one.
	key := func(i int) string {
		if i%10 == 0 {
			return ""
		}
		return memsource.IntKey(i)
	}
	items := []int{1, 2, 10, 3, 20, 4, 5}
	src := &scripted[int]{pages: []paginate.Page[int]{
		{Items: []int{1, 2, 10}}, {Items: []int{3, 20}}, {Items: []int{4, 5}}, {},
	}}
	src.key = key
	got, errs := collect(paginate.New(src, paginate.Keyset(3)).All(context.Background()))
	if len(errs) != 0 || !slices.Equal(got, items) {
		t.Fatalf("All() = %v, %v; want %v", got, errs, items)
	}
	want := []string{"", memsource.IntKey(2), memsource.IntKey(3), memsource.IntKey(5)}
	for i, c := range src.asked {
		if c.Key != want[i] {
			t.Errorf("fetch %d at key %q, want %q", i+1, c.Key, want[i])
		}
	}
}

func TestAllowRepeats(t *testing.T) {
	src := &scripted[int]{pages: []paginate.Page[int]{
		{Items: []int{1}, Next: "A"}, {Items: []int{2}, Next: "A"}, {Items: []int{3}},
	}}
	p := paginate.New(src, paginate.Token(), func(o *paginate.Options) { o.AllowRepeats = true })
	got, errs := collect(p.All(context.Background()))
	if len(errs) != 0 || !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("All() with AllowRepeats = %v, %v; want [1 2 3], no error", got, errs)
	}
}

func TestMaxPages(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindOffset}
	p := paginate.New(src, paginate.Offset(2), paginate.WithMaxPages(3))
	got, errs := collect(p.All(context.Background()))
	if len(errs) != 1 || !errors.Is(errs[0], paginate.ErrMaxPages) {
		t.Fatalf("All() errors = %v, want one ErrMaxPages", errs)
	}
	if want := memsource.Ints(6); !slices.Equal(got, want) {
		t.Errorf("All() = %v, want %v", got, want)
	}
	if c := p.Cursor(); c.Offset != 6 {
		t.Errorf("Cursor() = %v, want offset 6", c)
	}
	// The page limit is not reached when the collection ends on it.
	p = paginate.New(src, paginate.Offset(5), paginate.WithMaxPages(3))
	if _, errs := collect(p.All(context.Background())); len(errs) != 0 {
		t.Errorf("All() of 3 pages with MaxPages 3 errors = %v, want none", errs)
	}
}

func TestStartCursorHonoured(t *testing.T) {
	tests := []struct {
		name     string
		src      *memsource.Source[int]
		strategy paginate.Strategy
		start    paginate.Cursor
		want     []int
	}{
		{"offset", &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindOffset}, paginate.Offset(4), paginate.Cursor{Offset: 7}, []int{7, 8, 9}},
		{"page from 1", &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindPageNumber, First: 1}, paginate.PageNumber(1, 4), paginate.Cursor{Page: 3}, []int{8, 9}},
		{"page from 0", &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindPageNumber}, paginate.PageNumber(0, 4), paginate.Cursor{Page: 1}, []int{4, 5, 6, 7, 8, 9}},
		{"token", &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindToken}, paginate.Token().WithLimit(4), paginate.Cursor{Token: "pos-8"}, []int{8, 9}},
		{"keyset", &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindKeyset, Key: memsource.IntKey}, paginate.Keyset(4), paginate.Cursor{Key: memsource.IntKey(5)}, []int{6, 7, 8, 9}},
		{"done", &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindOffset}, paginate.Offset(4), paginate.Cursor{Offset: 3, Done: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := collect(paginate.New(tt.src, tt.strategy, paginate.StartAt(tt.start)).All(context.Background()))
			if len(errs) != 0 {
				t.Fatalf("All() from %v errors = %v", tt.start, errs)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("All() from %v = %v, want %v", tt.start, got, tt.want)
			}
		})
	}
}

func TestPageCursorOfAnotherSize(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(12), Kind: paginate.KindPageNumber, First: 1}
	// Page 3 of size 2 starts at item 4, which is page 2 of size 4.
	start := paginate.Cursor{Page: 3, Limit: 2}
	got, errs := collect(paginate.New(src, paginate.PageNumber(1, 4), paginate.StartAt(start)).All(context.Background()))
	if len(errs) != 0 || !slices.Equal(got, memsource.Ints(12)[4:]) {
		t.Errorf("All() from %v with size 4 = %v, %v; want %v", start, got, errs, memsource.Ints(12)[4:])
	}
	// Page 2 of size 2 starts at item 2, which no page of size 4 starts at.
	start = paginate.Cursor{Page: 2, Limit: 2}
	_, errs = collect(paginate.New(src, paginate.PageNumber(1, 4), paginate.StartAt(start)).All(context.Background()))
	if len(errs) != 1 || !errors.Is(errs[0], paginate.ErrBadCursor) {
		t.Errorf("All() from %v with size 4 errors = %v, want ErrBadCursor", start, errs)
	}
}

func TestRunsAreIndependent(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(7), Kind: paginate.KindToken}
	p := paginate.New(src, paginate.Token().WithLimit(3))
	for run := 1; run <= 2; run++ {
		got, errs := collect(p.All(context.Background()))
		if len(errs) != 0 || !slices.Equal(got, memsource.Ints(7)) {
			t.Errorf("run %d: All() = %v, %v; want %v, no error", run, got, errs, memsource.Ints(7))
		}
	}
}

func TestNothingFetchedAtConstruction(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(7), Kind: paginate.KindOffset}
	p := paginate.New(src, paginate.Offset(3), paginate.WithConcurrency(4))
	if n := src.Fetches(); n != 0 {
		t.Errorf("New() fetched %d pages, want 0", n)
	}
	if c := p.Cursor(); !c.IsZero() {
		t.Errorf("Cursor() before a run = %v, want the zero cursor", c)
	}
}

func TestOptionsCopied(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindOffset}
	o := paginate.Options{Start: paginate.Cursor{Offset: 8}}
	p := paginate.New(src, paginate.Offset(5), paginate.WithOptions(o))
	o.Start.Offset = 0
	got, _ := collect(p.All(context.Background()))
	if !slices.Equal(got, []int{8, 9}) {
		t.Errorf("All() after the caller changed its Options = %v, want [8 9]", got)
	}
}

func TestBadArguments(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(3), Kind: paginate.KindOffset}
	tests := []struct {
		name string
		p    *paginate.Paginator[int]
		want string
	}{
		{"zero strategy", paginate.New(src, paginate.Strategy{}), "zero Strategy"},
		{"nil source", paginate.New[int](nil, paginate.Offset(2)), "nil Source"},
		{"page size zero", paginate.New(src, paginate.PageNumber(1, 0)), "page size"},
		{"negative start", paginate.New(src, paginate.Offset(2), paginate.StartAt(paginate.Cursor{Offset: -1})), "negative offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := collect(tt.p.All(context.Background()))
			if len(got) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want) {
				t.Errorf("All() = %v, %v; want no items and one error containing %q", got, errs, tt.want)
			}
		})
	}
}

func TestErrorYieldedOnce(t *testing.T) {
	boom := errors.New("boom")
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			src := &memsource.Source[int]{Items: memsource.Ints(20), Kind: paginate.KindOffset, Total: true,
				Fail: func(_ int64, c paginate.Cursor) error {
					if c.Offset == 6 {
						return boom
					}
					return nil
				}}
			p := paginate.New(src, paginate.Offset(3), paginate.WithConcurrency(conc))
			got, errs := collect(p.All(context.Background()))
			if len(errs) != 1 || !errors.Is(errs[0], boom) {
				t.Fatalf("All() errors = %v, want boom once", errs)
			}
			if !slices.Equal(got, memsource.Ints(6)) {
				t.Errorf("All() items before the error = %v, want %v", got, memsource.Ints(6))
			}
			var pe *paginate.PageError
			if !errors.As(errs[0], &pe) || pe.Page != 3 || pe.Cursor.Offset != 6 {
				t.Errorf("All() error = %#v, want *PageError for page 3 at offset 6", errs[0])
			}
			if c := p.Cursor(); c.Offset != 6 {
				t.Errorf("Cursor() after the error = %v, want offset 6", c)
			}
		})
	}
}

func TestBreakStopsFetching(t *testing.T) {
	for _, tt := range []struct {
		name     string
		kind     paginate.Kind
		strategy paginate.Strategy
		conc     int
		want     paginate.Cursor // after page 1
	}{
		{"offset sequential", paginate.KindOffset, paginate.Offset(2), 1, paginate.Cursor{Offset: 2, Limit: 2}},
		{"offset concurrent", paginate.KindOffset, paginate.Offset(2), 8, paginate.Cursor{Offset: 2, Limit: 2}},
		{"page concurrent", paginate.KindPageNumber, paginate.PageNumber(0, 2), 8, paginate.Cursor{Page: 1, Limit: 2}},
		{"token prefetch", paginate.KindToken, paginate.Token().WithLimit(2), 2, paginate.Cursor{Token: "pos-2", Limit: 2}},
		{"keyset prefetch", paginate.KindKeyset, paginate.Keyset(2), 2, paginate.Cursor{Key: memsource.IntKey(1), Limit: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			src := &memsource.Source[int]{Items: memsource.Ints(100), Kind: tt.kind, Key: memsource.IntKey}
			p := paginate.New(src, tt.strategy, paginate.WithConcurrency(tt.conc))
			var got []int
			for it, err := range p.All(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, it)
				if len(got) == 3 {
					break
				}
			}
			after := src.Fetches()
			if max := int64(2 + tt.conc); after > max {
				t.Errorf("fetches when the loop broke = %d, want at most %d", after, max)
			}
			// All goroutines have ended: nothing fetches any more.
			if n := src.Fetches(); n != after {
				t.Errorf("fetches went on after the loop returned: %d then %d", after, n)
			}
			if c := p.Cursor(); c != tt.want {
				t.Errorf("Cursor() after breaking in page 2 = %v, want %v", c, tt.want)
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := &memsource.Source[int]{Items: memsource.Ints(100), Kind: paginate.KindOffset}
			var items, errs int
			var last error
			for _, err := range paginate.New(src, paginate.Offset(5), paginate.WithConcurrency(conc)).All(ctx) {
				if err != nil {
					errs++
					last = err
					continue
				}
				items++
				if items == 7 {
					cancel()
				}
			}
			if errs != 1 || !errors.Is(last, context.Canceled) {
				t.Errorf("errors after cancel = %d (%v), want one context.Canceled", errs, last)
			}
			if items != 10 {
				t.Errorf("items after cancel in page 2 = %d, want 10 (page 2 finishes)", items)
			}
		})
	}
}

func TestConcurrentInOrder(t *testing.T) {
	tests := []struct {
		name     string
		src      *memsource.Source[int]
		strategy paginate.Strategy
	}{
		{"offset exact", &memsource.Source[int]{Items: memsource.Ints(1003), Kind: paginate.KindOffset}, paginate.Offset(10)},
		{"offset with total", &memsource.Source[int]{Items: memsource.Ints(1003), Kind: paginate.KindOffset, Total: true}, paginate.Offset(10)},
		{"offset capped by the server", &memsource.Source[int]{Items: memsource.Ints(1003), Kind: paginate.KindOffset, Cap: 7}, paginate.Offset(10)},
		{"offset with the server's default size", &memsource.Source[int]{Items: memsource.Ints(1003), Kind: paginate.KindOffset, Default: 9}, paginate.Offset(0)},
		{"page", &memsource.Source[int]{Items: memsource.Ints(1003), Kind: paginate.KindPageNumber, First: 1, HasMore: true}, paginate.PageNumber(1, 10)},
		{"token", &memsource.Source[int]{Items: memsource.Ints(1003), Kind: paginate.KindToken}, paginate.Token().WithLimit(10)},
		{"keyset", &memsource.Source[int]{Items: memsource.Ints(1003), Kind: paginate.KindKeyset, Key: memsource.IntKey}, paginate.Keyset(10)},
	}
	for _, tt := range tests {
		for _, conc := range []int{2, 8} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, conc), func(t *testing.T) {
				defer goleak.VerifyNone(t)
				got, errs := collect(paginate.New(tt.src, tt.strategy, paginate.WithConcurrency(conc)).All(context.Background()))
				if len(errs) != 0 {
					t.Fatalf("All() errors = %v", errs)
				}
				if diff := cmp.Diff(tt.src.Items, got); diff != "" {
					t.Errorf("All() mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestConcurrentStopsAtTotal(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(100), Kind: paginate.KindOffset, Total: true}
	_, errs := collect(paginate.New(src, paginate.Offset(10), paginate.WithConcurrency(8)).All(context.Background()))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if n := src.Fetches(); n != 10 {
		t.Errorf("fetches of 100 items in pages of 10 with a total = %d, want 10 (none past the end)", n)
	}
}

func TestCursorResume(t *testing.T) {
	items := memsource.Ints(11)
	src := &memsource.Source[int]{Items: items, Kind: paginate.KindToken}
	p := paginate.New(src, paginate.Token().WithLimit(3))
	var seen int
	for pg, err := range p.Pages(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		seen += len(pg.Items)
		// Round-trip the cursor through JSON, as a checkpoint would.
		b, err := json.Marshal(p.Cursor())
		if err != nil {
			t.Fatal(err)
		}
		var c paginate.Cursor
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if c != p.Cursor() {
			t.Fatalf("cursor JSON round trip = %v, want %v", c, p.Cursor())
		}
		rest, errs := collect(paginate.New(src, paginate.Token().WithLimit(3), paginate.StartAt(c)).All(context.Background()))
		if len(errs) != 0 || !slices.Equal(rest, items[seen:]) {
			t.Errorf("resume from %s = %v, %v; want %v", b, rest, errs, items[seen:])
		}
	}
	if !p.Cursor().Done {
		t.Errorf("Cursor() after the end = %v, want Done", p.Cursor())
	}
}

func TestAllCursorOnBreakMidPage(t *testing.T) {
	src := &memsource.Source[int]{Items: memsource.Ints(10), Kind: paginate.KindOffset}
	p := paginate.New(src, paginate.Offset(4))
	for it := range p.All(context.Background()) {
		if it == 5 { // in the middle of page 2
			break
		}
	}
	if c := p.Cursor(); c.Offset != 4 {
		t.Errorf("Cursor() after breaking mid page 2 = %v, want offset 4 (page 2 is replayed)", c)
	}
}

func TestDriftWarning(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	var total atomic.Int64
	total.Store(10)
	src := paginate.SourceFunc[int](func(_ context.Context, c paginate.Cursor) (paginate.Page[int], error) {
		// A row is deleted while the run is on page 1.
		t := total.Add(-1) + 1
		if c.Offset >= t {
			return paginate.Page[int]{Total: t}, nil
		}
		return paginate.Page[int]{Items: []int{int(c.Offset)}, Total: t}, nil
	})
	for range paginate.New(src, paginate.Offset(1), func(o *paginate.Options) { o.Logger = logger }).All(context.Background()) {
	}
	if got := strings.Count(buf.String(), "collection changed"); got != 1 {
		t.Errorf("drift warnings = %d, want 1; log:\n%s", got, buf.String())
	}
}

func TestSourcePanicInConcurrentFetchIsAnError(t *testing.T) {
	defer goleak.VerifyNone(t)
	src := paginate.SourceFunc[int](func(_ context.Context, c paginate.Cursor) (paginate.Page[int], error) {
		if c.Offset > 0 {
			panic("bad source")
		}
		return paginate.Page[int]{Items: []int{1}}, nil
	})
	_, errs := collect(paginate.New(src, paginate.Offset(1), paginate.WithConcurrency(3)).All(context.Background()))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "panicked") {
		t.Errorf("All() errors = %v, want one error saying the Source panicked", errs)
	}
}

func TestCursorJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    paginate.Cursor
		wantErr bool
	}{
		{`{}`, paginate.Cursor{}, false},
		{`{"offset":10,"limit":5}`, paginate.Cursor{Offset: 10, Limit: 5}, false},
		{`{"token":"https://x/y?a=1","done":true}`, paginate.Cursor{Token: "https://x/y?a=1", Done: true}, false},
		{`{"offset":-1}`, paginate.Cursor{}, true},
		{`{"page":-2}`, paginate.Cursor{}, true},
		{`{"limit":-2}`, paginate.Cursor{}, true},
		{`{"offset":"10"}`, paginate.Cursor{}, true},
		{`[1]`, paginate.Cursor{}, true},
		{`{"offset":1e40}`, paginate.Cursor{}, true},
	}
	for _, tt := range tests {
		var c paginate.Cursor
		err := json.Unmarshal([]byte(tt.in), &c)
		if (err != nil) != tt.wantErr || (err == nil && c != tt.want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v, error %v", tt.in, c, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzCursorJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"offset":3,"limit":2}`, `{"token":"a","done":true}`, `{"key":"2024-01-01T00:00:00Z,x"}`, `{"page":-1}`, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c paginate.Cursor
		if err := json.Unmarshal(b, &c); err != nil {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal(%v) error %v", c, err)
		}
		var again paginate.Cursor
		if err := json.Unmarshal(out, &again); err != nil || again != c {
			t.Fatalf("round trip of %s = %v, %v; want %v", out, again, err, c)
		}
		_ = c.String()
	})
}
