package ops_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

func TestMemoryRowsAreCopies(t *testing.T) {
	ctx := context.Background()
	m := ops.NewMemory()
	if err := m.Prepare(ctx, []schema.Table{opstest.Types}); err != nil {
		t.Fatal(err)
	}
	apply(t, m, []schema.Table{opstest.Types}, opstest.Upsert("types", schema.Row{"id": 1, "string": "a", "binary": []byte("xyz")}))
	live := m.Live("types")
	live["1"]["string"] = "changed"
	live["1"]["binary"].([]byte)[0] = 'X'
	m.Rows("types")[0]["string"] = "changed"
	got := m.Live("types")["1"]
	if got["string"] != "a" || string(got["binary"].([]byte)) != "xyz" {
		t.Errorf("the stored row changed with a copy: %v", got)
	}
	if m.Live("nope") != nil || m.Rows("nope") != nil {
		t.Error("Live or Rows of an undeclared table is not nil")
	}
}

func TestMemoryState(t *testing.T) {
	ctx := context.Background()
	var m ops.Memory // the zero value works
	if diff := cmp.Diff(encode(t, state.New()), encode(t, opstest.LoadState(t, &m))); diff != "" {
		t.Errorf("LoadState of a new Memory mismatch (-want +got):\n%s", diff)
	}
	s1, s2 := opstest.Mark("items", 1), opstest.Mark("items", 2)
	if err := m.Checkpoint(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckpointMerge(ctx, func(stored *state.State) (*state.State, error) {
		if encode(t, stored) != encode(t, opstest.Mark("items", 1)) {
			t.Errorf("CheckpointMerge got %s, want the last checkpoint's", encode(t, stored))
		}
		return s2, nil
	}); err != nil {
		t.Fatal(err)
	}
	cps := m.Checkpoints()
	if len(cps) != 2 || encode(t, cps[0]) != encode(t, s1) || encode(t, cps[1]) != encode(t, s2) {
		t.Errorf("Checkpoints = %v, want the two states", cps)
	}
	cps[0].Table("items").Mark = state.Mark{}
	if encode(t, m.Checkpoints()[0]) != encode(t, s1) {
		t.Error("Checkpoints returned the stored states, not copies")
	}
	if diff := cmp.Diff(map[string]ops.Summary{"": {Checkpoints: 2}}, m.Summary()); diff != "" {
		t.Errorf("Summary mismatch (-want +got):\n%s", diff)
	}
}

func TestSummary(t *testing.T) {
	ctx := context.Background()
	for name, d := range map[string]interface {
		ops.Destination
		Summary() map[string]ops.Summary
	}{"Memory": ops.NewMemory(), "Dir": openDir(t, t.TempDir(), ops.DirOptions{})} {
		tables := []schema.Table{items, orders, labels}
		if err := d.Prepare(ctx, tables); err != nil {
			t.Fatal(err)
		}
		apply(t, d, tables,
			opstest.Upsert("items", opstest.Item(1, "a", 1)),
			opstest.Upsert("items", opstest.Item(2, "a", 1)),
			opstest.Update("items", opstest.Item(2, "b", 1)),
			opstest.Delete("items", schema.Row{"id": 9}), // counted though missing
			opstest.Checkpoint(opstest.Mark("items", 1)),
			opstest.Truncate("orders"),
			opstest.DeleteChildren("issue_labels", schema.Row{"issue_id": 1}),
			opstest.Checkpoint(opstest.Mark("orders", 1)),
		)
		want := map[string]ops.Summary{
			"":             {Checkpoints: 2},
			"items":        {Upserts: 2, Updates: 1, Deletes: 1},
			"orders":       {Truncates: 1},
			"issue_labels": {Replaces: 1},
		}
		if diff := cmp.Diff(want, d.Summary()); diff != "" {
			t.Errorf("%s: Summary mismatch (-want +got):\n%s", name, diff)
		}
	}
}
