package ops

// rowIndex finds the rows of a rowSet by a 32-bit hash of their key: an
// open-addressing table with linear probing, a power of two of slots
// kept at most 3/4 full, each slot a uint64 holding the hash in its high
// half and the row's position plus one in its low half (0 is an empty
// slot). It holds no pointers, and a probe reads one slot per step, not
// a row: only a slot whose hash equals the key's sends the caller to
// compare the full key, so keys whose hashes are equal are told apart
// and found further along the run (see rowSet.lookup).
//
// Nothing is ever removed: a rowSet keeps a deleted row, marked, under
// its key, so the table has no tombstones.
type rowIndex struct {
	slots []uint64
	n     int   // the slots in use
	shift uint8 // 64 - log2(len(slots))
}

// minIndex is the number of slots of a rowIndex at first.
const minIndex = 64

// start returns the slot where the probe for hash h begins: the high
// bits of h times 2^64/φ, which spreads hashes that are not random (the
// ones a test makes alike) and costs a multiply for those that are.
func (x *rowIndex) start(h uint32) int {
	return int((uint64(h) * 0x9e3779b97f4a7c15) >> x.shift)
}

// reserve makes room for one more row, so that a probe ends at an empty
// slot and the slot a lookup returns stays valid for set.
func (x *rowIndex) reserve() {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.grow()
	}
}

// set records row i, whose key has hash h, in the empty slot j that a
// probe for h ended at since the last reserve.
func (x *rowIndex) set(j int, h uint32, i int) {
	x.slots[j] = uint64(h)<<32 | uint64(uint32(i+1))
	x.n++
}

// grow doubles the table and moves the slots, by their hash alone.
func (x *rowIndex) grow() {
	n := max(2*len(x.slots), minIndex)
	old := x.slots
	x.slots, x.shift = make([]uint64, n), uint8(64-log2(n))
	mask := n - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		j := x.start(uint32(e >> 32))
		for x.slots[j] != 0 {
			j = (j + 1) & mask
		}
		x.slots[j] = e
	}
}

// log2 returns the base-2 logarithm of n, a power of two.
func log2(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}
