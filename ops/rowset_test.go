package ops

import (
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

// TestRowSetClash finds rows whose keys hash alike: the second key goes
// to the clash map, and both rows are found, replaced and read back.
func TestRowSetClash(t *testing.T) {
	s := testRowSet(t)
	if err := s.put([]any{"a", "1"}, 1); err != nil {
		t.Fatal(err)
	}
	// Make "b" hash as "a" does.
	s.byHash[s.hash("b")] = s.byHash[s.hash("a")]
	for _, row := range [][]any{{"b", "2"}, {"b", "3"}, {"a", "4"}} {
		if err := s.put(row, 2); err != nil {
			t.Fatal(err)
		}
	}
	if s.rows.len() != 2 || len(s.clash) != 1 {
		t.Fatalf("%d rows, %d clashing, want 2 and 1", s.rows.len(), len(s.clash))
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
