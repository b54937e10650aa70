package pgdest

import (
	"math/rand/v2"
	"testing"
)

func TestKeySet(t *testing.T) {
	var s keySet
	r := rand.New(rand.NewPCG(1, 2))
	seen := make(map[uint64]bool)
	for i := range 100000 {
		h := r.Uint64()
		switch i % 7 {
		case 0:
			h = 0
		case 1:
			h = uint64(i) // small, clustered values
		case 2:
			h = uint64(i%50) << 40
		}
		if got, want := s.add(h), !seen[h]; got != want {
			t.Fatalf("add(%#x) = %v, want %v", h, got, want)
		}
		seen[h] = true
		if s.len() != len(seen) {
			t.Fatalf("len = %d, want %d", s.len(), len(seen))
		}
	}
	for h := range seen {
		if s.add(h) {
			t.Fatalf("add(%#x) of a held hash reported it missing", h)
		}
	}
}
