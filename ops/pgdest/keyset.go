package pgdest

// keySet is a set of 64-bit key hashes (see table.keys): open addressing
// with linear probing in a power-of-two table of at most 3/4 load, about
// 11 to 21 bytes a key, with none of a Go map's per-entry work. The hash
// 0 is held apart, since 0 marks an empty slot.
type keySet struct {
	slots []uint64
	n     int // hashes held, zero included
	zero  bool
}

// len returns the number of hashes in the set.
func (s *keySet) len() int { return s.n }

// add adds h, reporting whether it was missing.
func (s *keySet) add(h uint64) bool {
	if h == 0 {
		if s.zero {
			return false
		}
		s.zero = true
		s.n++
		return true
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	if !insertSlot(s.slots, h) {
		return false
	}
	s.n++
	return true
}

// insertSlot puts h into slots unless there, reporting whether it was
// missing. slots has a free slot.
func insertSlot(slots []uint64, h uint64) bool {
	mask := uint64(len(slots) - 1)
	// The hashes are random already (maphash); the multiply spreads any
	// that are not.
	for i := (h * 0x9e3779b97f4a7c15) >> 32 & mask; ; i = (i + 1) & mask {
		switch slots[i] {
		case 0:
			slots[i] = h
			return true
		case h:
			return false
		}
	}
}

// grow doubles the table (1024 slots at first) and moves the hashes.
func (s *keySet) grow() {
	n := 2 * len(s.slots)
	if n < 1024 {
		n = 1024
	}
	slots := make([]uint64, n)
	for _, h := range s.slots {
		if h != 0 {
			insertSlot(slots, h)
		}
	}
	s.slots = slots
}
