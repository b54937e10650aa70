package mockapi

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// codec maps the generation index of a record to its id and back, and
// orders ids.
type codec interface {
	// bits returns a 128-bit key of the id of index i whose order (hi
	// first) is the order of compare on the ids, so that a tie group can
	// be sorted without formatting its ids.
	bits(i int) (hi, lo uint64)
	// id returns the id of index i.
	id(i int) string
	// index returns the index whose id is s, or false if no index has it.
	index(s string) (int, bool)
	// compare orders two ids, any strings; ids made by id order like
	// their bits.
	compare(a, b string) int
}

// layout is the immutable shape of a base collection: n records generated
// on demand, record i last changed at start + (i / ties) * step. Records
// sharing a time form a tie group, ordered by id.
//
// Records may also fall in classes (a GitHub issue is open or closed) laid
// out periodically by index, so that the records of one class are also
// found by arithmetic: cls is nil when there is a single class.
type layout struct {
	n     int
	start time.Time
	step  time.Duration
	ties  int
	ids   codec
	cls   *classes
}

// clampCount returns n reduced so that the groups of ties records spaced
// by step stay within a time.Duration.
func clampCount(n, ties int, step time.Duration) int {
	if maxGroups := int64(1<<63-1) / int64(step); int64(n)/int64(ties) >= maxGroups {
		return int(maxGroups-1) * ties
	}
	return n
}

// groups returns the number of tie groups.
func (l *layout) groups() int { return (l.n + l.ties - 1) / l.ties }

// groupTime returns the time of tie group g.
func (l *layout) groupTime(g int) time.Time {
	return l.start.Add(time.Duration(g) * l.step)
}

// baseTime returns the time of base record i.
func (l *layout) baseTime(i int) time.Time { return l.groupTime(i / l.ties) }

// groupAtOrAfter returns the first tie group whose time is at or after t,
// or groups() if there is none. It is arithmetic: O(1).
func (l *layout) groupAtOrAfter(t time.Time) int {
	if !t.After(l.start) {
		return 0
	}
	d := t.Sub(l.start) // saturates far in the future, which still clamps below
	g := d / l.step
	if d%l.step != 0 {
		g++
	}
	if n := l.groups(); g > time.Duration(n) {
		return n
	}
	return int(g)
}

// groupStart returns the index of the first base record of group g,
// clamped to the population.
func (l *layout) groupStart(g int) int {
	if g >= l.groups() {
		return l.n
	}
	return g * l.ties
}

// classOf returns the class of base record i.
func (l *layout) classOf(i int) int {
	if l.cls == nil {
		return 0
	}
	return l.cls.of(i)
}

// rank returns the number of base records of class c below index i (i
// itself for c = anyClass).
func (l *layout) rank(c, i int) int {
	if c == anyClass || l.cls == nil {
		return i
	}
	return l.cls.rank(c, i)
}

// unrank returns the index of the class-c record of rank r.
func (l *layout) unrank(c, r int) int {
	if c == anyClass || l.cls == nil {
		return r
	}
	return l.cls.unrank(c, r)
}

// anyClass selects base records of every class.
const anyClass = -1

// classes lays out record classes periodically: record i has class
// pattern[i % len(pattern)].
type classes struct {
	pattern []uint8
	prefix  [][]int // prefix[c][k]: records of class c in pattern[:k]
	pos     [][]int // pos[c][r]: position in pattern of the r-th of class c
}

func newClasses(n int, pattern ...uint8) *classes {
	c := &classes{pattern: pattern, prefix: make([][]int, n), pos: make([][]int, n)}
	for k := range n {
		c.prefix[k] = make([]int, len(pattern)+1)
		for j, p := range pattern {
			c.prefix[k][j+1] = c.prefix[k][j]
			if int(p) == k {
				c.prefix[k][j+1]++
				c.pos[k] = append(c.pos[k], j)
			}
		}
	}
	return c
}

func (c *classes) of(i int) int { return int(c.pattern[i%len(c.pattern)]) }

func (c *classes) rank(k, i int) int {
	p := len(c.pattern)
	return i/p*len(c.pos[k]) + c.prefix[k][i%p]
}

func (c *classes) unrank(k, r int) int {
	m := len(c.pos[k])
	return r/m*len(c.pattern) + c.pos[k][r%m]
}

// rec is a record that no longer sits at its base position: changed,
// inserted, or deleted.
type rec[T any] struct {
	t     time.Time // position: (t, id)
	id    string
	v     T
	idx   int   // generation index: base index, or n+k for the k-th insert
	rev   int   // number of changes applied by the shape
	dead  bool  // deleted
	class int   // shape-defined, for the tail lists
	in    uint8 // bit k: the record is in tail list k
}

// ref is one row of a page: a base index to generate, or a copy of an
// override taken under the lock. Overrides' values are never modified in
// place, so the copy may share their slices and pointers.
type ref[T any] struct {
	idx  int
	base bool
	t    time.Time // overrides only
	id   string    // overrides only
	v    *T        // overrides only: a copy
}

// sel selects rows: base records of a class (or anyClass) and one tail
// list, within [since, before) (zero times are unbounded).
type sel struct {
	class  int
	tail   int
	since  time.Time
	before time.Time
}

// position is a keyset position: the rows strictly after (t, id).
type position struct {
	t  time.Time
	id string
}

// store holds a live collection of records of type T. The base
// population is never materialised: base record i is generated on demand.
// What changed is kept as overrides:
//
//   - removed: the sorted base indices that left their base position
//     (changed or deleted), and, when there are classes, their ranks
//     within their base class;
//   - tails: changed and inserted records in lists sorted by (t, id), each
//     list holding the records a shape selects for it (say live ones, or
//     live ones and tombstones, or open issues);
//   - byID: every override by id.
//
// Every override is stamped with the clock, which starts after the last
// base time and never goes backwards, so all overrides sort after all
// base records. A selection is therefore its base indices that were not
// removed, in tie-group order and by id within a group, followed by its
// tail list.
//
// Locating a position costs O(log R + log T) for R removed base indices
// and T overrides, plus generating the ids of one tie group; a page of L
// rows then costs O(L + ties). Nothing depends on the population size.
// Memory is O(R + T). A mutation costs O(log R + log T) to locate plus
// O(R + T) to shift the sorted slices.
type store[T any] struct {
	lay   *layout
	clock *clock
	// stamp turns the clock's time into a record time (GitHub and Stripe
	// times are whole seconds).
	stamp func(time.Time) time.Time
	// lists returns the tail lists r belongs in, as bits.
	lists func(r *rec[T]) uint8

	mu        sync.RWMutex
	removed   []int
	removedBy [][]int // per class: ranks of removed base records of the class
	tails     [][]*rec[T]
	byID      map[string]*rec[T]
	inserted  int
}

func newStore[T any](lay *layout, c *clock, tails int, lists func(*rec[T]) uint8) *store[T] {
	s := &store[T]{
		lay:   lay,
		clock: c,
		stamp: func(t time.Time) time.Time { return t },
		lists: lists,
		tails: make([][]*rec[T], tails),
		byID:  make(map[string]*rec[T]),
	}
	if lay.cls != nil {
		s.removedBy = make([][]int, len(lay.cls.pos))
	}
	return s
}

// compareRec orders an override against the position (t, id).
func (s *store[T]) compareRec(a *rec[T], t time.Time, id string) int {
	if c := a.t.Compare(t); c != 0 {
		return c
	}
	return s.lay.ids.compare(a.id, id)
}

// search returns the first position in rs whose key is at or after (t, id),
// or strictly after it when strict is set.
func (s *store[T]) search(rs []*rec[T], t time.Time, id string, strict bool) int {
	return sort.Search(len(rs), func(j int) bool {
		c := s.compareRec(rs[j], t, id)
		return c > 0 || (c == 0 && !strict)
	})
}

// removedList returns the sorted removed ranks of class c.
func (s *store[T]) removedList(c int) []int {
	if c == anyClass || s.removedBy == nil {
		return s.removed
	}
	return s.removedBy[c]
}

// countIn counts the values of the sorted list in [lo, hi).
func countIn(list []int, lo, hi int) int {
	a, _ := slices.BinarySearch(list, lo)
	b, _ := slices.BinarySearch(list, hi)
	return b - a
}

// view is the shape of a selection under the lock: base rows are the
// records of the selected class with indices in [baseLo, baseHi) that
// were not removed (both bounds are tie-group aligned), ranks [rlo, rhi)
// in the class; then tail[tailLo:tailHi].
type view[T any] struct {
	class          int
	rem            []int // removed ranks of the class
	baseG          int   // tie group of baseLo
	baseLo, baseHi int
	rlo, rhi       int
	baseCount      int
	tail           []*rec[T]
	tailLo, tailHi int
}

func (v *view[T]) total() int { return v.baseCount + v.tailHi - v.tailLo }

// view computes the bounds of f in O(log R + log T).
func (s *store[T]) view(f sel) view[T] {
	l := s.lay
	v := view[T]{class: f.class, rem: s.removedList(f.class), baseHi: l.n, tail: s.tails[f.tail]}
	v.tailHi = len(v.tail)
	if !f.since.IsZero() {
		v.baseG = l.groupAtOrAfter(f.since)
		v.baseLo = l.groupStart(v.baseG)
		v.tailLo = s.search(v.tail, f.since, "", false)
	}
	if !f.before.IsZero() {
		v.baseHi = l.groupStart(l.groupAtOrAfter(f.before))
		v.tailHi = s.search(v.tail, f.before, "", false)
	}
	v.baseHi = max(v.baseHi, v.baseLo)
	v.tailHi = max(v.tailHi, v.tailLo)
	v.rlo, v.rhi = l.rank(f.class, v.baseLo), l.rank(f.class, v.baseHi)
	v.baseCount = v.rhi - v.rlo - countIn(v.rem, v.rlo, v.rhi)
	return v
}

// basePos locates base row p (0 <= p < v.baseCount) of the view as tie
// group g and rank r among the group's remaining members in id order.
//
// The p-th remaining rank x at or after rlo is found by binary search over
// the removed ranks ("k-th missing number"); its record falls in the same
// group as the p-th row in collection order because groups are contiguous
// index ranges and sorting only permutes members within a group.
func (s *store[T]) basePos(v *view[T], p int) (g, r int) {
	j0, _ := slices.BinarySearch(v.rem, v.rlo)
	rest := v.rem[j0:]
	// Remaining ranks in [rlo, rest[k]) = rest[k]-rlo-k, nondecreasing in k.
	k := sort.Search(len(rest), func(k int) bool { return rest[k]-v.rlo-k > p })
	x := s.lay.unrank(v.class, v.rlo+p+k)
	g = x / s.lay.ties
	rg := s.lay.rank(v.class, g*s.lay.ties)
	r = p - (rg - v.rlo - countIn(v.rem, v.rlo, rg))
	return g, r
}

// baseUpTo locates the first base row after (t, id) as tie group g and
// rank r (see basePos): strictly after it when strict is set, else at or
// after it. Only the group whose time equals t is generated,
// and only its ids.
func (s *store[T]) baseUpTo(v *view[T], t time.Time, id string, strict bool) (g, r int) {
	l := s.lay
	if t.Before(l.start) {
		return 0, 0
	}
	g = l.groupAtOrAfter(t)
	if g >= l.groups() || !l.groupTime(g).Equal(t) {
		return g, 0 // group g is strictly later than t
	}
	for _, m := range s.members(nil, v, g) {
		c := l.ids.compare(l.ids.id(m.idx), id)
		if c < 0 || (c == 0 && strict) {
			r++
		}
	}
	return g, r
}

// member is a remaining base record of a tie group and its id bits.
type member struct {
	idx    int
	hi, lo uint64
}

// members appends the remaining members of tie group g in the view's
// class (indices below v.baseHi) to dst, sorted by id.
func (s *store[T]) members(dst []member, v *view[T], g int) []member {
	l := s.lay
	lo := g * l.ties
	end := min(lo+l.ties, v.baseHi)
	j, _ := slices.BinarySearch(s.removed, lo)
	start := len(dst)
	for i := lo; i < end; i++ {
		if j < len(s.removed) && s.removed[j] == i {
			j++
			continue
		}
		if v.class != anyClass && l.classOf(i) != v.class {
			continue
		}
		h, lw := l.ids.bits(i)
		dst = append(dst, member{idx: i, hi: h, lo: lw})
	}
	slices.SortFunc(dst[start:], func(a, b member) int {
		switch {
		case a.hi != b.hi:
			return cmpUint(a.hi, b.hi)
		default:
			return cmpUint(a.lo, b.lo)
		}
	})
	return dst
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// appendRows appends up to n rows of v to dst, starting at rank r of tie
// group g and then at tail position ti.
func (s *store[T]) appendRows(dst []ref[T], v *view[T], g, r, ti, n int) []ref[T] {
	var ms []member
	for ; len(dst) < n && g*s.lay.ties < v.baseHi; g, r = g+1, 0 {
		ms = s.members(ms[:0], v, g)
		for _, m := range ms[min(r, len(ms)):] {
			if len(dst) == n {
				break
			}
			dst = append(dst, ref[T]{idx: m.idx, base: true})
		}
	}
	for ti = max(ti, v.tailLo); ti < v.tailHi && len(dst) < n; ti++ {
		o := v.tail[ti]
		val := o.v
		dst = append(dst, ref[T]{idx: o.idx, t: o.t, id: o.id, v: &val})
	}
	return dst
}

// rowsAt returns up to n rows of f starting at offset, and the number of
// rows f matches.
func (s *store[T]) rowsAt(f sel, offset, n int) ([]ref[T], int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rowsAtLocked(f, offset, n)
}

func (s *store[T]) rowsAtLocked(f sel, offset, n int) ([]ref[T], int) {
	v := s.view(f)
	total := v.total()
	if offset < 0 || offset >= total || n <= 0 {
		return nil, total
	}
	dst := make([]ref[T], 0, min(n, total-offset))
	if offset < v.baseCount {
		g, r := s.basePos(&v, offset)
		return s.appendRows(dst, &v, g, r, v.tailLo, n), total
	}
	return s.appendRows(dst, &v, s.lay.groups(), 0, v.tailLo+offset-v.baseCount, n), total
}

// lastRowsAt is rowsAt, except that an offset past the end (with at least
// one row) serves the rows at last(total) instead. It reports the offset
// served.
func (s *store[T]) lastRowsAt(f sel, offset, n int, last func(total int) int) ([]ref[T], int, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	refs, total := s.rowsAtLocked(f, offset, n)
	if len(refs) == 0 && total > 0 && offset >= total {
		offset = last(total)
		refs, _ = s.rowsAtLocked(f, offset, n)
	}
	return refs, total, offset
}

// rowsAfter returns up to n rows of f strictly after p (from the start when
// p is nil). When repeatN > 0 and nothing is after p although f matches
// rows, it returns the last repeatN rows instead and reports true.
func (s *store[T]) rowsAfter(f sel, p *position, n, repeatN int) ([]ref[T], bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.view(f)
	g, r, ti := v.baseG, 0, v.tailLo
	if p != nil {
		pg, pr := s.baseUpTo(&v, p.t, p.id, true)
		if pg > g || (pg == g && pr > r) {
			g, r = pg, pr
		}
		ti = max(ti, s.search(v.tail, p.t, p.id, true))
	}
	refs := s.appendRows(make([]ref[T], 0, min(n, 1024)), &v, g, r, ti, n)
	if len(refs) > 0 || repeatN <= 0 {
		return refs, false
	}
	total := v.total()
	if total == 0 {
		return refs, false
	}
	refs, _ = s.rowsAtLocked(f, max(0, total-repeatN), repeatN)
	return refs, true
}

// countBeforeLocked returns the number of rows of v before the position
// (t, id), that position itself included when inclusive is set.
func (s *store[T]) countBeforeLocked(v *view[T], t time.Time, id string, inclusive bool) int {
	g, r := s.baseUpTo(v, t, id, inclusive)
	var n int
	switch lo := s.lay.groupStart(g); {
	case lo < v.baseLo:
		n = 0
	case lo >= v.baseHi:
		n = v.baseCount
	default:
		rg := s.lay.rank(v.class, lo)
		n = rg - v.rlo - countIn(v.rem, v.rlo, rg) + r
	}
	ti := s.search(v.tail, t, id, inclusive)
	return n + min(max(ti, v.tailLo), v.tailHi) - v.tailLo
}

// lookup returns the override with this id, or the base index of a base
// record with this id that is still at its base position.
func (s *store[T]) lookup(id string) (r *rec[T], base int, ok bool) {
	if r, ok := s.byID[id]; ok {
		return r, 0, true
	}
	i, ok := s.lay.ids.index(id)
	if !ok || i >= s.lay.n {
		return nil, 0, false
	}
	if j := lowerBound(s.removed, i); j < len(s.removed) && s.removed[j] == i {
		return nil, 0, false
	}
	return nil, i, true
}

func lowerBound(list []int, x int) int {
	j, _ := slices.BinarySearch(list, x)
	return j
}

// place puts r in the tail lists it belongs in.
func (s *store[T]) place(r *rec[T]) {
	r.in = s.lists(r)
	for k := range s.tails {
		if r.in&(1<<k) != 0 {
			rs := s.tails[k]
			s.tails[k] = slices.Insert(rs, s.search(rs, r.t, r.id, false), r)
		}
	}
}

// unplace takes r out of its tail lists.
func (s *store[T]) unplace(r *rec[T]) {
	for k := range s.tails {
		if r.in&(1<<k) == 0 {
			continue
		}
		rs := s.tails[k]
		if j := s.search(rs, r.t, r.id, false); j < len(rs) && rs[j] == r {
			s.tails[k] = slices.Delete(rs, j, j+1)
		}
	}
	r.in = 0
}

// takeBase records that base record i left its base position as r.
func (s *store[T]) takeBase(i int, r *rec[T]) {
	s.removed = slices.Insert(s.removed, lowerBound(s.removed, i), i)
	if s.removedBy != nil {
		c := s.lay.classOf(i)
		k := s.lay.rank(c, i)
		s.removedBy[c] = slices.Insert(s.removedBy[c], lowerBound(s.removedBy[c], k), k)
	}
	s.byID[r.id] = r
}

// edit changes the live record with this id. change receives the record
// (for a base record, its value generated by base) and the stamped time
// of the change, and reports whether the change applies; it may set the
// record's value, class and dead flag, not its position. If the change
// applies, the record is stamped with the time and moves to its new
// position, and edit returns its new value.
func (s *store[T]) edit(id string, base func(i int) T, change func(r *rec[T], now time.Time) bool) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.stamp(s.clock.Now())
	r, i, ok := s.lookup(id)
	var zero T
	switch {
	case !ok || (r != nil && r.dead):
		return zero, false
	case r == nil:
		r = &rec[T]{t: s.lay.baseTime(i), id: id, v: base(i), idx: i, class: s.lay.classOf(i)}
		if !change(r, now) {
			return zero, false
		}
		s.takeBase(i, r)
	default:
		old := *r
		if !change(r, now) {
			*r = old
			return zero, false
		}
		s.unplace(r) // by its old position and lists, which change kept
	}
	r.t = now
	s.place(r)
	return r.v, true
}

// insert adds a new record made by gen from its index, id and the stamped
// time (gen returns the value and the record's class), and returns it.
func (s *store[T]) insert(gen func(i int, id string, now time.Time) (T, int)) T {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.stamp(s.clock.Now())
	i := s.lay.n + s.inserted
	s.inserted++
	id := s.lay.ids.id(i)
	v, class := gen(i, id, now)
	r := &rec[T]{t: now, id: id, v: v, idx: i, class: class}
	s.byID[id] = r
	s.place(r)
	return v
}

// deadIDs returns the ids of the deleted records in order of deletion.
func (s *store[T]) deadIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var dead []*rec[T]
	for _, r := range s.byID {
		if r.dead {
			dead = append(dead, r)
		}
	}
	slices.SortFunc(dead, func(a, b *rec[T]) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		return s.lay.ids.compare(a.id, b.id)
	})
	ids := make([]string, len(dead))
	for k, r := range dead {
		ids[k] = r.id
	}
	return ids
}

// live returns the number of live records.
func (s *store[T]) live() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := s.lay.n - len(s.removed)
	for _, r := range s.byID {
		if !r.dead {
			n++
		}
	}
	return n
}

// clock is a server's clock, shared by its collections. It moves only by
// SetNow and Advance, and never goes backwards.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) SetNow(t time.Time) error {
	t = t.UTC()
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.now) {
		return fmt.Errorf("mockapi: set clock to %s: before the current %s; the clock never goes backwards",
			t.Format(time.RFC3339Nano), c.now.Format(time.RFC3339Nano))
	}
	c.now = t
	return nil
}

func (c *clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
