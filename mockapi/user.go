package mockapi

import (
	"fmt"
	mathrand "math/rand"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"github.com/jaswdr/faker/v2"
)

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

// id returns the UUID string of index i.
func (c idCodec) id(i int) string {
	hi, lo := c.bits(i)
	return formatUUID(hi, lo)
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

func formatUUID(hi, lo uint64) string {
	var b [36]byte
	pos := 0
	put := func(x uint64, nibbles int) {
		for k := nibbles - 1; k >= 0; k-- {
			b[pos] = hexDigits[(x>>(4*uint(k)))&0xf]
			pos++
		}
	}
	put(hi>>32, 8)
	b[pos] = '-'
	pos++
	put(hi>>16, 4)
	b[pos] = '-'
	pos++
	put(hi, 4)
	b[pos] = '-'
	pos++
	put(lo>>48, 4)
	b[pos] = '-'
	pos++
	put(lo, 12)
	return string(b[:])
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

// generator makes users. It owns one splitMix source, reseeded for every
// user, and one faker bound to it, so no source or faker is allocated per
// user. A generator is not safe for concurrent use; each request makes its
// own.
type generator struct {
	src splitMix
	f   faker.Faker
	cfg *config
}

func newGenerator(cfg *config) *generator {
	g := &generator{cfg: cfg}
	// faker.NewWithSeed(&g.src) would do, but wraps the source in a mutex
	// that costs about a quarter of the generation time; the generator is
	// never shared, so it makes the same math/rand/v2 calls without it.
	g.f = faker.Faker{Generator: unlockedRand{rand.New(&g.src)}}
	return g
}

// unlockedRand is faker's GeneratorInterface over a math/rand/v2 Rand,
// making the same calls as faker's own mutex-guarded wrapper.
type unlockedRand struct{ r *rand.Rand }

func (u unlockedRand) Intn(n int) int          { return u.r.IntN(n) }
func (u unlockedRand) Int32n(n int32) int32    { return u.r.Int32N(n) }
func (u unlockedRand) Int64n(n int64) int64    { return u.r.Int64N(n) }
func (u unlockedRand) Uintn(n uint) uint       { return u.r.UintN(n) }
func (u unlockedRand) Uint32n(n uint32) uint32 { return u.r.Uint32N(n) }
func (u unlockedRand) Uint64n(n uint64) uint64 { return u.r.Uint64N(n) }
func (u unlockedRand) Int() int                { return u.r.Int() }

// base returns base user i as generated, before any mutation.
func (g *generator) base(i int) User {
	u, age := g.profile(i)
	u.UpdatedAt = g.cfg.baseTime(i)
	u.CreatedAt = u.UpdatedAt.Add(-age)
	return u
}

// profile returns the user generated from index i without its timestamps,
// and how long before its updatedAt it was created.
func (g *generator) profile(i int) (User, time.Duration) {
	g.src.state = seedFor(g.cfg.seed, i, streamProfile, 0)
	p := g.f.Person()
	a := g.f.Address()
	c := g.f.Company()
	first, last := p.FirstName(), p.LastName()
	u := User{
		ID:      g.cfg.codec.id(i),
		Name:    first + " " + last,
		Email:   email(first, last, g.f.Internet().FreeEmailDomain()),
		Address: a.StreetAddress() + ", " + a.City() + ", " + a.StateAbbr() + " " + a.PostCode(),
		Company: c.Name(),
		Job:     c.JobTitle(),
	}
	age := time.Duration(g.src.Uint64()%(90*24*3600)) * time.Second
	return u, age
}

// revise applies revision rev of the deterministic update to u, the user
// generated from index i: a new name, email and job.
func (g *generator) revise(u *User, i, rev int) {
	g.src.state = seedFor(g.cfg.seed, i, streamUpdate, rev)
	p := g.f.Person()
	first, last := p.FirstName(), p.LastName()
	u.Name = first + " " + last
	u.Email = email(first, last, g.f.Internet().FreeEmailDomain())
	u.Job = g.f.Company().JobTitle()
}

// email builds first.last@domain from a name, keeping letters and digits.
func email(first, last, domain string) string {
	var b strings.Builder
	b.Grow(len(first) + len(last) + len(domain) + 2)
	local := func(s string) {
		for _, r := range s {
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				b.WriteRune(unicode.ToLower(r))
			}
		}
	}
	local(first)
	b.WriteByte('.')
	local(last)
	b.WriteByte('@')
	b.WriteString(domain)
	return b.String()
}

// missing reports whether the user with this id is one of the share that
// the MissingFieldRate fault serves without email and updatedAt. The choice
// depends only on the id, so every read agrees.
func missing(id string, rate float64) bool {
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
