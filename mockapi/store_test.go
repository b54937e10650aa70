package mockapi

import (
	"cmp"
	"fmt"
	mathrand "math/rand"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestUnmix64(t *testing.T) {
	for _, x := range []uint64{0, 1, 2, 42, 1 << 63, ^uint64(0), 0x0123456789abcdef} {
		if got := unmix64(mix64(x)); got != x {
			t.Errorf("unmix64(mix64(%#x)) = %#x, want %#x", x, got, x)
		}
	}
}

func TestIDCodec(t *testing.T) {
	c := newIDCodec(7)
	other := newIDCodec(8)
	prev := ""
	for _, i := range []int{0, 1, 2, 3, 999, 1 << 20, 9_999_999, 1 << 40} {
		id := c.id(i)
		if got, ok := c.index(id); !ok || got != i {
			t.Errorf("index(id(%d)) = %d, %v, want %d, true", i, got, ok, i)
		}
		if _, ok := other.index(id); ok {
			t.Errorf("index(%q) with another seed's codec = _, true, want false", id)
		}
		if id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Errorf("id(%d) = %q, want a version 4, RFC 4122 variant UUID", i, id)
		}
		if prev != "" {
			// Comparing bits must agree with comparing strings.
			h1, l1 := c.bits(i)
			pi, _ := c.index(prev)
			h0, l0 := c.bits(pi)
			byBits := cmp.Or(cmp.Compare(h0, h1), cmp.Compare(l0, l1))
			if byStr := strings.Compare(prev, id); byBits != byStr {
				t.Errorf("bits order of %q, %q = %d, string order %d", prev, id, byBits, byStr)
			}
		}
		prev = id
	}
	for _, bad := range []string{
		"",
		"not-a-uuid",
		strings.ToUpper(c.id(5)),
		c.id(5)[:35],
		"00000000-0000-4000-8000-000000000000",
		strings.Replace(c.id(5), "-", "x", 1),
	} {
		if i, ok := c.index(bad); ok {
			t.Errorf("index(%q) = %d, true, want false", bad, i)
		}
	}
}

func TestSplitMix(t *testing.T) {
	a, b := splitMix{state: 5}, splitMix{state: 5}
	for range 10 {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("two sources with the same state diverged: %#x != %#x", x, y)
		}
	}
	a.Seed(-1)
	for range 100 {
		if v := a.Int63(); v < 0 {
			t.Fatalf("Int63() = %d, want >= 0", v)
		}
	}
}

func TestGroupAtOrAfter(t *testing.T) {
	c := NewUnstartedServer(Options{Users: 10}).cfg // 4 groups at 0s, 1s, 2s, 3s
	s := c.start
	tests := []struct {
		t    time.Time
		want int
	}{
		{time.Time{}, 0},
		{s.Add(-time.Hour), 0},
		{s, 0},
		{s.Add(1), 1},
		{s.Add(time.Second), 1},
		{s.Add(3 * time.Second), 3},
		{s.Add(3*time.Second + 1), 4},
		{s.AddDate(1000, 0, 0), 4},
	}
	for _, tt := range tests {
		if got := c.groupAtOrAfter(tt.t); got != tt.want {
			t.Errorf("groupAtOrAfter(%v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

// model is a naive copy of the collection, kept in step with the server's
// mutations, against which the positional access is checked.
type model struct {
	rows map[string]User // live users and tombstones
}

func newModel(s *Server) *model {
	m := &model{rows: make(map[string]User)}
	for i := range s.cfg.n {
		u := s.UserAt(i)
		m.rows[u.ID] = u
	}
	return m
}

func (m *model) list(f filter) []User {
	var out []User
	for _, u := range m.rows {
		switch {
		case u.Deleted && !f.deleted,
			!f.since.IsZero() && u.UpdatedAt.Before(f.since),
			!f.before.IsZero() && !u.UpdatedAt.Before(f.before):
			continue
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), strings.Compare(a.ID, b.ID))
	})
	return out
}

func (m *model) live() []string {
	var ids []string
	for id, u := range m.rows {
		if !u.Deleted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// mutate applies n random mutations to s and m.
func mutate(t *testing.T, s *Server, m *model, rng *rand.Rand, n int) {
	t.Helper()
	for range n {
		ids := m.live()
		switch op := rng.IntN(10); {
		case op < 4 && len(ids) > 0:
			id := ids[rng.IntN(len(ids))]
			u, ok := s.Update(id)
			if !ok {
				t.Fatalf("Update(%q) = _, false, want true", id)
			}
			m.rows[id] = u
		case op < 6:
			u := s.Insert()
			m.rows[u.ID] = u
		case op < 8 && len(ids) > 0:
			id := ids[rng.IntN(len(ids))]
			if !s.Delete(id) {
				t.Fatalf("Delete(%q) = false, want true", id)
			}
			m.rows[id] = User{ID: id, UpdatedAt: s.Now(), Deleted: true}
		default:
			s.Advance(time.Duration(rng.IntN(3)) * time.Second / 2)
		}
	}
}

func TestRowsMatchModel(t *testing.T) {
	for _, opts := range []Options{
		{Users: 40},
		{Users: 41, TiesPerTimestamp: 1},
		{Users: 37, TiesPerTimestamp: 5, Step: time.Minute},
		{Users: -1},
	} {
		t.Run(fmt.Sprintf("users=%d/ties=%d", opts.Users, opts.withDefaults().TiesPerTimestamp), func(t *testing.T) {
			s := NewUnstartedServer(opts)
			m := newModel(s)
			rng := rand.New(rand.NewPCG(1, 2))
			for round := range 4 {
				if round > 0 {
					mutate(t, s, m, rng, 15)
				}
				checkRows(t, s, m)
			}
		})
	}
}

func checkRows(t *testing.T, s *Server, m *model) {
	t.Helper()
	if diff := diffUsers(m.list(filter{}), s.Users()); diff != "" {
		t.Fatalf("Users() mismatch (-want +got):\n%s", diff)
	}
	if got, want := s.Len(), len(m.list(filter{})); got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	// Filter bounds: around every timestamp in use, and unbounded.
	times := []time.Time{{}, s.cfg.start.Add(-time.Second)}
	for _, u := range m.list(filter{deleted: true}) {
		times = append(times, u.UpdatedAt, u.UpdatedAt.Add(1), u.UpdatedAt.Add(-1))
	}
	times = append(times, s.Now().Add(time.Hour))
	rng := rand.New(rand.NewPCG(3, 4))
	for range 40 {
		f := filter{
			since:   times[rng.IntN(len(times))],
			before:  times[rng.IntN(len(times))],
			deleted: rng.IntN(2) == 0,
		}
		if rng.IntN(3) == 0 {
			f.before = time.Time{}
		}
		want := m.list(f)
		refs, total := s.store.rowsAt(f.sel(), 0, len(want)+5)
		if diff := diffUsers(want, s.cfg.users(refs)); diff != "" || total != len(want) {
			t.Fatalf("rowsAt(%+v, 0, all): total %d, want %d; rows (-want +got):\n%s", f, total, len(want), diff)
		}
		for range 5 {
			off, n := rng.IntN(len(want)+2), 1+rng.IntN(7)
			refs, _ := s.store.rowsAt(f.sel(), off, n)
			w := want[min(off, len(want)):min(off+n, len(want))]
			if diff := diffUsers(w, s.cfg.users(refs)); diff != "" {
				t.Fatalf("rowsAt(%+v, %d, %d) (-want +got):\n%s", f, off, n, diff)
			}
		}
		// Keyset: after every row, and after positions between rows.
		for _, u := range want {
			for _, p := range []position{{u.UpdatedAt, u.ID}, {u.UpdatedAt, u.ID[:10]}, {u.UpdatedAt.Add(-1), "~"}} {
				refs, _ := s.store.rowsAfter(f.sel(), &p, 4, 0)
				i := slices.IndexFunc(want, func(w User) bool { return before(p.t, p.id, w.UpdatedAt, w.ID) })
				if i < 0 {
					i = len(want)
				}
				w := want[i:min(i+4, len(want))]
				if diff := diffUsers(w, s.cfg.users(refs)); diff != "" {
					t.Fatalf("rowsAfter(%+v, %v, 4) (-want +got):\n%s", f, p, diff)
				}
			}
		}
	}
}

// before reports whether the position (t1, id1) sorts before (t2, id2) in
// collection order.
func before(t1 time.Time, id1 string, t2 time.Time, id2 string) bool {
	if !t1.Equal(t2) {
		return t1.Before(t2)
	}
	return id1 < id2
}

// cmpEmpty treats nil and empty slices as equal.
var cmpEmpty = cmpopts.EquateEmpty()

// diffUsers is cmp.Diff with a fast path for the common equal case.
func diffUsers(want, got []User) string {
	if slices.EqualFunc(want, got, func(a, b User) bool {
		return a.ID == b.ID && a.Name == b.Name && a.Email == b.Email && a.Address == b.Address &&
			a.Company == b.Company && a.Job == b.Job && a.UpdatedAt.Equal(b.UpdatedAt) &&
			a.CreatedAt.Equal(b.CreatedAt) && a.Deleted == b.Deleted
	}) {
		return ""
	}
	return gocmp.Diff(want, got, cmpEmpty)
}

// BenchmarkRowsAt locates and materialises a page of 10 at the start and at
// the end of ten million users, two of them changed: the deep page should
// cost about what the shallow one does (compare their ns/op and allocs/op
// in the same run), since nothing depends on the population size.
func BenchmarkRowsAt(b *testing.B) {
	s := NewUnstartedServer(Options{Users: 10_000_000})
	for _, id := range []string{s.UserAt(5).ID, s.UserAt(9_999_995).ID} {
		s.Update(id)
	}
	for _, offset := range []int{0, 9_999_990} {
		b.Run(fmt.Sprintf("offset=%d", offset), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				refs, _ := s.store.rowsAt(filter{}.sel(), offset, 10)
				if len(s.cfg.users(refs)) != 10 {
					b.Fatalf("rowsAt(%d, 10) served %d rows, want 10", offset, len(refs))
				}
			}
		})
	}
}

// BenchmarkGenerate measures materialising one base user as a User, as
// the accessors do, and appending one as JSON, as a page does.
func BenchmarkGenerate(b *testing.B) {
	cfg := NewUnstartedServer(Options{}).cfg
	b.Run("User", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			_ = cfg.base(i)
		}
	})
	b.Run("JSON", func(b *testing.B) {
		e := newUserEncoder(cfg, 0)
		var buf []byte
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			buf = e.base(buf[:0], i)
		}
	})
}

// BenchmarkSeedSource compares seeding the splitmix64 source per user with
// seeding math/rand's default source, which a per-user faker would need.
func BenchmarkSeedSource(b *testing.B) {
	b.Run("splitmix", func(b *testing.B) {
		b.ReportAllocs()
		var sink uint64
		for i := 0; b.Loop(); i++ {
			src := splitMix{state: seedFor(1, i, streamProfile, 0)}
			sink += src.Uint64()
		}
		_ = sink
	})
	b.Run("math/rand", func(b *testing.B) {
		b.ReportAllocs()
		var sink uint64
		for i := 0; b.Loop(); i++ {
			src := mathrand.NewSource(int64(i)).(mathrand.Source64)
			sink += src.Uint64()
		}
		_ = sink
	})
}
