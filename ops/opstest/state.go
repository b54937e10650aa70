package opstest

import (
	"context"
	"errors"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// RichState returns a state using every field of a state document: a
// cursor, marks of each value type, a newest-first pass, a history, a
// partition plan and connector values, with n varying them.
func RichState(n int) *state.State {
	st := state.New()
	at := T0.Add(time.Duration(n)*time.Minute + 123456789*time.Nanosecond)
	users := st.Table("users")
	users.Cursor = paginate.Cursor{Token: "next-é😀", Limit: 100}
	users.Mark = state.Mark{Cursor: state.Time(at), ID: state.String("u\"0042")}
	users.History = &state.History{Start: at, Until: at.Add(-time.Hour), Mark: state.Mark{Cursor: state.Time(at.Add(-2 * time.Hour)), ID: state.Int(-7)}}
	events := st.Table("events")
	events.Mark = state.Mark{Cursor: state.Int(1_000_000_000 + int64(n)), ID: state.Int(999_999_999)}
	events.Pass = &state.Pass{Top: state.Mark{Cursor: state.Int(2_000_000_000), ID: state.Int(1)}, Last: state.Mark{Cursor: state.Int(1_500_000_000)}}
	events.Values = map[string]string{"since": "2024-01-01", "unicode": "é😀\u2028", "empty": ""}
	parts := st.Table("parts")
	parts.Cursor = paginate.Cursor{Offset: int64(300 + n), Page: 4, Key: "k"}
	parts.Partitions = []*state.Partition{
		{ID: "2024-01", Since: T0, Until: T0.AddDate(0, 1, 0), Mark: state.Mark{Cursor: state.Time(T0)}, Done: true},
		{ID: "ids-0", Lo: state.Int(0), Hi: state.Int(1000), Cursor: paginate.Cursor{Offset: 50}},
		{ID: "eu", Shard: "eu-west", Mark: state.Mark{Cursor: state.String("b"), ID: state.String("c")}},
	}
	st.Table("done").Cursor = paginate.Cursor{Done: true}
	return st
}

// encoded returns the document of st, or its error, for comparisons
// that must hold exactly.
func encoded(st *state.State) string {
	if st == nil {
		return "<nil state>"
	}
	b, err := st.Encode()
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// loader returns d as a StateLoader, skipping the check if it is none.
func (e *env) loader(d ops.Destination) ops.StateLoader {
	l, ok := d.(ops.StateLoader)
	if !ok {
		e.r.Skip("the destination keeps no state (not an ops.StateLoader)")
	}
	return l
}

// loadState returns d's state, failing the check on an error.
func (e *env) loadState(d ops.Destination) *state.State {
	e.r.Helper()
	st, err := e.loader(d).LoadState(context.Background())
	if err != nil {
		e.r.Fatalf("LoadState: %v", err)
	}
	if st == nil {
		e.r.Fatalf("LoadState returned a nil state and no error")
	}
	return st
}

// expectState reports a state of d other than want.
func (e *env) expectState(d ops.Destination, want *state.State, what string) {
	e.r.Helper()
	if _, ok := d.(ops.StateLoader); !ok {
		return
	}
	if diff := cmp.Diff(encoded(want), encoded(e.loadState(d))); diff != "" {
		e.r.Errorf("%s: LoadState mismatch (-want +got):\n%s", what, diff)
	}
}

func checkStateFresh(e *env) {
	d, _ := e.fresh(Items)
	e.loader(d)
	e.expectState(d, state.New(), "a new destination")
}

func checkStateRoundTrip(e *env) {
	d, loc := e.fresh(Items)
	e.loader(d)
	e.mustSend(d, []schema.Table{Items}, nil, 0, Upsert("items", Item(1, "a", 1)), Checkpoint(RichState(1)))
	e.expectState(d, RichState(1), "after a checkpoint")
	e.close(d)
	d = e.openOnly(loc)
	e.expectState(d, RichState(1), "after a reopen, before Prepare")
	if err := d.Prepare(context.Background(), []schema.Table{Items}); err != nil {
		e.r.Fatalf("Prepare: %v", err)
	}
	e.expectState(d, RichState(1), "after a reopen")

	// A later checkpoint replaces the state; it does not merge into it.
	next := Mark("other", 2)
	e.mustSend(d, []schema.Table{Items}, nil, 0, Checkpoint(next))
	e.expectState(d, next, "after a second checkpoint")
	e.close(d)
	d = e.openAt(loc, Items)
	e.expectState(d, next, "after a second reopen")
}

func checkStateCopies(e *env) {
	d, _ := e.fresh(Items)
	e.loader(d)
	st := RichState(1)
	if err := d.Checkpoint(context.Background(), st); err != nil {
		e.r.Fatalf("Checkpoint: %v", err)
	}
	st.Table("users").Mark.ID = state.String("changed after Checkpoint")
	st.Table("events").Values["since"] = "changed"
	st.Tables["new"] = &state.Table{}
	e.expectState(d, RichState(1), "after the caller changed the state it checkpointed")
	got := e.loadState(d)
	got.Table("users").Mark.ID = state.String("changed after LoadState")
	got.Table("parts").Partitions[0].Done = false
	e.expectState(d, RichState(1), "after the caller changed a loaded state")
}

func checkStateMerge(e *env) {
	d, loc := e.fresh(Items)
	m, ok := d.(ops.StateMerger)
	if !ok {
		e.r.Skip("the destination does not merge checkpoints (not an ops.StateMerger)")
	}
	ctx := context.Background()
	e.mustSend(d, []schema.Table{Items}, nil, 0, Upsert("items", Item(1, "a", 1)), Checkpoint(RichState(1)))
	var stored *state.State
	err := m.CheckpointMerge(ctx, func(s *state.State) (*state.State, error) {
		stored = s.Clone()
		s.Table("merged").Mark = state.Mark{Cursor: state.Int(5)}
		return s, nil
	})
	if err != nil {
		e.r.Fatalf("CheckpointMerge: %v", err)
	}
	if diff := cmp.Diff(encoded(RichState(1)), encoded(stored)); diff != "" {
		e.r.Errorf("CheckpointMerge gave merge a state other than the last checkpoint's (-want +got):\n%s", diff)
	}
	want := RichState(1)
	want.Table("merged").Mark = state.Mark{Cursor: state.Int(5)}
	e.expectState(d, want, "after CheckpointMerge")

	boom := errors.New("merge failed")
	err = m.CheckpointMerge(ctx, func(s *state.State) (*state.State, error) { return nil, boom })
	if !errors.Is(err, boom) {
		e.r.Errorf("CheckpointMerge with a failing merge: error %v, want one wrapping the merge's", err)
	}
	e.expectState(d, want, "after a failed CheckpointMerge")
	e.close(d)
	d = e.openAt(loc, Items)
	e.expectState(d, want, "after a reopen")
}
