package mockapi

import (
	"math/rand/v2"
	"sync"

	"github.com/jaswdr/faker/v2"
)

// Fake data comes from pools: lists of names, addresses, companies, titles
// and so on, drawn from github.com/jaswdr/faker/v2 once per seed. A record
// picks one entry of each pool by a hash of (seed, index, revision), which
// costs a few nanoseconds instead of a Faker template per field, and keeps
// every record deterministic for the seed. Pool entries are stored with
// their JSON escape, so serving a record is mostly copying bytes.
//
// Pool sizes are powers of two, so a pick is a mask of hash bits; their
// product (about 10^14 combinations for users) keeps records distinct
// enough for any test.

// fakerFor returns a Faker drawing from a splitmix64 source with the given
// state. The source is not locked: the Faker must stay on one goroutine.
func fakerFor(state uint64) faker.Faker {
	src := &splitMix{state: state}
	// faker.NewWithSeed would wrap the source in a mutex; the pools are
	// built on one goroutine, so the same math/rand/v2 calls go unlocked.
	return faker.Faker{Generator: unlockedRand{rand.New(src)}}
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

// draw returns n strings made by gen, as jsonText.
func draw(n int, gen func() string) []jsonText {
	out := make([]jsonText, n)
	for i := range out {
		out[i] = newJSONText(gen())
	}
	return out
}

// distinct returns up to n distinct strings made by gen, giving up after
// 4n draws (for generators with few possible values).
func distinct(n int, gen func() string) []jsonText {
	seen := make(map[string]bool, n)
	var out []jsonText
	for range 4 * n {
		s := gen()
		if !seen[s] {
			seen[s] = true
			out = append(out, newJSONText(s))
			if len(out) == n {
				break
			}
		}
	}
	return out
}

// poolKey names one set of pools: a seed and the kind of records.
type poolKey struct {
	seed int64
	kind uint64 // a stream constant
}

// poolCache shares the pools of a seed between servers, so tests that start
// many servers build them once. It holds at most maxCachedPools sets and
// starts over when full.
var poolCache struct {
	sync.Mutex
	m map[poolKey]func() any
}

const maxCachedPools = 64

// cachedPools returns the pools of key, building them with build on first
// use. Concurrent callers of the same key wait for one build.
func cachedPools[T any](key poolKey, build func(seed int64) *T) *T {
	poolCache.Lock()
	get, ok := poolCache.m[key]
	if !ok {
		if poolCache.m == nil || len(poolCache.m) >= maxCachedPools {
			poolCache.m = make(map[poolKey]func() any)
		}
		get = sync.OnceValue(func() any { return build(key.seed) })
		poolCache.m[key] = get
	}
	poolCache.Unlock()
	return get().(*T)
}

// pick returns an index into a pool of size n (a power of two) from the
// hash bits of h starting at bit shift.
func pick(h uint64, shift uint, n int) int { return int(h>>shift) & (n - 1) }
