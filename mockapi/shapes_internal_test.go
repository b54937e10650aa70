package mockapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// diffJSON is cmp.Diff (empty slices equal to nil) with a fast path for
// values whose JSON is equal, as the mock's JSON holds every field.
func diffJSON(want, got any, _ ...gocmp.Option) string {
	a, errA := json.Marshal(want)
	b, errB := json.Marshal(got)
	if errA == nil && errB == nil && bytes.Equal(bytes.ReplaceAll(a, []byte("null"), []byte("[]")), bytes.ReplaceAll(b, []byte("null"), []byte("[]"))) {
		return ""
	}
	return gocmp.Diff(want, got, cmpEmpty)
}

func TestPermutation(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 10, 97, 1000, 1024, 4096 * 3} {
		for _, salt := range []uint64{0, 5, 1<<63 + 7} {
			p := newPermutation(n, salt)
			seen := make([]bool, n)
			for i := range n {
				x := p.at(i)
				if x >= n || seen[x] {
					t.Fatalf("n=%d salt=%d: at(%d) = %d, not a new value below n", n, salt, i, x)
				}
				seen[x] = true
				if back := p.inv(x); back != i {
					t.Fatalf("n=%d salt=%d: inv(at(%d)) = %d", n, salt, i, back)
				}
			}
		}
	}
}

func TestClasses(t *testing.T) {
	c := newClasses(2, 0, 1, 0, 0, 1)
	counts := [2]int{}
	for i := range 40 {
		k := c.of(i)
		if got := c.rank(k, i); got != counts[k] {
			t.Fatalf("rank(%d, %d) = %d, want %d", k, i, got, counts[k])
		}
		if got := c.unrank(k, counts[k]); got != i {
			t.Fatalf("unrank(%d, %d) = %d, want %d", k, counts[k], got, i)
		}
		counts[k]++
	}
}

func TestIssueCodec(t *testing.T) {
	for _, n := range []int{0, 1, 10, 1000} {
		c := newIssueCodec(3, n)
		for i := range n + 5 { // base issues, then inserted ones
			id := c.id(i)
			if got, ok := c.index(id); !ok || got != i {
				t.Errorf("n=%d: index(id(%d) = %s) = %d, %v", n, i, id, got, ok)
			}
			if j, ok := c.indexOf(c.number(i)); !ok || j != i {
				t.Errorf("n=%d: indexOf(number(%d)) = %d, %v", n, i, j, ok)
			}
		}
		for _, bad := range []string{"", "x", "-5", "0", strconv.FormatInt(c.idBase+1, 10), strconv.FormatInt(c.idBase, 10)} {
			if i, ok := c.index(bad); ok {
				t.Errorf("n=%d: index(%q) = %d, true, want false", n, bad, i)
			}
		}
	}
	if got := (issueCodec{}).compare("999999999", "1000000000"); got != -1 {
		t.Errorf("compare(999999999, 1000000000) = %d, want -1", got)
	}
}

func TestCustomerCodec(t *testing.T) {
	c, other := newCustomerCodec(5), newCustomerCodec(6)
	prev := ""
	for _, i := range []int{0, 1, 2, 99, 1 << 33} {
		id := c.id(i)
		if len(id) != 18 || id[:4] != "cus_" {
			t.Errorf("id(%d) = %q, want cus_ and 14 characters", i, id)
		}
		if got, ok := c.index(id); !ok || got != i {
			t.Errorf("index(id(%d) = %s) = %d, %v", i, id, got, ok)
		}
		if _, ok := other.index(id); ok {
			t.Errorf("another seed's codec accepts %s", id)
		}
		if prev != "" {
			pi, _ := c.index(prev)
			h0, l0 := c.bits(pi)
			h1, l1 := c.bits(i)
			if byBits, byStr := cmp.Or(cmp.Compare(h0, h1), cmp.Compare(l0, l1)), cmp.Compare(prev, id); byBits != byStr {
				t.Errorf("bits order of %s, %s = %d, string order %d", prev, id, byBits, byStr)
			}
		}
		prev = id
	}
	for _, bad := range []string{"", "cus_", "cus_000000000000000", "cus_0000000000000!", "cux_00000000000000", "cus_zzzzzzzzzzzzzz"} {
		if i, ok := c.index(bad); ok {
			t.Errorf("index(%q) = %d, true, want false", bad, i)
		}
	}
}

// issueModel is a naive copy of the issues, kept in step with the mutations.
type issueModel map[int]Issue // by number

func (m issueModel) list(state string, since time.Time) []Issue {
	var out []Issue
	for _, is := range m {
		if (state == "all" || is.State == state) && !is.UpdatedAt.Before(since) {
			out = append(out, is)
		}
	}
	slices.SortFunc(out, func(a, b Issue) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func (m issueModel) numbers() []int {
	ns := make([]int, 0, len(m))
	for n := range m {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// The positional access of issues (three selections of rows: all, open,
// closed) agrees with a naive model through random mutations.
func TestIssuesMatchModel(t *testing.T) {
	for _, opts := range []Options{
		{Issues: 40},
		{Issues: 41, TiesPerTimestamp: 1},
		{Issues: 37, TiesPerTimestamp: 5, Step: 90 * time.Second},
		{Issues: -1},
	} {
		t.Run(fmt.Sprintf("issues=%d/ties=%d", opts.Issues, opts.TiesPerTimestamp), func(t *testing.T) {
			s := NewUnstartedServer(opts)
			g := s.GitHub()
			m := issueModel{}
			for i := range g.lay.n {
				is := g.IssueAt(i)
				m[is.Number] = is
			}
			rng := rand.New(rand.NewPCG(7, 8))
			for round := range 5 {
				if round > 0 {
					mutateIssues(t, s, m, rng, 15)
				}
				checkIssues(t, g, m)
			}
		})
	}
}

// mutateIssues applies n random changes to the issues of s and to m.
func mutateIssues(t *testing.T, s *Server, m issueModel, rng *rand.Rand, n int) {
	t.Helper()
	g := s.GitHub()
	labels := g.Labels()
	for range n {
		ns := m.numbers()
		op := rng.IntN(9)
		num := 0
		if len(ns) == 0 {
			op = 6
		} else {
			num = ns[rng.IntN(len(ns))]
		}
		old := m[num]
		var is Issue
		ok := true
		switch op {
		case 0, 1:
			is, ok = g.Update(num)
		case 2:
			is, ok = g.Close(num)
			if ok != (old.State == StateOpen) {
				t.Fatalf("Close(%d) of a %s issue = %v", num, old.State, ok)
			}
		case 3:
			is, ok = g.Reopen(num)
			if ok != (old.State == StateClosed) {
				t.Fatalf("Reopen(%d) of a %s issue = %v", num, old.State, ok)
			}
		case 4:
			is, ok = g.AddLabels(num, labels[rng.IntN(len(labels))].Name)
		case 5:
			name := labels[rng.IntN(len(labels))].Name
			if len(old.Labels) > 0 && rng.IntN(2) == 0 {
				name = old.Labels[0].Name
			}
			is, ok = g.RemoveLabels(num, name)
			if ok && slices.ContainsFunc(is.Labels, func(l Label) bool { return l.Name == name }) {
				t.Fatalf("RemoveLabels(%d, %q) kept the label: %v", num, name, is.Labels)
			}
		case 6:
			is = g.Insert()
			num = is.Number
		case 7:
			if !g.Delete(num) {
				t.Fatalf("Delete(%d) = false, want true", num)
			}
			delete(m, num)
			if _, ok := g.Issue(num); ok {
				t.Fatalf("Issue(%d) after Delete = _, true", num)
			}
			continue
		case 8:
			s.Advance(time.Duration(rng.IntN(3)) * time.Second / 2)
			continue
		}
		if !ok {
			if op <= 1 || op == 4 || op == 5 {
				t.Fatalf("change %d of issue %d failed", op, num)
			}
			continue
		}
		if want := s.Now().Truncate(time.Second); !is.UpdatedAt.Equal(want) {
			t.Fatalf("change %d of issue %d: updated_at %v, want the clock %v", op, num, is.UpdatedAt, want)
		}
		if (is.State == StateClosed) != (is.ClosedAt != nil) {
			t.Fatalf("change %d of issue %d: state %s with closed_at %v", op, num, is.State, is.ClosedAt)
		}
		m[num] = is
	}
}

func checkIssues(t *testing.T, g *GitHub, m issueModel) {
	t.Helper()
	if diff := diffJSON(m.list("all", time.Time{}), g.Issues(), cmpEmpty); diff != "" {
		t.Fatalf("Issues() mismatch (-model +got):\n%s", diff)
	}
	if g.Len() != len(m) {
		t.Errorf("Len() = %d, want %d", g.Len(), len(m))
	}
	for num, want := range m {
		if got, ok := g.Issue(num); !ok || diffJSON(want, got) != "" {
			t.Fatalf("Issue(%d) = %+v, %v; want %+v", num, got, ok, want)
		}
	}
	times := []time.Time{{}, g.lay.start.Add(-time.Hour)}
	for _, is := range m {
		times = append(times, is.UpdatedAt, is.UpdatedAt.Add(time.Second), is.UpdatedAt.Add(-time.Nanosecond))
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, state := range []string{"all", StateOpen, StateClosed} {
		f := map[string]sel{
			"all":       {class: anyClass, tail: tailIssues},
			StateOpen:   {class: classOpen, tail: tailOpen},
			StateClosed: {class: classClosed, tail: tailClosed},
		}[state]
		for range 8 {
			f.since = times[rng.IntN(len(times))]
			want := m.list(state, f.since)
			refs, total := g.store.rowsAt(f, 0, len(want)+3)
			if diff := diffJSON(want, g.materialize(refs), cmpEmpty); diff != "" || total != len(want) {
				t.Fatalf("rows of state %s since %v: total %d, want %d (-model +got):\n%s", state, f.since, total, len(want), diff)
			}
			for _, size := range []int{1, 3, 7} {
				for _, desc := range []bool{false, true} {
					var got []Issue
					for page := 1; page <= len(want)/size+2; page++ {
						refs, total, _ := g.page(f, page, size, desc, false)
						if total != len(want) {
							t.Fatalf("page total %d, want %d", total, len(want))
						}
						p := g.materialize(refs)
						if desc {
							slices.Reverse(p)
						}
						got = append(got, p...)
					}
					w := slices.Clone(want)
					if desc {
						slices.Reverse(w)
					}
					if diff := diffJSON(w, got, cmpEmpty); diff != "" {
						t.Fatalf("pages of %d, state %s, desc %v, since %v (-model +got):\n%s", size, state, desc, f.since, diff)
					}
				}
			}
		}
	}
}

// customerModel is a naive copy of the customers and tombstones.
type customerModel map[string]Customer

// list returns the listing, newest first, within [gte, lt) (zero: unbounded).
func (m customerModel) list(gte, lt int64, live bool) []Customer {
	var out []Customer
	for _, c := range m {
		if (live && c.Deleted) || c.Updated < gte || (lt != 0 && c.Updated >= lt) {
			continue
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Customer) int {
		return -cmp.Or(cmp.Compare(a.Updated, b.Updated), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func TestCustomersMatchModel(t *testing.T) {
	for _, opts := range []Options{
		{Customers: 40},
		{Customers: 23, TiesPerTimestamp: 1},
		{Customers: 31, TiesPerTimestamp: 4, Step: 3 * time.Second},
		{Customers: -1},
	} {
		t.Run(fmt.Sprintf("customers=%d/ties=%d", opts.Customers, opts.TiesPerTimestamp), func(t *testing.T) {
			s := NewUnstartedServer(opts)
			st := s.Stripe()
			m := customerModel{}
			for i := range st.lay.n {
				c := st.CustomerAt(i)
				m[c.ID] = c
			}
			rng := rand.New(rand.NewPCG(11, 12))
			for round := range 5 {
				for range 15 * min(round, 1) {
					var live []string
					for _, c := range m.list(0, 0, true) {
						live = append(live, c.ID)
					}
					op := rng.IntN(5)
					if len(live) == 0 {
						op = 2
					}
					switch op {
					case 0, 1:
						id := live[rng.IntN(len(live))]
						c, ok := st.Update(id)
						if !ok || c.Email == m[id].Email || c.Updated != s.Now().Unix() {
							t.Fatalf("Update(%s) = %+v, %v; want a new email, updated %d", id, c, ok, s.Now().Unix())
						}
						m[id] = c
					case 2:
						c := st.Insert()
						m[c.ID] = c
					case 3:
						id := live[rng.IntN(len(live))]
						if !st.Delete(id) || st.Delete(id) {
							t.Fatalf("Delete(%s) twice = not true then false", id)
						}
						m[id] = Customer{ID: id, Object: "customer", Deleted: true, Updated: s.Now().Unix()}
					case 4:
						s.Advance(time.Duration(rng.IntN(3)) * time.Second / 2)
					}
				}
				checkCustomers(t, st, m, rng)
			}
		})
	}
}

func checkCustomers(t *testing.T, st *Stripe, m customerModel, rng *rand.Rand) {
	t.Helper()
	if diff := diffJSON(m.list(0, 0, false), st.Listing(), cmpEmpty); diff != "" {
		t.Fatalf("Listing() mismatch (-model +got):\n%s", diff)
	}
	if diff := diffJSON(m.list(0, 0, true), st.Customers(), cmpEmpty); diff != "" {
		t.Fatalf("Customers() mismatch (-model +got):\n%s", diff)
	}
	all := m.list(0, 0, false)
	bounds := []int64{0}
	for _, c := range all {
		bounds = append(bounds, c.Updated, c.Updated+1)
	}
	for range 6 {
		gte, lt := bounds[rng.IntN(len(bounds))], bounds[rng.IntN(len(bounds))]
		f := sel{class: anyClass, tail: tailListed}
		if gte != 0 {
			f.since = time.Unix(gte, 0)
		}
		if lt != 0 {
			f.before = time.Unix(lt, 0)
		}
		want := m.list(gte, lt, false)
		for _, n := range []int{1, 2, 5, 100} {
			// Newest first to the end with starting_after.
			var got []Customer
			var p *position
			for range len(want) + 2 {
				refs, more := st.store.descRows(f, p, true, n, false)
				page := st.listed(refs)
				got = append(got, page...)
				if !more || len(page) == 0 {
					break
				}
				pos, _ := st.position(page[len(page)-1].ID)
				p = &pos
			}
			if diff := diffJSON(want, got, cmpEmpty); diff != "" {
				t.Fatalf("starting_after walk, limit %d, updated in [%d, %d) (-model +got):\n%s", n, gte, lt, diff)
			}
			if n > 5 {
				continue
			}
			// ending_before from any customer: the n newer ones closest to it.
			for _, c := range all {
				pos, _ := st.position(c.ID)
				refs, more := st.store.descRows(f, &pos, false, n, false)
				k := slices.IndexFunc(want, func(w Customer) bool {
					return w.Updated < c.Updated || (w.Updated == c.Updated && w.ID <= c.ID)
				})
				if k < 0 {
					k = len(want)
				}
				w := want[max(0, k-n):k]
				if diff := diffJSON(w, st.listed(refs), cmpEmpty); diff != "" || more != (k-n > 0) {
					t.Fatalf("ending_before %s, limit %d: has_more %v, want %v (-model +got):\n%s", c.ID, n, more, k-n > 0, diff)
				}
			}
		}
	}
}

// listed materialises refs in listing order (newest first).
func (st *Stripe) listed(refs []ref[Customer]) []Customer {
	out := make([]Customer, len(refs))
	for k, r := range refs {
		if r.base {
			out[len(out)-1-k] = st.base(r.idx)
		} else {
			out[len(out)-1-k] = *r.v
		}
	}
	return out
}

// The served JSON of a customer decodes to the Customer the accessors
// return, and Customer.MarshalJSON writes the served bytes.
func TestCustomerEncoding(t *testing.T) {
	s := NewUnstartedServer(Options{Customers: 300})
	st := s.Stripe()
	st.Update(st.CustomerAt(3).ID)
	st.Delete(st.CustomerAt(4).ID)
	st.Insert()
	for _, rate := range []float64{0, 0.5} {
		e := &customerEncoder{st: st, up: st.users(), cp: st.pools(), missing: rate}
		refs, _ := st.store.rowsAt(sel{class: anyClass, tail: tailListed}, 0, 1<<20)
		for _, r := range refs {
			c := st.listed([]ref[Customer]{r})[0]
			got := e.customers(nil, []ref[Customer]{r})
			got = got[1 : len(got)-1]
			miss := !c.Deleted && missing(c.ID, rate)
			if want := appendCustomer(nil, &c, miss); !bytes.Equal(got, want) {
				t.Fatalf("encoded customer (missing rate %v):\n got %s\nwant %s", rate, got, want)
			}
			if miss {
				continue
			}
			var back Customer
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("decode %s: %v", got, err)
			}
			if diff := diffJSON(c, back, cmpEmpty); diff != "" {
				t.Fatalf("decoded customer (-accessor +decoded):\n%s", diff)
			}
			if b, err := json.Marshal(back); err != nil || !bytes.Equal(b, got) {
				t.Fatalf("json.Marshal(decoded) = %s, %v; want the served %s", b, err, got)
			}
		}
	}
}

// The served JSON of every kind of issue is what encoding/json writes for
// the Issue the accessors return.
func TestIssueEncoding(t *testing.T) {
	s := NewUnstartedServer(Options{Issues: 200})
	g := s.GitHub()
	for n := 1; n <= 30; n += 3 {
		g.Update(n)
	}
	g.Close(2)
	g.Reopen(g.IssueAt(1).Number)
	g.Insert()
	for _, rate := range []float64{0, 0.5} {
		e := &issueEncoder{g: g, p: g.pools(), missing: rate, grp: -1}
		refs, _ := g.store.rowsAt(sel{class: anyClass, tail: tailIssues}, 0, 1<<20)
		for _, r := range refs {
			is := g.materialize([]ref[Issue]{r})[0]
			var got []byte
			if r.base {
				got = e.base(nil, r.idx)
			} else {
				got = e.issue(nil, r.v)
			}
			var want []byte
			if missingIssue(is.ID, rate) {
				var v map[string]any
				if err := json.Unmarshal(marshal(t, is), &v); err != nil {
					t.Fatal(err)
				}
				var served map[string]any
				if err := json.Unmarshal(got, &served); err != nil {
					t.Fatalf("served invalid JSON %s: %v", got, err)
				}
				delete(v, "updated_at")
				delete(v, "user")
				if diff := diffJSON(v, served); diff != "" {
					t.Fatalf("issue missing fields (-want +got):\n%s", diff)
				}
				continue
			}
			want = marshal(t, is)
			if !bytes.Equal(got, want) {
				t.Fatalf("encoded issue (missing rate %v):\n got %s\nwant %s (encoding/json)", rate, got, want)
			}
		}
	}
}
