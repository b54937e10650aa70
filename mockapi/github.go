package mockapi

import (
	"math"
	"math/bits"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults of the GitHub-like issues API.
const (
	DefaultIssues       = 1000
	DefaultRepo         = "acme/widgets"
	GitHubPerPage       = 30  // per_page when absent, as GitHub
	GitHubMaxPerPage    = 100 // larger per_page values are capped, as GitHub
	githubDocumentation = "https://docs.github.com/rest/issues/issues#list-repository-issues"
)

// Issue is an issue of the GitHub-like API, with the fields of GitHub's
// that connectors most often read. It marshals, with encoding/json, to
// exactly the bytes served. Times are whole seconds in UTC.
type Issue struct {
	ID        int64      `json:"id"`     // unique over all repositories, in creation order
	Number    int        `json:"number"` // the issue's number in its repository
	Title     string     `json:"title"`
	State     string     `json:"state"` // "open" or "closed"
	Body      *string    `json:"body"`  // nil for an issue without a description
	User      GitHubUser `json:"user"`  // who opened it
	Labels    []Label    `json:"labels"`
	Comments  int        `json:"comments"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	ClosedAt  *time.Time `json:"closed_at"` // nil while open
}

// GitHubUser is the account nested in an [Issue].
type GitHubUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
}

// Label is a label of the repository, nested in an [Issue].
type Label struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color"` // six hex digits, no '#'
}

// GitHubError is the body of the GitHub-like API's error responses.
type GitHubError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
}

// Issue states.
const (
	StateOpen   = "open"
	StateClosed = "closed"
)

// Issue classes in the store: the state.
const (
	classOpen = iota
	classClosed
)

// Issues' tail lists.
const (
	tailIssues = iota // every live issue
	tailOpen
	tailClosed
)

// Pool sizes of issues (powers of two, but labels).
const (
	nTitles  = 512
	nBodies  = 256
	nAuthors = 64
	nLabels  = 12
)

// Stream constants of the issues.
const (
	streamIssuePools uint64 = 0x3707344a4093822
	streamIssue      uint64 = 0x9216d5d98979fb1b
	streamIssueEdit  uint64 = 0xd1310ba698dfb5ac
	streamIssuePerm  uint64 = 0x2ffd72dbd01adfb7
)

// issuePools are the Faker-made values issues are combined from.
type issuePools struct {
	titles  []jsonText
	bodies  []jsonText
	authors []GitHubUser
	authorJ []string // authors as JSON objects
	labels  []Label  // sorted by name
	labelJ  []string // labels as JSON objects
}

func issuePoolsFor(seed int64) *issuePools {
	return cachedPools(poolKey{seed: seed, kind: streamIssuePools}, buildIssuePools)
}

func buildIssuePools(seed int64) *issuePools {
	f := fakerFor(seedFor(seed, 0, streamIssuePools, 0))
	c, l, in := f.Company(), lorem{f}, f.Internet()
	p := &issuePools{
		titles: draw(nTitles, func() string {
			t := []rune(c.BS())
			t[0] = unicode.ToUpper(t[0])
			s := string(t)
			if f.IntBetween(0, 7) == 0 { // some titles quote a word
				s += ` in "` + l.Word() + `"`
			}
			return s
		}),
		bodies: draw(nBodies, func() string {
			// Markdown, with what JSON must escape: newlines, quotes, a
			// backslash, a tab.
			return l.Sentence(12) + " " + l.Sentence(9) + "\n\n### Steps\n\n1. " + l.Sentence(6) + "\n2. Run `" + l.Word() +
				` --path "C:\` + l.Word() + "\"`\n\n```\n\t" + l.Sentence(4) + "\n```"
		}),
	}
	seen := map[string]bool{}
	for len(p.authors) < nAuthors {
		login := strings.ToLower(strings.ReplaceAll(in.User(), ".", "-"))
		if seen[login] || login == "" {
			login += strconv.Itoa(len(p.authors))
		}
		seen[login] = true
		p.authors = append(p.authors, GitHubUser{Login: login, ID: int64(1000 + f.IntBetween(0, 9_000_000))})
	}
	for _, name := range distinct(4*nLabels, l.Word) {
		if len(p.labels) == nLabels {
			break
		}
		p.labels = append(p.labels, Label{Name: name.raw, Color: f.Color().Hex()[1:]})
	}
	for len(p.labels) < nLabels { // a tiny word list: numbered labels
		p.labels = append(p.labels, Label{Name: "area-" + strconv.Itoa(len(p.labels)), Color: f.Color().Hex()[1:]})
	}
	slices.SortFunc(p.labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	for k := range p.labels {
		p.labels[k].ID = 1_200_000_000 + int64(k)*104_729
		p.labelJ = append(p.labelJ, string(appendLabel(nil, &p.labels[k])))
	}
	for k := range p.authors {
		p.authorJ = append(p.authorJ, string(appendAuthor(nil, &p.authors[k])))
	}
	return p
}

func appendLabel(dst []byte, l *Label) []byte {
	dst = strconv.AppendInt(append(dst, `{"id":`...), l.ID, 10)
	dst = appendJSONString(appendKey(dst, "name"), l.Name)
	dst = appendJSONString(appendKey(dst, "color"), l.Color)
	return append(dst, '}')
}

func appendAuthor(dst []byte, u *GitHubUser) []byte {
	dst = appendJSONString(append(dst, `{"login":`...), u.Login)
	dst = appendIntField(dst, "id", u.ID)
	return append(dst, '}')
}

// permutation is the bijection i -> (a*i + b) mod n of [0, n), with a
// coprime to n: issue numbers are a shuffle of the update order.
type permutation struct{ n, a, ainv, b uint64 }

func newPermutation(n, salt uint64) permutation {
	if n == 0 {
		return permutation{}
	}
	a := uint64(float64(n)*0.6180339887)%n | 1
	for gcd(a, n) != 1 {
		a++
	}
	return permutation{n: n, a: a, ainv: modInverse(a, n), b: salt % n}
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// modInverse returns x with a*x = 1 mod n, for a coprime to n.
func modInverse(a, n uint64) uint64 {
	if n == 1 {
		return 0
	}
	// Extended Euclid on (n, a), keeping the coefficient of a mod n.
	r0, r1 := n, a%n
	t0, t1 := uint64(0), uint64(1)
	for r1 != 0 {
		q := r0 / r1
		r0, r1 = r1, r0-q*r1
		t0, t1 = t1, (t0+n-mulMod(q%n, t1, n))%n
	}
	return t0
}

func mulMod(a, b, n uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return bits.Rem64(hi, lo, n)
}

func (p permutation) at(i uint64) uint64  { return (mulMod(p.a, i, p.n) + p.b) % p.n }
func (p permutation) inv(x uint64) uint64 { return mulMod(p.ainv, (x+p.n-p.b)%p.n, p.n) }

// Issue ids are idBase + number*idStride: in creation order, with gaps,
// and straddling 1,000,000,000 so that comparing them as text misorders
// some (999999999 < 1000000000 only as numbers).
const idStride = 37

// issueCodec maps generation indices to issue numbers and ids. Base issue
// i (in update order) has number perm(i)+1; the k-th inserted issue
// (index n+k) has number n+k+1.
type issueCodec struct {
	n      int
	perm   permutation
	idBase int64
}

func newIssueCodec(seed int64, n int) issueCodec {
	return issueCodec{
		n:      n,
		perm:   newPermutation(uint64(n), mix64(uint64(seed)^streamIssuePerm)),
		idBase: max(1, 1_000_000_000-int64(n/2)*idStride),
	}
}

func (c issueCodec) number(i int) int {
	if i < c.n {
		return int(c.perm.at(uint64(i))) + 1
	}
	return i + 1
}

// indexOf returns the generation index of an issue number.
func (c issueCodec) indexOf(number int) (int, bool) {
	switch {
	case number < 1:
		return 0, false
	case number <= c.n:
		return int(c.perm.inv(uint64(number - 1))), true
	}
	return number - 1, true
}

func (c issueCodec) issueID(number int) int64 { return c.idBase + int64(number)*idStride }

func (c issueCodec) bits(i int) (hi, lo uint64) { return 0, uint64(c.issueID(c.number(i))) }

func (c issueCodec) id(i int) string { return strconv.FormatInt(c.issueID(c.number(i)), 10) }

func (c issueCodec) index(s string) (int, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= c.idBase || (v-c.idBase)%idStride != 0 {
		return 0, false
	}
	return c.indexOf(int((v - c.idBase) / idStride))
}

// compare orders decimal ids numerically: by length, then as text.
func (issueCodec) compare(a, b string) int {
	if len(a) != len(b) {
		return cmpUint(uint64(len(a)), uint64(len(b)))
	}
	return strings.Compare(a, b)
}

// GitHub is the GitHub-like issues API of a [Server]: one repository's
// issues at GET /repos/{owner}/{repo}/issues, generated from the server's
// seed, changing with the methods below, stamped with the server's clock.
// See the package documentation for what it serves.
//
// Its methods are safe for concurrent use, including while requests are
// in flight.
type GitHub struct {
	repo  string
	path  string
	seed  int64
	lay   layout
	codec issueCodec
	pools func() *issuePools
	store *store[Issue]
}

// wholeSeconds is the stamp of GitHub and Stripe records.
func wholeSeconds(t time.Time) time.Time { return t.Truncate(time.Second) }

// secondsLayout lays out n records of a shape whose times are whole
// seconds: tie groups of ties records spaced by step rounded up to whole
// seconds (at least one), the last one a step before end (rounded down to
// a whole second), so that everything the clock stamps sorts after them.
func secondsLayout(n, ties int, step time.Duration, end time.Time, ids codec) layout {
	step = max(time.Second, (step+time.Second-1)/time.Second*time.Second)
	n = clampCount(n, ties, step)
	groups := (n + ties - 1) / ties
	return layout{n: n, start: wholeSeconds(end).Add(-time.Duration(groups) * step), step: step, ties: ties, ids: ids}
}

func newGitHub(o *Options, c *clock) *GitHub {
	g := &GitHub{repo: o.Repo, path: "/repos/" + o.Repo + "/issues", seed: o.Seed}
	g.lay = secondsLayout(o.Issues, o.TiesPerTimestamp, o.Step, c.Now(), nil)
	g.codec = newIssueCodec(o.Seed, g.lay.n)
	g.lay.ids = g.codec
	g.lay.cls = newClasses(2, classOpen, classClosed, classOpen, classOpen, classClosed, classOpen, classOpen, classClosed)
	seed := o.Seed
	g.pools = func() *issuePools { return issuePoolsFor(seed) }
	g.store = newStore(&g.lay, c, 3, func(r *rec[Issue]) uint8 {
		switch {
		case r.dead:
			return 0
		case r.class == classClosed:
			return 1<<tailIssues | 1<<tailClosed
		}
		return 1<<tailIssues | 1<<tailOpen
	})
	g.store.stamp = wholeSeconds
	return g
}

// Repo returns the repository served, "owner/repo" (Options.Repo).
func (g *GitHub) Repo() string { return g.repo }

// Path returns the path of the issues listing, /repos/{owner}/{repo}/issues.
func (g *GitHub) Path() string { return g.path }

// issueProfile is the choice of pool entries that makes an issue.
type issueProfile struct {
	title, body, author, comments int // body -1: no body
	labels                        [3]int8
	nlabels                       int
}

func (g *GitHub) profileOf(i, rev int) issueProfile {
	h := seedFor(g.seed, i, streamIssue, 0)
	if rev > 0 {
		h = seedFor(g.seed, i, streamIssueEdit, rev)
	}
	pr := issueProfile{
		title:    pick(h, 0, nTitles),
		body:     pick(h, 12, nBodies),
		author:   pick(h, 20, nAuthors),
		comments: pick(h, 44, 16),
	}
	if pick(h, 9, 8) < 2 {
		pr.body = -1
	}
	want := pick(h, 26, 4)
	for j := range want {
		l := int8((h >> (28 + 4*uint(j))) % nLabels)
		if !slices.Contains(pr.labels[:pr.nlabels], l) {
			pr.labels[pr.nlabels] = l
			pr.nlabels++
		}
	}
	slices.Sort(pr.labels[:pr.nlabels])
	return pr
}

// createdAt returns the creation time of base issue number: in number
// order, all before the first base update.
func (g *GitHub) createdAt(number int) time.Time {
	return g.lay.start.Add(-time.Duration(g.lay.n+1-number) * time.Second)
}

// issue materialises the issue of profile pr.
func (g *GitHub) issue(i int, pr *issueProfile) Issue {
	p := g.pools()
	number := g.codec.number(i)
	is := Issue{
		ID:       g.codec.issueID(number),
		Number:   number,
		Title:    p.titles[pr.title].raw,
		State:    StateOpen,
		User:     p.authors[pr.author],
		Labels:   make([]Label, pr.nlabels),
		Comments: pr.comments,
	}
	if pr.body >= 0 {
		b := p.bodies[pr.body].raw
		is.Body = &b
	}
	for k, l := range pr.labels[:pr.nlabels] {
		is.Labels[k] = p.labels[l]
	}
	return is
}

// base returns base issue i as generated.
func (g *GitHub) base(i int) Issue {
	pr := g.profileOf(i, 0)
	is := g.issue(i, &pr)
	is.UpdatedAt = g.lay.baseTime(i)
	is.CreatedAt = g.createdAt(is.Number)
	if g.lay.classOf(i) == classClosed {
		is.State = StateClosed
		closed := is.UpdatedAt
		is.ClosedAt = &closed
	}
	return is
}

// IssueAt returns base issue i (0 <= i < Options.Issues, in the order of
// their base updated_at) as generated from the seed, ignoring later
// changes, or the zero Issue for any other i.
func (g *GitHub) IssueAt(i int) Issue {
	if i < 0 || i >= g.lay.n {
		return Issue{}
	}
	return g.base(i)
}

// idOf returns the store id of an issue number.
func (g *GitHub) idOf(number int) string {
	i, ok := g.codec.indexOf(number)
	if !ok {
		return ""
	}
	return g.codec.id(i)
}

// Issue returns the live issue with this number as it is now.
func (g *GitHub) Issue(number int) (Issue, bool) {
	id := g.idOf(number)
	g.store.mu.RLock()
	defer g.store.mu.RUnlock()
	r, i, ok := g.store.lookup(id)
	switch {
	case !ok || (r != nil && r.dead):
		return Issue{}, false
	case r != nil:
		return r.v, true
	}
	return g.base(i), true
}

// Issues returns a snapshot of every live issue in the order of
// sort=updated&direction=asc&state=all: (updated_at, id).
func (g *GitHub) Issues() []Issue {
	refs, _ := g.store.rowsAt(sel{class: anyClass, tail: tailIssues}, 0, math.MaxInt)
	return g.materialize(refs)
}

func (g *GitHub) materialize(refs []ref[Issue]) []Issue {
	out := make([]Issue, len(refs))
	for k, r := range refs {
		if r.base {
			out[k] = g.base(r.idx)
		} else {
			out[k] = *r.v
		}
	}
	return out
}

// Deleted returns the numbers of the deleted issues, in order of deletion.
// GitHub lists no trace of a deleted issue: only a full listing shows it
// gone.
func (g *GitHub) Deleted() []int {
	ids := g.store.deadIDs()
	out := make([]int, len(ids))
	for k, id := range ids {
		i, _ := g.codec.index(id)
		out[k] = g.codec.number(i)
	}
	return out
}

// Len returns the number of live issues.
func (g *GitHub) Len() int { return g.store.live() }

// Labels returns the labels of the repository, sorted by name.
func (g *GitHub) Labels() []Label { return slices.Clone(g.pools().labels) }

// edit applies change to the live issue with this number, stamping
// updated_at with the clock (whole seconds).
func (g *GitHub) edit(number int, change func(is *Issue, r *rec[Issue]) bool) (Issue, bool) {
	id := g.idOf(number)
	return g.store.edit(id, g.base, func(r *rec[Issue], now time.Time) bool {
		is := r.v
		is.Labels = slices.Clone(is.Labels) // copy on write: pages may hold the old value
		if !change(&is, r) {
			return false
		}
		is.UpdatedAt = now
		if is.State == StateClosed {
			r.class = classClosed
			if is.ClosedAt == nil {
				is.ClosedAt = &now
			}
		} else {
			r.class, is.ClosedAt = classOpen, nil
		}
		r.v = is
		return true
	})
}

// Update edits the live issue with this number as a user would: a new
// title, body and set of labels, deterministically from the seed and the
// number of updates it had, and one more comment; updated_at becomes Now
// (whole seconds) and the issue moves to its new position. It returns the
// issue, or false if no live issue has this number.
func (g *GitHub) Update(number int) (Issue, bool) {
	return g.edit(number, func(is *Issue, r *rec[Issue]) bool {
		r.rev++
		pr := g.profileOf(r.idx, r.rev)
		fresh := g.issue(r.idx, &pr)
		if fresh.Title == is.Title { // the title always changes
			fresh.Title = g.pools().titles[(pr.title+1)%nTitles].raw
		}
		is.Title, is.Body, is.Labels = fresh.Title, fresh.Body, fresh.Labels
		is.Comments++
		return true
	})
}

// Close closes the open issue with this number: state "closed", closed_at
// and updated_at Now. It reports false if no open issue has this number.
func (g *GitHub) Close(number int) (Issue, bool) {
	return g.edit(number, func(is *Issue, _ *rec[Issue]) bool {
		if is.State != StateOpen {
			return false
		}
		is.State = StateClosed
		return true
	})
}

// Reopen reopens the closed issue with this number: state "open",
// closed_at null, updated_at Now. It reports false if no closed issue has
// this number.
func (g *GitHub) Reopen(number int) (Issue, bool) {
	return g.edit(number, func(is *Issue, _ *rec[Issue]) bool {
		if is.State != StateClosed {
			return false
		}
		is.State = StateOpen
		return true
	})
}

// AddLabels adds labels of the repository (by name) to the live issue
// with this number, keeping its labels sorted by name, and stamps
// updated_at with Now. It reports false, and changes nothing, if no live
// issue has this number or a name is not among [GitHub.Labels].
func (g *GitHub) AddLabels(number int, names ...string) (Issue, bool) {
	return g.edit(number, func(is *Issue, _ *rec[Issue]) bool {
		for _, name := range names {
			l, ok := g.label(name)
			if !ok {
				return false
			}
			if !slices.ContainsFunc(is.Labels, func(x Label) bool { return x.Name == name }) {
				is.Labels = append(is.Labels, l)
			}
		}
		slices.SortFunc(is.Labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		return true
	})
}

// RemoveLabels removes labels (by name) from the live issue with this
// number and stamps updated_at with Now; names the issue does not have
// are ignored. It reports false, and changes nothing, if no live issue has
// this number or a name is not among [GitHub.Labels].
func (g *GitHub) RemoveLabels(number int, names ...string) (Issue, bool) {
	return g.edit(number, func(is *Issue, _ *rec[Issue]) bool {
		for _, name := range names {
			if _, ok := g.label(name); !ok {
				return false
			}
			is.Labels = slices.DeleteFunc(is.Labels, func(x Label) bool { return x.Name == name })
		}
		return true
	})
}

func (g *GitHub) label(name string) (Label, bool) {
	ls := g.pools().labels
	k := slices.IndexFunc(ls, func(l Label) bool { return l.Name == name })
	if k < 0 {
		return Label{}, false
	}
	return ls[k], true
}

// Insert opens a new issue with the next number and a new, larger id,
// created_at and updated_at Now, and returns it.
func (g *GitHub) Insert() Issue {
	return g.store.insert(func(i int, _ string, now time.Time) (Issue, int) {
		pr := g.profileOf(i, 0)
		is := g.issue(i, &pr)
		is.CreatedAt, is.UpdatedAt = now, now
		return is, classOpen
	})
}

// Delete deletes the live issue with this number: it vanishes from the
// listing, without a trace (as on GitHub). It reports false if no live
// issue has this number.
func (g *GitHub) Delete(number int) bool {
	_, ok := g.store.edit(g.idOf(number), g.base, func(r *rec[Issue], _ time.Time) bool {
		r.dead = true
		return true
	})
	return ok
}

// issueEncoder appends issues as JSON, as encoding/json encodes [Issue].
// A base issue is written straight from the pools. It is not safe for
// concurrent use.
type issueEncoder struct {
	g       *GitHub
	p       *issuePools
	missing float64 // Faults.MissingFieldRate
	grp     int     // tie group whose time is in gtime; -1 for none
	gtime   []byte
}

// missingIssue reports whether the MissingFieldRate fault serves this
// issue without updated_at and user.
func missingIssue(id int64, rate float64) bool {
	var b [20]byte
	return missing(strconv.AppendInt(b[:0], id, 10), rate)
}

func (e *issueEncoder) base(dst []byte, i int) []byte {
	g, p := e.g, e.p
	pr := g.profileOf(i, 0)
	number := g.codec.number(i)
	id := g.codec.issueID(number)
	miss := missingIssue(id, e.missing)
	dst = strconv.AppendInt(append(dst, `{"id":`...), id, 10)
	dst = appendIntField(dst, "number", int64(number))
	dst = append(dst, `,"title":"`...)
	dst = append(dst, p.titles[pr.title].esc...)
	closed := g.lay.classOf(i) == classClosed
	if closed {
		dst = append(dst, `","state":"closed"`...)
	} else {
		dst = append(dst, `","state":"open"`...)
	}
	if pr.body < 0 {
		dst = append(dst, `,"body":null`...)
	} else {
		dst = append(dst, `,"body":"`...)
		dst = append(dst, p.bodies[pr.body].esc...)
		dst = append(dst, '"')
	}
	if !miss {
		dst = append(dst, `,"user":`...)
		dst = append(dst, p.authorJ[pr.author]...)
	}
	dst = append(dst, `,"labels":[`...)
	for k, l := range pr.labels[:pr.nlabels] {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, p.labelJ[l]...)
	}
	dst = append(dst, ']')
	dst = appendIntField(dst, "comments", int64(pr.comments))
	dst = appendJSONTime(append(dst, `,"created_at":`...), g.createdAt(number))
	grp := i / g.lay.ties
	if grp != e.grp {
		e.grp = grp
		e.gtime = appendJSONTime(e.gtime[:0], g.lay.groupTime(grp))
	}
	if !miss {
		dst = append(dst, `,"updated_at":`...)
		dst = append(dst, e.gtime...)
	}
	if closed {
		dst = append(dst, `,"closed_at":`...)
		dst = append(dst, e.gtime...)
	} else {
		dst = append(dst, `,"closed_at":null`...)
	}
	return append(dst, '}')
}

func (e *issueEncoder) issue(dst []byte, is *Issue) []byte {
	miss := missingIssue(is.ID, e.missing)
	dst = strconv.AppendInt(append(dst, `{"id":`...), is.ID, 10)
	dst = appendIntField(dst, "number", int64(is.Number))
	dst = appendJSONString(appendKey(dst, "title"), is.Title)
	dst = appendJSONString(appendKey(dst, "state"), is.State)
	dst = appendKey(dst, "body")
	if is.Body == nil {
		dst = append(dst, "null"...)
	} else {
		dst = appendJSONString(dst, *is.Body)
	}
	if !miss {
		dst = appendAuthor(appendKey(dst, "user"), &is.User)
	}
	dst = append(dst, `,"labels":[`...)
	for k := range is.Labels {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = appendLabel(dst, &is.Labels[k])
	}
	dst = append(dst, ']')
	dst = appendIntField(dst, "comments", int64(is.Comments))
	dst = appendJSONTime(appendKey(dst, "created_at"), is.CreatedAt)
	if !miss {
		dst = appendJSONTime(appendKey(dst, "updated_at"), is.UpdatedAt)
	}
	dst = appendKey(dst, "closed_at")
	if is.ClosedAt == nil {
		dst = append(dst, "null"...)
	} else {
		dst = appendJSONTime(dst, *is.ClosedAt)
	}
	return append(dst, '}')
}

// issues appends refs as a JSON array, in order or reversed.
func (e *issueEncoder) issues(dst []byte, refs []ref[Issue], reversed bool) []byte {
	dst = append(dst, '[')
	for k := range refs {
		if k > 0 {
			dst = append(dst, ',')
		}
		r := &refs[k]
		if reversed {
			r = &refs[len(refs)-1-k]
		}
		if r.base {
			dst = e.base(dst, r.idx)
		} else {
			dst = e.issue(dst, r.v)
		}
	}
	return append(dst, ']')
}

// unprocessable is GitHub's answer to a bad parameter: 422.
func unprocessable(format string, args ...any) error {
	e := badRequest(format, args...).(*httpError)
	e.status = http.StatusUnprocessableEntity
	return e
}

// serveIssues serves GET /repos/{owner}/{repo}/issues.
func (s *Server) serveIssues(r *http.Request, d *decision, h http.Header, dst []byte) ([]byte, error) {
	g := s.github
	q := query{r.URL.Query()}
	if v := q.Get("sort"); v != "updated" {
		return nil, unprocessable("sort: %q is not served by this mock: only sort=updated (GitHub's default is created)", v)
	}
	desc := true // GitHub's default direction
	switch v := q.Get("direction"); v {
	case "", "desc":
	case "asc":
		desc = false
	default:
		return nil, unprocessable("direction: %q is not asc or desc", v)
	}
	f := sel{class: classOpen, tail: tailOpen} // GitHub's default state
	switch v := q.Get("state"); v {
	case "", StateOpen:
	case StateClosed:
		f = sel{class: classClosed, tail: tailClosed}
	case "all":
		f = sel{class: anyClass, tail: tailIssues}
	default:
		return nil, unprocessable("state: %q is not open, closed or all", v)
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, unprocessable("since: %q is not an ISO 8601 time YYYY-MM-DDTHH:MM:SSZ", v)
		}
		f.since = t.UTC()
	}
	size, err := q.int("per_page", GitHubPerPage, 1)
	if err != nil {
		return nil, unprocessable("%v", err)
	}
	size = min(size, GitHubMaxPerPage)
	page, err := q.int("page", 1, 1)
	if err != nil {
		return nil, unprocessable("%v", err)
	}

	refs, total, last := g.page(f, page, size, desc, d.RepeatLastPage)
	lastPage := (total + size - 1) / size
	var links []string
	link := func(p int, rel string) {
		links = append(links, "<"+pageURL(r, p)+`>; rel="`+rel+`"`)
	}
	switch {
	case d.SelfLinkLastPage && page >= lastPage:
		links = append(links, "<"+absoluteURL(r)+`>; rel="next"`)
	case page < lastPage || (d.RepeatLastPage && last):
		link(page+1, "next")
	}
	if page < lastPage {
		link(lastPage, "last")
	}
	if page > 1 {
		link(1, "first")
		link(max(1, min(page-1, lastPage)), "prev")
	}
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	e := &issueEncoder{g: g, p: g.pools(), missing: d.MissingFieldRate, grp: -1}
	return e.issues(dst, refs, desc), nil
}

// page returns the rows of a page (in ascending order: reversed when desc),
// the number of rows f matches, and whether the page is the last page
// served again for the RepeatLastPage fault.
func (g *GitHub) page(f sel, page, size int, desc, repeat bool) ([]ref[Issue], int, bool) {
	g.store.mu.RLock()
	defer g.store.mu.RUnlock()
	v := g.store.view(f)
	total := v.total()
	lastPage := (total + size - 1) / size
	repeated := false
	if repeat && page > lastPage && total > 0 {
		page, repeated = lastPage, true
	}
	if page > lastPage || page-1 > math.MaxInt/size {
		return nil, total, false
	}
	lo := (page - 1) * size
	if desc {
		lo = total - page*size // may be negative on the last page
	}
	hi := lo + size
	lo = max(lo, 0)
	refs, _ := g.store.rowsAtLocked(f, lo, hi-lo)
	return refs, total, repeated || (repeat && page == lastPage)
}

// absoluteURL returns the URL of the request as the client sent it.
func absoluteURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// pageURL returns the absolute URL of the request with its page parameter
// set to p: in place of the first page pair, or appended; every other pair
// is kept byte for byte, in order.
func pageURL(r *http.Request, p int) string {
	var b strings.Builder
	u := *r.URL
	u.RawQuery = ""
	b.WriteString(absoluteURL(&http.Request{Host: r.Host, URL: &u, TLS: r.TLS}) + "?")
	set := false
	n := 0
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if key == "page" {
			if set {
				continue
			}
			pair, set = "page="+strconv.Itoa(p), true
		}
		if pair == "" {
			continue
		}
		if n > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
		n++
	}
	if !set {
		if n > 0 {
			b.WriteByte('&')
		}
		b.WriteString("page=" + strconv.Itoa(p))
	}
	return b.String()
}

// validRepo reports whether s is "owner/repo" with two non-empty path
// segments of printable characters.
func validRepo(s string) bool {
	owner, repo, ok := strings.Cut(s, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '?' || r == '#' || r == '%' || r == 0x7f {
			return false
		}
	}
	return true
}
