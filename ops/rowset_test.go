package ops

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/schema"
)

func testRowSet(t *testing.T) *rowSet {
	t.Helper()
	table := schema.Table{
		Name:       "t",
		Columns:    []schema.Column{{Name: "id", Type: schema.String}, {Name: "v", Type: schema.String}},
		PrimaryKey: []string{"id"},
	}
	c, err := table.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return newRowSet(c)
}

// TestRowSetClash makes "a" and "b" hash alike: both rows are found,
// replaced and read back, the second one further along the probe.
func TestRowSetClash(t *testing.T) {
	s := testRowSet(t)
	s.collide = ^uint32(0) // every key hashes as 0
	for _, row := range [][]any{{"a", "1"}, {"b", "2"}, {"b", "3"}, {"a", "4"}} {
		if err := s.put(row, 2); err != nil {
			t.Fatal(err)
		}
	}
	if s.rows.len() != 2 || s.byKey.n != 2 {
		t.Fatalf("%d rows, %d indexed, want 2 and 2", s.rows.len(), s.byKey.n)
	}
	if err := s.apply(&Op{Kind: OpDelete, Row: []any{"b", nil}}, time.Unix(0, 5)); err != nil {
		t.Fatal(err)
	}
	want := map[string]schema.Row{"a": {"id": "a", "v": "4"}}
	if diff := cmp.Diff(want, s.live()); diff != "" {
		t.Errorf("live rows (-want +got):\n%s", diff)
	}
	if got := s.sorted(); len(got) != 2 || got[1]["id"] != "b" || got[1][DeletedColumn] != true {
		t.Errorf("sorted rows = %v, want a, then b deleted", got)
	}
}

// uuids returns n distinct random version 4 UUIDs, the same for a seed.
func uuids(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 1))
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		id := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff,
			r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&(1<<48-1))
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// checkIndex checks the index of s against want, the value of every key:
// one slot per row, at most 3/4 full, and every key found with its value.
func checkIndex(t *testing.T, s *rowSet, want map[string]string) {
	t.Helper()
	x := &s.byKey
	if x.n != s.rows.len() || x.n != len(want) {
		t.Fatalf("%d keys indexed, %d rows, want %d", x.n, s.rows.len(), len(want))
	}
	if n := len(x.slots); n&(n-1) != 0 || 4*x.n > 3*n || 64-int(x.shift) != log2(n) {
		t.Fatalf("%d slots (shift %d) for %d keys", n, x.shift, x.n)
	}
	used := 0
	for _, e := range x.slots {
		if e != 0 {
			used++
		}
	}
	if used != x.n {
		t.Fatalf("%d slots used, %d keys", used, x.n)
	}
	for key, v := range want {
		i, ok := s.find(key)
		if !ok {
			t.Fatalf("key %q not found", key)
		}
		if got := s.copyRow(i, false); got["id"] != key || got["v"] != v {
			t.Fatalf("key %q: row %v, want v %q", key, got, v)
		}
	}
}

// TestRowSetManyKeys puts 100,000 random UUID keys, replaces a third of
// them, and finds every one with its last value; keys never put are not
// found.
func TestRowSetManyKeys(t *testing.T) {
	s := testRowSet(t)
	keys := uuids(100_000, 1)
	want := make(map[string]string, len(keys))
	for i, k := range keys {
		v := fmt.Sprint("v", i)
		if err := s.put([]any{k, v}, int64(i)); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	for i := 0; i < len(keys); i += 3 {
		v := fmt.Sprint("w", i)
		if err := s.put([]any{keys[i], v}, int64(i)); err != nil {
			t.Fatal(err)
		}
		want[keys[i]] = v
	}
	checkIndex(t, s, want)
	for _, k := range uuids(1000, 2) {
		if _, ok := want[k]; ok {
			continue
		}
		if i, ok := s.find(k); ok {
			t.Fatalf("key %q never put found as row %d", k, i)
		}
	}
}

// TestRowSetGrowth checks the index after every insert that made it
// grow, and just before: every key is found in the new table.
func TestRowSetGrowth(t *testing.T) {
	s := testRowSet(t)
	if _, ok := s.find("x"); ok {
		t.Fatal("a key found in an empty row set")
	}
	want := make(map[string]string)
	grew := 0
	for i, k := range uuids(20_000, 3) {
		n := len(s.byKey.slots)
		if err := s.put([]any{k, k}, int64(i)); err != nil {
			t.Fatal(err)
		}
		want[k] = k
		if len(s.byKey.slots) != n {
			grew++
			if n != 0 && len(s.byKey.slots) != 2*n {
				t.Fatalf("the index grew from %d slots to %d", n, len(s.byKey.slots))
			}
			checkIndex(t, s, want)
		}
	}
	// 64 slots at first, doubled until 20,000 keys fill at most 3/4 of
	// 32,768.
	if grew != 10 || len(s.byKey.slots) != 32768 {
		t.Errorf("grew %d times to %d slots, want 10 and 32768", grew, len(s.byKey.slots))
	}
	checkIndex(t, s, want)
}

// TestRowSetCollisions makes distinct keys hash alike, all of them or in
// 16 classes, and runs a random sequence of upserts, updates, deletes and
// truncates against a model: the live rows, and every key's row, agree.
func TestRowSetCollisions(t *testing.T) {
	for _, collide := range []uint32{^uint32(0), ^uint32(0xf), 0} {
		t.Run(fmt.Sprintf("collide=%#x", collide), func(t *testing.T) {
			s := testRowSet(t)
			s.collide = collide
			keys := uuids(2000, 4)
			r := rand.New(rand.NewPCG(5, uint64(collide)))
			live := make(map[string]schema.Row) // the model's live rows
			all := make(map[string]string)      // every key ever put, with its value
			deleted := make(map[string]bool)    // the keys marked deleted
			for step := range 20_000 {
				k := keys[r.IntN(len(keys))]
				v := fmt.Sprint(step)
				var op Op
				switch n := r.IntN(100); {
				case n < 60:
					op = Op{Kind: OpUpsert, Row: []any{k, v}}
				case n < 75:
					op = Op{Kind: OpUpdate, Row: []any{k, v}}
				case n < 99:
					op = Op{Kind: OpDelete, Row: []any{k, nil}}
				default:
					op = Op{Kind: OpTruncate}
				}
				if err := s.apply(&op, time.Unix(0, int64(step))); err != nil {
					t.Fatal(err)
				}
				switch op.Kind {
				case OpUpsert, OpUpdate:
					live[k], all[k], deleted[k] = schema.Row{"id": k, "v": v}, v, false
				case OpDelete:
					if _, ok := all[k]; ok {
						delete(live, k)
						deleted[k] = true
					}
				case OpTruncate:
					clear(live)
					for k := range all {
						deleted[k] = true
					}
				}
			}
			if diff := cmp.Diff(live, s.live()); diff != "" {
				t.Fatalf("live rows (-want +got):\n%s", diff)
			}
			checkIndex(t, s, all)
			for k := range all {
				i, _ := s.find(k)
				if got := s.rows.at(i).deleted; got != deleted[k] {
					t.Errorf("key %q: deleted %v, want %v", k, got, deleted[k])
				}
			}
			hashes := make(map[uint32]bool)
			for _, k := range keys {
				hashes[s.hash(k)] = true
			}
			if max := 1 << bits.OnesCount32(^collide); collide != 0 && len(hashes) > max {
				t.Errorf("%d keys hash %d ways, want at most %d", len(keys), len(hashes), max)
			}
		})
	}
}

// TestRowSetDeleteReinsert deletes and truncates rows, then upserts them
// again: each key keeps its one row, live again with its new values.
func TestRowSetDeleteReinsert(t *testing.T) {
	s := testRowSet(t)
	s.collide = ^uint32(0x3)
	keys := uuids(500, 6)
	for i, k := range keys {
		if err := s.put([]any{k, "1"}, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys[:250] {
		if err := s.apply(&Op{Kind: OpDelete, Row: []any{k, nil}}, time.Unix(0, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.live()); n != 250 {
		t.Fatalf("%d live rows after deleting 250 of 500", n)
	}
	if err := s.apply(&Op{Kind: OpTruncate}, time.Unix(0, 2)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.live()); n != 0 {
		t.Fatalf("%d live rows after a truncate", n)
	}
	want := make(map[string]string)
	for _, k := range keys {
		if err := s.put([]any{k, "2"}, 3); err != nil {
			t.Fatal(err)
		}
		want[k] = "2"
	}
	checkIndex(t, s, want)
	if n := len(s.live()); n != len(keys) {
		t.Fatalf("%d live rows after upserting %d again", n, len(keys))
	}
}

// TestArenaCommit encodes byte strings in the free end of the last chunk
// and past it: each reads back, and only the ones that did not fit were
// copied to a new chunk.
func TestArenaCommit(t *testing.T) {
	var a arena
	var spans []span
	var want [][]byte
	for i := range 2000 {
		b := append(a.tail(), strings.Repeat(string(rune('a'+i%26)), 1+i%700)...)
		n := len(a.chunks)
		spans, want = append(spans, a.commit(b)), append(want, bytes.Clone(b))
		if len(a.chunks) > n+1 {
			t.Fatalf("commit %d added %d chunks", i, len(a.chunks)-n)
		}
	}
	live := 0
	for i, sp := range spans {
		if got := a.bytes(sp); !bytes.Equal(got, want[i]) {
			t.Fatalf("span %d: %d bytes %.10q..., want %d bytes %.10q...", i, len(got), got, len(want[i]), want[i])
		}
		live += len(want[i])
	}
	if a.live != live {
		t.Errorf("arena: %d live bytes, want %d", a.live, live)
	}
	for k, c := range a.chunks[:len(a.chunks)-1] {
		if len(c) > cap(c) || cap(c) > maxChunk {
			t.Errorf("chunk %d: %d bytes of %d", k, len(c), cap(c))
		}
	}
}

// TestRowSetCompact replaces rows until most of the arena is dead: it is
// compacted, and the rows read back.
func TestRowSetCompact(t *testing.T) {
	s := testRowSet(t)
	big := strings.Repeat("x", 10<<10)
	for i := range 500 {
		for _, id := range []string{"a", "b", "c"} {
			if err := s.put([]any{id, big + id + string(rune('0'+i%10))}, int64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s.arena.dead > s.arena.live+maxChunk {
		t.Errorf("arena: %d dead bytes, %d live: not compacted", s.arena.dead, s.arena.live)
	}
	want := map[string]schema.Row{
		"a": {"id": "a", "v": big + "a9"},
		"b": {"id": "b", "v": big + "b9"},
		"c": {"id": "c", "v": big + "c9"},
	}
	if diff := cmp.Diff(want, s.live()); diff != "" {
		t.Errorf("live rows (-want +got):\n%s", diff)
	}
}
