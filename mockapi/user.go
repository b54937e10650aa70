package mockapi

import (
	"fmt"
	mathrand "math/rand"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
)

// config is the immutable shape of the users: their layout, and what
// generates them.
type config struct {
	layout
	seed  int64
	codec idCodec // as layout.ids, without the interface
	pools func() *userPools
}

// Users' tail lists.
const (
	tailLive = iota // live users
	tailAll         // live users and tombstones
)

// filter selects users by updatedAt and deletion.
type filter struct {
	since   time.Time // inclusive; zero means unbounded
	before  time.Time // exclusive; zero means unbounded
	deleted bool      // interleave tombstones
}

func (f filter) sel() sel {
	t := tailLive
	if f.deleted {
		t = tailAll
	}
	return sel{class: anyClass, tail: t, since: f.since, before: f.before}
}

func newUserStore(cfg *config, c *clock) *store[User] {
	return newStore(&cfg.layout, c, 2, func(r *rec[User]) uint8 {
		if r.dead {
			return 1 << tailAll
		}
		return 1<<tailLive | 1<<tailAll
	})
}

// users materialises refs.
func (c *config) users(refs []ref[User]) []User {
	out := make([]User, len(refs))
	for i, r := range refs {
		if r.base {
			out[i] = c.base(r.idx)
		} else {
			out[i] = *r.v
		}
	}
	return out
}

// User is one record of the mock collection.
//
// Times are in UTC and marshal as RFC 3339. A tombstone (a deleted user
// served with include_deleted=true) carries only ID, UpdatedAt (the deletion
// time) and Deleted; its other fields are empty and omitted from the JSON.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email,omitempty"`
	Address   string    `json:"address,omitempty"`
	Company   string    `json:"company,omitempty"`
	Job       string    `json:"job,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	Deleted   bool      `json:"deleted,omitempty"`
}

// Key returns the keyset position of u: its UpdatedAt in RFC 3339 with
// nanoseconds, a comma and its ID. The /users/keyset endpoint takes it as the
// after parameter and returns the users strictly after u in collection order.
func Key(u User) string {
	return u.UpdatedAt.UTC().Format(time.RFC3339Nano) + "," + u.ID
}

// ParseKey splits a key made by [Key] into its time and ID.
func ParseKey(s string) (time.Time, string, error) {
	ts, id, ok := strings.Cut(s, ",")
	if !ok {
		return time.Time{}, "", fmt.Errorf("mockapi: parse key %q: missing comma between time and id", s)
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("mockapi: parse key %q: %w", s, err)
	}
	if id == "" {
		return time.Time{}, "", fmt.Errorf("mockapi: parse key %q: empty id", s)
	}
	return t.UTC(), id, nil
}

// splitMix is a splitmix64 generator: 8 bytes of state, no allocation to
// seed, and good enough statistics for fake data. It implements both
// math/rand/v2.Source (which faker takes) and math/rand.Source64.
type splitMix struct{ state uint64 }

var (
	_ rand.Source       = (*splitMix)(nil)
	_ mathrand.Source64 = (*splitMix)(nil)
)

// Uint64 returns the next pseudo-random value.
func (m *splitMix) Uint64() uint64 {
	m.state += 0x9e3779b97f4a7c15
	return mix64(m.state)
}

// Int63 returns a non-negative pseudo-random int64.
func (m *splitMix) Int63() int64 { return int64(m.Uint64() >> 1) }

// Seed resets the state.
func (m *splitMix) Seed(seed int64) { m.state = uint64(seed) }

// mix64 is the splitmix64 finaliser, a bijection on uint64.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Multiplicative inverses (mod 2^64) of the two mix64 constants.
var (
	invMul1 = inverse(0xbf58476d1ce4e5b9)
	invMul2 = inverse(0x94d049bb133111eb)
)

// inverse returns the multiplicative inverse of an odd c modulo 2^64 by
// Newton iteration; each step doubles the number of correct bits.
func inverse(c uint64) uint64 {
	x := c // correct to 3 bits for odd c
	for range 5 {
		x *= 2 - c*x
	}
	return x
}

// unxorshift inverts y = x ^ (x >> s).
func unxorshift(y uint64, s uint) uint64 {
	x := y
	for k := s; k < 64; k += s {
		x ^= y >> k
	}
	return x
}

// unmix64 inverts mix64.
func unmix64(z uint64) uint64 {
	z = unxorshift(z, 31)
	z *= invMul2
	z = unxorshift(z, 27)
	z *= invMul1
	return unxorshift(z, 30)
}

// Streams separate the random sequences drawn for one user index.
const (
	streamProfile uint64 = 0x243f6a8885a308d3
	streamUpdate  uint64 = 0x13198a2e03707344
	streamIDKey   uint64 = 0xa4093822299f31d0
	streamIDTag   uint64 = 0x082efa98ec4e6c89
	streamFaults  uint64 = 0x452821e638d01377
	streamMissing uint64 = 0xbe5466cf34e90c6c
)

// seedFor derives a generator state from the server seed, a user index, a
// stream and a revision. Nearby inputs give unrelated states.
func seedFor(seed int64, i int, stream uint64, rev int) uint64 {
	h := mix64(uint64(seed) ^ stream)
	h = mix64(h ^ uint64(i))
	return mix64(h + uint64(rev)*0x9e3779b97f4a7c15)
}

// idCodec turns a user index into a version 4 UUID and back. The UUID's 122
// free bits hold mix64(index ^ key) (64 bits, a bijection, so the IDs look
// random and sort in no particular order) and a 58-bit tag that depends on
// the seed, so IDs of another seed, or made up, are rejected. Recovering the
// index from the ID is what lets Update and Delete find a base user without
// an index of the whole population.
type idCodec struct{ key, tagKey uint64 }

func newIDCodec(seed int64) idCodec {
	return idCodec{
		key:    mix64(uint64(seed) ^ streamIDKey),
		tagKey: mix64(uint64(seed) ^ streamIDTag),
	}
}

const tagMask = 1<<58 - 1

// bits returns the 128 bits of the UUID of index i, most significant half
// first. Comparing (hi, lo) pairs orders IDs exactly like comparing their
// strings, which lets a tie group be sorted without formatting the IDs.
func (c idCodec) bits(i int) (hi, lo uint64) {
	v := mix64(uint64(i) ^ c.key)
	top := v >> 4 // 60 bits
	hi = (top>>12)<<16 | 0x4<<12 | top&0xfff
	lo = 0b10<<62 | (v&0xf)<<58 | mix64(v^c.tagKey)&tagMask
	return hi, lo
}

func (idCodec) compare(a, b string) int { return strings.Compare(a, b) }

// id returns the UUID string of index i.
func (c idCodec) id(i int) string {
	hi, lo := c.bits(i)
	var b [36]byte
	return string(appendUUID(b[:0], hi, lo))
}

// index recovers the index of a UUID made by id. It reports false for any
// string id did not produce with this codec.
func (c idCodec) index(s string) (int, bool) {
	hi, lo, ok := parseUUID(s)
	if !ok || (hi>>12)&0xf != 4 || lo>>62 != 0b10 {
		return 0, false
	}
	top := (hi>>16)<<12 | hi&0xfff
	v := top<<4 | (lo>>58)&0xf
	if mix64(v^c.tagKey)&tagMask != lo&tagMask {
		return 0, false
	}
	i := unmix64(v) ^ c.key
	if i > uint64(maxInt) {
		return 0, false
	}
	return int(i), true
}

const maxInt = int(^uint(0) >> 1)

const hexDigits = "0123456789abcdef"

// appendUUID appends the canonical lower-case form of the UUID (hi, lo).
func appendUUID(dst []byte, hi, lo uint64) []byte {
	n := len(dst)
	dst = append(dst, "00000000-0000-0000-0000-000000000000"...)
	b := dst[n : n+36]
	hexBytes(b[0:8], hi>>32, 4)
	hexBytes(b[9:13], hi>>16, 2)
	hexBytes(b[14:18], hi, 2)
	hexBytes(b[19:23], lo>>48, 2)
	hexBytes(b[24:36], lo, 6)
	return dst
}

// hexBytes writes the low n bytes of x in hex, most significant first,
// into b (2n bytes).
func hexBytes(b []byte, x uint64, n int) {
	_ = b[2*n-1]
	for k := n - 1; k >= 0; k-- {
		v := byte(x)
		b[2*k], b[2*k+1] = hexDigits[v>>4], hexDigits[v&0xf]
		x >>= 8
	}
}

// parseUUID parses the lower-case canonical form written by formatUUID.
func parseUUID(s string) (hi, lo uint64, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return 0, 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		var d uint64
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, 0, false
		}
		if n < 16 {
			hi = hi<<4 | d
		} else {
			lo = lo<<4 | d
		}
		n++
	}
	return hi, lo, true
}

// Pool sizes of users (powers of two).
const (
	nFirstNames = 256
	nLastNames  = 512
	nStreets    = 512
	nPlaces     = 512
	nCompanies  = 256
	nJobs       = 256
)

// namePart is a first or last name and the form it takes in an email
// address: its ASCII letters and digits, in lower case.
type namePart struct {
	jsonText
	local string
}

// userPools are the Faker-made values users are combined from.
type userPools struct {
	first, last []namePart
	domains     []jsonText
	streets     []jsonText // "123 Some Street"
	places      []jsonText // "City, ST 12345"
	companies   []jsonText
	jobs        []jsonText
}

// streamUserPools seeds the Faker that draws the user pools.
const streamUserPools uint64 = 0x299f31d0082efa98

// userPoolsFor returns the user pools of a seed, shared by every server of
// that seed.
func userPoolsFor(seed int64) *userPools {
	return cachedPools(poolKey{seed: seed, kind: streamUserPools}, buildUserPools)
}

func buildUserPools(seed int64) *userPools {
	f := fakerFor(seedFor(seed, 0, streamUserPools, 0))
	p, a, c := f.Person(), f.Address(), f.Company()
	names := func(n int, gen func() string) []namePart {
		out := make([]namePart, n)
		for i := range out {
			s := gen()
			out[i] = namePart{jsonText: newJSONText(s), local: emailLocal(s)}
		}
		return out
	}
	return &userPools{
		first:   names(nFirstNames, p.FirstName),
		last:    names(nLastNames, p.LastName),
		domains: distinct(8, f.Internet().FreeEmailDomain),
		streets: draw(nStreets, a.StreetAddress),
		places: draw(nPlaces, func() string {
			return a.City() + ", " + a.StateAbbr() + " " + a.PostCode()
		}),
		companies: draw(nCompanies, c.Name),
		jobs:      draw(nJobs, c.JobTitle),
	}
}

// emailLocal keeps the ASCII letters and digits of s, in lower case.
func emailLocal(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// profile is the choice of pool entries that makes a user.
type profile struct {
	first, last, domain, street, place, company, job int
	age                                              time.Duration // createdAt is this long before the base updatedAt
}

// maxAge bounds how long before its base updatedAt a user was created.
const maxAge = 90 * 24 * 3600

// profileOf picks the pool entries of the user generated from index i.
func (p *userPools) profileOf(seed int64, i int) profile {
	h := seedFor(seed, i, streamProfile, 0)
	return profile{
		first:   pick(h, 0, nFirstNames),
		last:    pick(h, 8, nLastNames),
		domain:  int((h >> 17) % uint64(len(p.domains))),
		street:  pick(h, 20, nStreets),
		place:   pick(h, 29, nPlaces),
		company: pick(h, 38, nCompanies),
		job:     pick(h, 46, nJobs),
		age:     time.Duration(mix64(h)%maxAge) * time.Second,
	}
}

func (p *userPools) name(pr *profile) string {
	return p.first[pr.first].raw + " " + p.last[pr.last].raw
}

func (p *userPools) email(pr *profile) string {
	return p.first[pr.first].local + "." + p.last[pr.last].local + "@" + p.domains[pr.domain].raw
}

// user returns the user of profile pr with id, without timestamps.
func (p *userPools) user(id string, pr *profile) User {
	return User{
		ID:      id,
		Name:    p.name(pr),
		Email:   p.email(pr),
		Address: p.streets[pr.street].raw + ", " + p.places[pr.place].raw,
		Company: p.companies[pr.company].raw,
		Job:     p.jobs[pr.job].raw,
	}
}

// base returns base user i as generated, before any mutation.
func (c *config) base(i int) User {
	pr := c.pools().profileOf(c.seed, i)
	u := c.pools().user(c.codec.id(i), &pr)
	u.UpdatedAt = c.baseTime(i)
	u.CreatedAt = u.UpdatedAt.Add(-pr.age)
	return u
}

// inserted returns the user generated for index i (at least the
// population size) with both timestamps at now.
func (c *config) inserted(i int, now time.Time) User {
	pr := c.pools().profileOf(c.seed, i)
	u := c.pools().user(c.codec.id(i), &pr)
	u.UpdatedAt, u.CreatedAt = now, now
	return u
}

// revise applies revision rev of the deterministic update to u, the user
// generated from index i: a new name, email and job. The name and the
// email always change.
func (c *config) revise(u *User, i, rev int) {
	p := c.pools()
	h := seedFor(c.seed, i, streamUpdate, rev)
	pr := profile{
		first:  pick(h, 0, nFirstNames),
		last:   pick(h, 8, nLastNames),
		domain: int((h >> 17) % uint64(len(p.domains))),
		job:    pick(h, 46, nJobs),
	}
	for range nLastNames {
		if p.name(&pr) != u.Name && p.email(&pr) != u.Email {
			break
		}
		pr.last = (pr.last + 1) % nLastNames
	}
	u.Name, u.Email, u.Job = p.name(&pr), p.email(&pr), p.jobs[pr.job].raw
}

// userEncoder appends users as JSON, as encoding/json encodes [User]. A
// base user is written straight from the pools, without a User value.
// It caches the text of the last tie group's time, which the users of a
// page mostly share. It is not safe for concurrent use.
type userEncoder struct {
	cfg     *config
	p       *userPools
	missing float64 // Faults.MissingFieldRate
	g       int     // tie group whose updatedAt is in gtime; -1 for none
	gtime   []byte  // the group's updatedAt as JSON text
	gsec    int64   // and as Unix seconds
	gnsec   int     // and nanoseconds
}

func newUserEncoder(cfg *config, missingRate float64) *userEncoder {
	return &userEncoder{cfg: cfg, p: cfg.pools(), missing: missingRate, g: -1}
}

// base appends base user i.
func (e *userEncoder) base(dst []byte, i int) []byte {
	c, p := e.cfg, e.p
	pr := p.profileOf(c.seed, i)
	dst = append(dst, `{"id":"`...)
	idAt := len(dst)
	hi, lo := c.codec.bits(i)
	dst = appendUUID(dst, hi, lo)
	miss := missing(dst[idAt:], e.missing)
	dst = append(dst, `","name":"`...)
	dst = append(dst, p.first[pr.first].esc...)
	dst = append(dst, ' ')
	dst = append(dst, p.last[pr.last].esc...)
	if !miss {
		dst = append(dst, `","email":"`...)
		dst = append(dst, p.first[pr.first].local...)
		dst = append(dst, '.')
		dst = append(dst, p.last[pr.last].local...)
		dst = append(dst, '@')
		dst = append(dst, p.domains[pr.domain].esc...)
	}
	dst = append(dst, `","address":"`...)
	dst = append(dst, p.streets[pr.street].esc...)
	dst = append(dst, ", "...)
	dst = append(dst, p.places[pr.place].esc...)
	dst = append(dst, `","company":"`...)
	dst = append(dst, p.companies[pr.company].esc...)
	dst = append(dst, `","job":"`...)
	dst = append(dst, p.jobs[pr.job].esc...)
	g := i / c.ties
	if g != e.g {
		t := c.groupTime(g)
		e.g, e.gsec, e.gnsec = g, t.Unix(), t.Nanosecond()
		e.gtime = appendTime(e.gtime[:0], t)
	}
	if !miss {
		dst = append(dst, `","updatedAt":"`...)
		dst = append(dst, e.gtime...)
	}
	dst = append(dst, `","createdAt":"`...)
	dst = appendUnixTime(dst, e.gsec-int64(pr.age/time.Second), e.gnsec)
	return append(dst, `"}`...)
}

// user appends u, which may be a tombstone, applying the missing fields
// fault to live users.
func (e *userEncoder) user(dst []byte, u *User) []byte {
	miss := !u.Deleted && missing(u.ID, e.missing)
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, u.ID)
	str := func(name, v string) {
		if v != "" {
			dst = appendJSONString(appendKey(dst, name), v)
		}
	}
	str("name", u.Name)
	if !miss {
		str("email", u.Email)
	}
	str("address", u.Address)
	str("company", u.Company)
	str("job", u.Job)
	if !u.UpdatedAt.IsZero() && !miss {
		dst = appendJSONTime(appendKey(dst, "updatedAt"), u.UpdatedAt)
	}
	if !u.CreatedAt.IsZero() {
		dst = appendJSONTime(appendKey(dst, "createdAt"), u.CreatedAt)
	}
	if u.Deleted {
		dst = append(dst, `,"deleted":true`...)
	}
	return append(dst, '}')
}

// users appends refs as a JSON array.
func (e *userEncoder) users(dst []byte, refs []ref[User]) []byte {
	dst = append(dst, '[')
	for k := range refs {
		if k > 0 {
			dst = append(dst, ',')
		}
		if r := &refs[k]; r.base {
			dst = e.base(dst, r.idx)
		} else {
			dst = e.user(dst, r.v)
		}
	}
	return append(dst, ']')
}

// missing reports whether the user with this id is one of the share that
// the MissingFieldRate fault serves without email and updatedAt. The choice
// depends only on the id, so every read agrees.
func missing[S ~string | ~[]byte](id S, rate float64) bool {
	if rate <= 0 {
		return false
	}
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return float64(mix64(h^streamMissing)>>11)/(1<<53) < rate
}
