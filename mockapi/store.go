package mockapi

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// config is the immutable shape of the base population.
type config struct {
	seed  int64
	users int
	start time.Time
	step  time.Duration
	ties  int
	codec idCodec
	pools func() *userPools // the seed's pools, built on first use
}

// groups returns the number of tie groups: base users that share an
// updatedAt.
func (c *config) groups() int { return (c.users + c.ties - 1) / c.ties }

// groupTime returns the updatedAt of tie group g.
func (c *config) groupTime(g int) time.Time {
	return c.start.Add(time.Duration(g) * c.step)
}

// baseTime returns the updatedAt of base user i.
func (c *config) baseTime(i int) time.Time { return c.groupTime(i / c.ties) }

// groupAtOrAfter returns the first tie group whose updatedAt is at or after
// t, or groups() if there is none. It is arithmetic: O(1).
func (c *config) groupAtOrAfter(t time.Time) int {
	if !t.After(c.start) {
		return 0
	}
	d := t.Sub(c.start) // saturates far in the future, which still clamps below
	g := d / c.step
	if d%c.step != 0 {
		g++
	}
	if n := c.groups(); g > time.Duration(n) {
		return n
	}
	return int(g)
}

// groupStart returns the index of the first base user of group g, clamped
// to the population.
func (c *config) groupStart(g int) int {
	if g >= c.groups() {
		return c.users
	}
	return g * c.ties
}

// rec is a user that no longer sits at its base position: updated,
// inserted, or deleted (then u is the tombstone).
type rec struct {
	u   User
	idx int // generation index: base index, or users+k for the k-th insert
	rev int // number of updates applied
}

// ref is one row of a page: a base index to generate, or a copy of an
// override taken under the lock.
type ref struct {
	idx  int
	u    User
	base bool
}

// filter selects rows by updatedAt and deletion.
type filter struct {
	since   time.Time // inclusive; zero means unbounded
	before  time.Time // exclusive; zero means unbounded
	deleted bool      // interleave tombstones
}

// store holds the live collection. The base population is never
// materialised: base user i is generated on demand from (seed, i). What
// changed is kept as overrides:
//
//   - removed: the sorted base indices that left their base position
//     (updated or deleted);
//   - live: updated and inserted users, sorted by (updatedAt, id);
//   - all: live plus tombstones, sorted the same way;
//   - byID: every override by id.
//
// Every override is stamped with the clock, which starts after the last
// base timestamp and never goes backwards, so all overrides sort after all
// base users. The collection is therefore the base indices that were not
// removed, in tie-group order and by id within a group, followed by live
// (or all, with tombstones).
//
// Locating a position costs O(log R + log T) for R removed base indices and
// T overrides, plus generating one tie group; a page of L rows then costs
// O(L + ties) generations. Nothing depends on the population size. Memory
// is O(R + T). A mutation costs O(log R + log T) to locate plus O(R + T)
// to shift the sorted slices.
type store struct {
	cfg *config

	mu       sync.RWMutex
	now      time.Time
	removed  []int
	live     []*rec
	all      []*rec
	byID     map[string]*rec
	inserted int
}

func newStore(cfg *config) *store {
	return &store{
		cfg:  cfg,
		now:  cfg.groupTime(cfg.groups()),
		byID: make(map[string]*rec),
	}
}

// compareRec orders overrides by (updatedAt, id).
func compareRec(a *rec, t time.Time, id string) int {
	if c := a.u.UpdatedAt.Compare(t); c != 0 {
		return c
	}
	return cmp.Compare(a.u.ID, id)
}

// searchRecs returns the first position in rs whose key is at or after
// (t, id), or strictly after it when strict is set.
func searchRecs(rs []*rec, t time.Time, id string, strict bool) int {
	return sort.Search(len(rs), func(j int) bool {
		c := compareRec(rs[j], t, id)
		return c > 0 || (c == 0 && !strict)
	})
}

func insertRec(rs []*rec, r *rec) []*rec {
	return slices.Insert(rs, searchRecs(rs, r.u.UpdatedAt, r.u.ID, false), r)
}

func removeRec(rs []*rec, r *rec) []*rec {
	j := searchRecs(rs, r.u.UpdatedAt, r.u.ID, false)
	if j < len(rs) && rs[j] == r {
		return slices.Delete(rs, j, j+1)
	}
	return rs
}

// isRemoved reports whether base index i left its base position.
func (s *store) isRemoved(i int) bool {
	_, ok := slices.BinarySearch(s.removed, i)
	return ok
}

// removedIn counts the removed base indices in [lo, hi).
func (s *store) removedIn(lo, hi int) int {
	a, _ := slices.BinarySearch(s.removed, lo)
	b, _ := slices.BinarySearch(s.removed, hi)
	return b - a
}

// view is the shape of the filtered collection under the lock: base rows
// are the indices in [baseLo, baseHi) that were not removed (both bounds are
// tie-group aligned), followed by tail[tailLo:tailHi].
type view struct {
	baseG          int // tie group of baseLo
	baseLo, baseHi int
	baseCount      int
	tail           []*rec
	tailLo, tailHi int
}

func (v *view) total() int { return v.baseCount + v.tailHi - v.tailLo }

// view computes the bounds of f in O(log R + log T).
func (s *store) view(f filter) view {
	c := s.cfg
	v := view{baseLo: 0, baseHi: c.users, tail: s.live}
	if f.deleted {
		v.tail = s.all
	}
	v.tailHi = len(v.tail)
	if !f.since.IsZero() {
		v.baseG = c.groupAtOrAfter(f.since)
		v.baseLo = c.groupStart(v.baseG)
		v.tailLo = searchRecs(v.tail, f.since, "", false)
	}
	if !f.before.IsZero() {
		v.baseHi = c.groupStart(c.groupAtOrAfter(f.before))
		v.tailHi = searchRecs(v.tail, f.before, "", false)
	}
	v.baseHi = max(v.baseHi, v.baseLo)
	v.tailHi = max(v.tailHi, v.tailLo)
	v.baseCount = v.baseHi - v.baseLo - s.removedIn(v.baseLo, v.baseHi)
	return v
}

// basePos locates base row p (0 ≤ p < v.baseCount) of the view as tie
// group g and rank r among the group's remaining members in id order.
//
// The p-th remaining index x at or after baseLo, in index order, is found by
// binary search over removed ("k-th missing number"); x falls in the same
// group as the p-th row in collection order because groups are contiguous
// index ranges and sorting only permutes members within a group.
func (s *store) basePos(v *view, p int) (g, r int) {
	j0, _ := slices.BinarySearch(s.removed, v.baseLo)
	rest := s.removed[j0:]
	// Remaining indices in [baseLo, rest[k]) = rest[k]-baseLo-k, nondecreasing in k.
	k := sort.Search(len(rest), func(k int) bool { return rest[k]-v.baseLo-k > p })
	x := v.baseLo + p + k
	g = x / s.cfg.ties
	lo := g * s.cfg.ties
	r = p - (lo - v.baseLo - s.removedIn(v.baseLo, lo))
	return g, r
}

// baseAfter locates the first base row strictly after (t, id) as tie group g
// and rank r (see basePos). Only the group whose time equals t is
// generated, and only its ids.
func (s *store) baseAfter(t time.Time, id string) (g, r int) {
	c := s.cfg
	if t.Before(c.start) {
		return 0, 0
	}
	g = c.groupAtOrAfter(t)
	if g >= c.groups() || !c.groupTime(g).Equal(t) {
		return g, 0 // group g is strictly later than t
	}
	for _, m := range s.members(nil, g, c.users) {
		if c.codec.id(m.idx) <= id {
			r++
		}
	}
	return g, r
}

// member is a remaining base user of a tie group and its id bits.
type member struct {
	idx    int
	hi, lo uint64
}

// members appends the remaining members of tie group g (indices below hi)
// to dst, sorted by id.
func (s *store) members(dst []member, g, hi int) []member {
	lo := g * s.cfg.ties
	end := min(lo+s.cfg.ties, hi)
	j, _ := slices.BinarySearch(s.removed, lo)
	start := len(dst)
	for i := lo; i < end; i++ {
		if j < len(s.removed) && s.removed[j] == i {
			j++
			continue
		}
		h, l := s.cfg.codec.bits(i)
		dst = append(dst, member{idx: i, hi: h, lo: l})
	}
	slices.SortFunc(dst[start:], func(a, b member) int {
		if c := cmp.Compare(a.hi, b.hi); c != 0 {
			return c
		}
		return cmp.Compare(a.lo, b.lo)
	})
	return dst
}

// appendRows appends up to n rows of v to dst, starting at rank r of tie
// group g and then at tail position ti.
func (s *store) appendRows(dst []ref, v *view, g, r, ti, n int) []ref {
	var ms []member
	for ; len(dst) < n && g*s.cfg.ties < v.baseHi; g, r = g+1, 0 {
		ms = s.members(ms[:0], g, v.baseHi)
		for _, m := range ms[min(r, len(ms)):] {
			if len(dst) == n {
				break
			}
			dst = append(dst, ref{idx: m.idx, base: true})
		}
	}
	for ti = max(ti, v.tailLo); ti < v.tailHi && len(dst) < n; ti++ {
		dst = append(dst, ref{u: v.tail[ti].u})
	}
	return dst
}

// rowsAt returns up to n rows of f starting at offset, and the number of
// rows f matches.
func (s *store) rowsAt(f filter, offset, n int) ([]ref, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rowsAtLocked(f, offset, n)
}

func (s *store) rowsAtLocked(f filter, offset, n int) ([]ref, int) {
	v := s.view(f)
	total := v.total()
	if offset < 0 || offset >= total || n <= 0 {
		return nil, total
	}
	dst := make([]ref, 0, min(n, total-offset))
	if offset < v.baseCount {
		g, r := s.basePos(&v, offset)
		return s.appendRows(dst, &v, g, r, v.tailLo, n), total
	}
	return s.appendRows(dst, &v, s.cfg.groups(), 0, v.tailLo+offset-v.baseCount, n), total
}

// lastRowsAt is rowsAt, except that an offset past the end (with at least
// one row) serves the rows at last(total) instead. It reports the offset
// served.
func (s *store) lastRowsAt(f filter, offset, n int, last func(total int) int) ([]ref, int, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	refs, total := s.rowsAtLocked(f, offset, n)
	if len(refs) == 0 && total > 0 && offset >= total {
		offset = last(total)
		refs, _ = s.rowsAtLocked(f, offset, n)
	}
	return refs, total, offset
}

// position is a keyset position: the rows strictly after (t, id).
type position struct {
	t  time.Time
	id string
}

// rowsAfter returns up to n rows of f strictly after p (from the start when
// p is nil). When repeatN > 0 and nothing is after p although f matches
// rows, it returns the last repeatN rows instead and reports true.
func (s *store) rowsAfter(f filter, p *position, n, repeatN int) ([]ref, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.view(f)
	g, r, ti := v.baseG, 0, v.tailLo
	if p != nil {
		pg, pr := s.baseAfter(p.t, p.id)
		if pg > g || (pg == g && pr > r) {
			g, r = pg, pr
		}
		ti = max(ti, searchRecs(v.tail, p.t, p.id, true))
	}
	refs := s.appendRows(make([]ref, 0, min(n, 1024)), &v, g, r, ti, n)
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

// users materialises refs.
func (s *store) users(refs []ref) []User {
	out := make([]User, len(refs))
	for i, r := range refs {
		if !r.base {
			out[i] = r.u
			continue
		}
		out[i] = s.cfg.base(r.idx)
	}
	return out
}

func (s *store) Now() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.now
}

func (s *store) SetNow(t time.Time) error {
	t = t.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Before(s.now) {
		return fmt.Errorf("mockapi: set clock to %s: before the current %s; the clock never goes backwards",
			t.Format(time.RFC3339Nano), s.now.Format(time.RFC3339Nano))
	}
	s.now = t
	return nil
}

func (s *store) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

// baseIndex returns the base index of id if it is a base user still at its
// base position.
func (s *store) baseIndex(id string) (int, bool) {
	i, ok := s.cfg.codec.index(id)
	if !ok || i >= s.cfg.users || s.isRemoved(i) {
		return 0, false
	}
	return i, true
}

// moveOut takes a base user out of its base position as an override.
func (s *store) moveOut(i int, u User) *rec {
	j, _ := slices.BinarySearch(s.removed, i)
	s.removed = slices.Insert(s.removed, j, i)
	r := &rec{u: u, idx: i}
	s.byID[u.ID] = r
	return r
}

func (s *store) Update(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	switch {
	case ok && r.u.Deleted:
		return User{}, false
	case ok:
		s.live = removeRec(s.live, r)
		s.all = removeRec(s.all, r)
	default:
		i, ok := s.baseIndex(id)
		if !ok {
			return User{}, false
		}
		r = s.moveOut(i, s.cfg.base(i))
	}
	r.rev++
	s.cfg.revise(&r.u, r.idx, r.rev)
	r.u.UpdatedAt = s.now
	s.live = insertRec(s.live, r)
	s.all = insertRec(s.all, r)
	return r.u, true
}

func (s *store) Insert() User {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.cfg.users + s.inserted
	s.inserted++
	u := s.cfg.inserted(i, s.now)
	r := &rec{u: u, idx: i}
	s.byID[u.ID] = r
	s.live = insertRec(s.live, r)
	s.all = insertRec(s.all, r)
	return u
}

func (s *store) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	tomb := User{ID: id, UpdatedAt: s.now, Deleted: true}
	r, ok := s.byID[id]
	switch {
	case ok && r.u.Deleted:
		return false
	case ok:
		s.live = removeRec(s.live, r)
		s.all = removeRec(s.all, r)
		r.u = tomb
	default:
		i, ok := s.baseIndex(id)
		if !ok {
			return false
		}
		r = s.moveOut(i, tomb)
	}
	s.all = insertRec(s.all, r)
	return true
}

func (s *store) Deleted() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for _, r := range s.all {
		if r.u.Deleted {
			ids = append(ids, r.u.ID)
		}
	}
	return ids
}

func (s *store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg.users - len(s.removed) + len(s.live)
}
