// Package paginatetest checks that a [paginate.Source] keeps the contract
// the Paginator relies on, in the spirit of testing/slogtest: give it your
// Source, its Strategy and every item the Source holds, in order, and
// [Run] walks it every way a connector will.
//
// At page sizes 1, 2, n and n+10 (for strategies with a page size) it
// checks that:
//   - the items come back exactly, in order, sequentially and with
//     concurrent fetching;
//   - resuming from the Cursor after every page, round-tripped through
//     JSON, yields exactly the rest;
//   - resuming with [paginate.Paginator.From] does the same;
//   - nothing is fetched when a Paginator is built;
//   - a cursor of another strategy is refused with paginate.ErrBadCursor
//     before anything is fetched;
//   - breaking out of the loop stops fetching and leaves no goroutine;
//   - cancelling the context ends the run with the context's error;
//   - an error from the Source is yielded once, after the items before it;
//   - two runs of one Paginator yield the same items.
//
// The Source must serve the same items throughout the run; a live source
// that changes under the suite will fail it.
package paginatetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/paginate"
)

// Options tune [RunOptions]. The zero value checks the default page sizes
// and compares items with go-cmp's defaults.
type Options struct {
	// PageSizes replaces the page sizes checked: by default 1, 2, n and
	// n+10 for a collection of n items.
	PageSizes []int
	// Compare holds go-cmp options for comparing items, such as
	// cmpopts.EquateApproxTime or cmp.AllowUnexported.
	Compare []cmp.Option
	// MaxResumePages bounds the pages a resume check starts from, since
	// each start walks the rest of the collection. Zero means 100.
	MaxResumePages int
}

// Run checks src against the contract with strategy s, expecting exactly
// want. It runs each check as a subtest of t.
func Run[T any](t *testing.T, src paginate.Source[T], s paginate.Strategy, want []T) {
	t.Helper()
	RunOptions(t, src, s, want, Options{})
}

// RunOptions is [Run] with options.
func RunOptions[T any](t *testing.T, src paginate.Source[T], s paginate.Strategy, want []T, o Options) {
	t.Helper()
	c := &checker[T]{src: src, s: s, want: want, o: o}
	for _, g := range c.groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, ck := range g.checks {
				t.Run(ck.name, func(t *testing.T) { ck.fn(t) })
			}
		})
	}
}

// Check runs the same checks as [RunOptions] without a testing.T, and
// returns every failure, joined, or nil when src keeps the contract.
func Check[T any](src paginate.Source[T], s paginate.Strategy, want []T, o Options) error {
	c := &checker[T]{src: src, s: s, want: want, o: o}
	var errs []error
	for _, g := range c.groups() {
		for _, ck := range g.checks {
			r := &collector{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				ck.fn(r)
			}()
			<-done
			for _, m := range r.msgs {
				errs = append(errs, fmt.Errorf("%s/%s: %s", g.name, ck.name, m))
			}
		}
	}
	return errors.Join(errs...)
}

// reporter is the part of *testing.T the checks use.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
}

// collector is a reporter for Check. Fatalf and Skip end the check's
// goroutine, as they do a test's.
type collector struct{ msgs []string }

func (c *collector) Helper() {}
func (c *collector) Errorf(format string, args ...any) {
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}
func (c *collector) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	runtime.Goexit()
}
func (c *collector) Skip(...any) { runtime.Goexit() }

type check struct {
	name string
	fn   func(reporter)
}

type group struct {
	name   string
	checks []check
}

// groups lists the checks, grouped by page size.
func (c *checker[T]) groups() []group {
	gs := []group{{"Construction", []check{{"NothingFetched", c.construction}, {"ForeignCursor", c.foreignCursor}}}}
	for _, size := range c.sizes() {
		st := c.s
		name := "DefaultPageSize"
		if size > 0 {
			st = c.s.WithLimit(size)
			name = fmt.Sprintf("PageSize%d", size)
		}
		gs = append(gs, group{name, []check{
			{"Items", func(r reporter) { c.items(r, st, 1) }},
			{"Concurrent", func(r reporter) { c.items(r, st, 4) }},
			{"Pages", func(r reporter) { c.pages(r, st) }},
			{"Resume", func(r reporter) { c.resume(r, st) }},
			{"TwoRuns", func(r reporter) { c.twoRuns(r, st) }},
		}})
	}
	small := c.s
	if c.s.Limit() > 0 {
		small = c.s.WithLimit(1)
	}
	gs = append(gs, group{"Stopping", []check{
		{"Break", func(r reporter) { c.breakEarly(r, small, 1) }},
		{"BreakConcurrent", func(r reporter) { c.breakEarly(r, small, 4) }},
		{"Cancel", func(r reporter) { c.cancel(r, small, 1) }},
		{"CancelConcurrent", func(r reporter) { c.cancel(r, small, 4) }},
		{"SourceError", func(r reporter) { c.sourceError(r, small, 1) }},
		{"SourceErrorConcurrent", func(r reporter) { c.sourceError(r, small, 4) }},
	}})
	return gs
}

type checker[T any] struct {
	src  paginate.Source[T]
	s    paginate.Strategy
	want []T
	o    Options
}

// sizes returns the page sizes to check; a single 0 means the strategy has
// no page size and the Source's default applies.
func (c *checker[T]) sizes() []int {
	if c.s.Kind() == paginate.KindToken && c.s.Limit() == 0 {
		return []int{0}
	}
	if len(c.o.PageSizes) > 0 {
		return c.o.PageSizes
	}
	n := len(c.want)
	var out []int
	for _, s := range []int{1, 2, n, n + 10} {
		if s > 0 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (c *checker[T]) diff(want, got []T) string {
	if len(want) == 0 && len(got) == 0 {
		return ""
	}
	return cmp.Diff(want, got, c.o.Compare...)
}

// counting wraps a Source to count fetches and inject an error.
type counting[T any] struct {
	src   paginate.Source[T]
	n     atomic.Int64
	failN int64
	err   error
}

func (w *counting[T]) Fetch(ctx context.Context, cur paginate.Cursor) (paginate.Page[T], error) {
	n := w.n.Add(1)
	if w.failN > 0 && n >= w.failN {
		return paginate.Page[T]{}, w.err
	}
	return w.src.Fetch(ctx, cur)
}

func (c *checker[T]) construction(t reporter) {
	w := &counting[T]{src: c.src}
	p := paginate.New[T](w, c.s, paginate.WithConcurrency(4))
	if n := w.n.Load(); n != 0 {
		t.Errorf("New() fetched %d pages, want 0", n)
	}
	if cur := p.Cursor(); !cur.IsZero() {
		t.Errorf("Cursor() before a run = %v, want the zero cursor", cur)
	}
}

func (c *checker[T]) foreignCursor(t reporter) {
	foreign := map[paginate.Kind]paginate.Cursor{
		paginate.KindOffset:     {Token: "https://example.com/items?page=2"},
		paginate.KindPageNumber: {Key: "k"},
		paginate.KindToken:      {Offset: 40},
		paginate.KindKeyset:     {Page: 3},
	}
	start := foreign[c.s.Kind()]
	w := &counting[T]{src: c.src}
	var errs []error
	for _, err := range paginate.New[T](w, c.s, paginate.StartAt(start)).All(context.Background()) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) != 1 || !errors.Is(errs[0], paginate.ErrBadCursor) {
		t.Errorf("All() with %v from the foreign cursor %v: errors %v, want one paginate.ErrBadCursor", c.s, start, errs)
	}
	if n := w.n.Load(); n != 0 {
		t.Errorf("All() with %v from the foreign cursor %v fetched %d pages, want 0", c.s, start, n)
	}
}

func (c *checker[T]) items(t reporter, s paginate.Strategy, conc int) {
	got, err := drain(paginate.New(c.src, s, paginate.WithConcurrency(conc)).All(context.Background()))
	if err != nil {
		t.Fatalf("All() with %v, concurrency %d: error %v", s, conc, err)
	}
	if d := c.diff(c.want, got); d != "" {
		t.Errorf("All() with %v, concurrency %d: items mismatch (-want +got):\n%s", s, conc, d)
	}
	noRunGoroutines(t)
}

func (c *checker[T]) pages(t reporter, s paginate.Strategy) {
	var got []T
	p := paginate.New(c.src, s)
	for pg, err := range p.Pages(context.Background()) {
		if err != nil {
			t.Fatalf("Pages() with %v: error %v", s, err)
		}
		if l := s.Limit(); l > 0 && len(pg.Items) > l {
			t.Errorf("Pages() with %v: a page of %d items, more than the limit %d", s, len(pg.Items), l)
		}
		got = append(got, pg.Items...)
	}
	if d := c.diff(c.want, got); d != "" {
		t.Errorf("Pages() with %v: items mismatch (-want +got):\n%s", s, d)
	}
	if !p.Cursor().Done {
		t.Errorf("Cursor() after the last page = %v, want Done", p.Cursor())
	}
}

func (c *checker[T]) resume(t reporter, s paginate.Strategy) {
	max := c.o.MaxResumePages
	if max == 0 {
		max = 100
	}
	p := paginate.New(c.src, s)
	seen, pages := 0, 0
	for pg, err := range p.Pages(context.Background()) {
		if err != nil {
			t.Fatalf("Pages() with %v: error %v", s, err)
		}
		seen += len(pg.Items)
		pages++
		if pages > max {
			break
		}
		b, err := json.Marshal(p.Cursor())
		if err != nil {
			t.Fatalf("json.Marshal(%v): %v", p.Cursor(), err)
		}
		var cur paginate.Cursor
		if err := json.Unmarshal(b, &cur); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", b, err)
		}
		if cur != p.Cursor() {
			t.Fatalf("Cursor %v after a JSON round trip = %v", p.Cursor(), cur)
		}
		rest, err := drain(paginate.New(c.src, s, paginate.StartAt(cur)).All(context.Background()))
		if err != nil {
			t.Fatalf("resume with %v from %s after page %d: error %v", s, b, pages, err)
		}
		if seen > len(c.want) {
			t.Fatalf("Pages() with %v yielded %d items by page %d, more than the %d expected", s, seen, pages, len(c.want))
		}
		if d := c.diff(c.want[seen:], rest); d != "" {
			t.Errorf("resume with %v from %s after page %d: items mismatch (-want +got):\n%s", s, b, pages, d)
		}
		rest, err = drain(paginate.New(c.src, s).From(cur).All(context.Background()))
		if err != nil {
			t.Fatalf("From(%s) with %v after page %d: error %v", b, s, pages, err)
		}
		if d := c.diff(c.want[seen:], rest); d != "" {
			t.Errorf("From(%s) with %v after page %d: items mismatch (-want +got):\n%s", b, s, pages, d)
		}
	}
}

func (c *checker[T]) twoRuns(t reporter, s paginate.Strategy) {
	p := paginate.New(c.src, s)
	for run := 1; run <= 2; run++ {
		got, err := drain(p.All(context.Background()))
		if err != nil {
			t.Fatalf("run %d of one Paginator with %v: error %v", run, s, err)
		}
		if d := c.diff(c.want, got); d != "" {
			t.Errorf("run %d of one Paginator with %v: items mismatch (-want +got):\n%s", run, s, d)
		}
	}
}

func (c *checker[T]) breakEarly(t reporter, s paginate.Strategy, conc int) {
	if len(c.want) == 0 {
		t.Skip("no items to break at")
	}
	w := &counting[T]{src: c.src}
	for _, err := range paginate.New[T](w, s, paginate.WithConcurrency(conc)).All(context.Background()) {
		if err != nil {
			t.Fatalf("All() with %v: error %v", s, err)
		}
		break
	}
	after := w.n.Load()
	// The first page, plus what was in flight with it.
	if max := int64(1 + conc); after > max {
		t.Errorf("All() with %v, concurrency %d: %d fetches before the loop broke at the first item, want at most %d", s, conc, after, max)
	}
	noRunGoroutines(t)
	if n := w.n.Load(); n != after {
		t.Errorf("All() with %v, concurrency %d: fetching went on after the loop returned (%d, then %d fetches)", s, conc, after, n)
	}
}

func (c *checker[T]) cancel(t reporter, s paginate.Strategy, conc int) {
	if len(c.want) == 0 {
		t.Skip("no items to cancel after")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs []error
	itemsAfterErr := 0
	for _, err := range paginate.New(c.src, s, paginate.WithConcurrency(conc)).All(ctx) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(errs) > 0 {
			itemsAfterErr++
		}
		cancel()
	}
	if len(c.want) > max(s.Limit(), 1) || len(errs) > 0 {
		if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
			t.Errorf("All() with %v, concurrency %d, cancelled after the first item: errors %v, want one context.Canceled", s, conc, errs)
		}
	}
	if itemsAfterErr > 0 {
		t.Errorf("All() with %v, concurrency %d: %d items after the error", s, conc, itemsAfterErr)
	}
	noRunGoroutines(t)
}

func (c *checker[T]) sourceError(t reporter, s paginate.Strategy, conc int) {
	if len(c.want) < 2 {
		t.Skip("fewer than two pages")
	}
	boom := errors.New("paginatetest: injected source error")
	w := &counting[T]{src: c.src, failN: 2, err: boom}
	var got []T
	var errs []error
	itemsAfterErr := 0
	for it, err := range paginate.New[T](w, s, paginate.WithConcurrency(conc)).All(context.Background()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(errs) > 0 {
			itemsAfterErr++
		}
		got = append(got, it)
	}
	if len(errs) != 1 || !errors.Is(errs[0], boom) {
		t.Fatalf("All() with %v, concurrency %d, the second fetch failing: errors %v, want the source's error once", s, conc, errs)
	}
	var pe *paginate.PageError
	if !errors.As(errs[0], &pe) {
		t.Errorf("All() error %T, want a *paginate.PageError", errs[0])
	}
	if itemsAfterErr > 0 {
		t.Errorf("All() with %v, concurrency %d: %d items after the error", s, conc, itemsAfterErr)
	}
	if len(got) > len(c.want) {
		t.Fatalf("All() yielded %d items before the error, more than the %d expected", len(got), len(c.want))
	}
	if d := c.diff(c.want[:len(got)], got); d != "" {
		t.Errorf("All() items before the error mismatch (-want +got):\n%s", d)
	}
	noRunGoroutines(t)
}

func drain[T any](seq func(func(T, error) bool)) ([]T, error) {
	var out []T
	for it, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	return out, nil
}

// noRunGoroutines fails t if a goroutine of a paginate run is still alive.
// A run waits for its fetches before its loop returns, but a fetch
// goroutine that has signalled its end may not have returned yet, so the
// check retries for a while, as goleak does, before it fails.
func noRunGoroutines(t reporter) {
	t.Helper()
	var leaked []string
	for wait := time.Microsecond; wait < 2*time.Second; wait *= 2 {
		leaked = runGoroutines()
		if len(leaked) == 0 {
			return
		}
		runtime.Gosched()
		time.Sleep(wait)
	}
	t.Errorf("a paginate goroutine outlived its run:\n%s", strings.Join(leaked, "\n\n"))
}

func runGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "connector/paginate.(*run[") {
			out = append(out, g)
		}
	}
	return out
}
