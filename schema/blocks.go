package schema

import (
	"sync"
	"time"
)

// blockRows is how many rows' arrays one block of rowBlocks holds.
const blockRows = 128

// rowBlocks hands out the arrays [Codec.Row] fills (the values, the
// strings and the times of a row) as slices of larger blocks, so that a
// row costs a fraction of an allocation instead of three. A block stays
// in memory while any row given a slice of it does: at most blockRows
// rows' arrays, the size of the rows themselves. It is safe for
// concurrent use.
type rowBlocks struct {
	mu    sync.Mutex
	vals  []any
	strs  []string
	times []time.Time
}

// take returns a slice of nv values, and empty slices with room for ns
// strings and nt times, each with no room beyond that.
func (b *rowBlocks) take(nv, ns, nt int) (vals []any, strs []string, times []time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	vals = carve(&b.vals, nv)
	if ns > 0 {
		strs = carve(&b.strs, ns)[:0]
	}
	if nt > 0 {
		times = carve(&b.times, nt)[:0]
	}
	return vals, strs, times
}

// carve returns the next n elements of *block, starting a new block when
// it has less room.
func carve[E any](block *[]E, n int) []E {
	if cap(*block)-len(*block) < n {
		*block = make([]E, 0, n*blockRows)
	}
	i := len(*block)
	*block = (*block)[:i+n]
	return (*block)[i : i+n : i+n]
}
