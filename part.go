package connector

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/state"
)

// Part is a unit of a connector's work that can run on its own, on any
// machine: a stream's own work (Partition ""), such as the forward pass of
// an incremental stream, or one partition of a partitioned stream. [Plan]
// lists them; [Connector.RunPart] runs one. A sync spread over several
// machines (see the temporal module) runs each part as a task.
type Part struct {
	// Table is the table whose stream the part belongs to.
	Table string `json:"table"`
	// Partition is the partition's ID, or "" for the stream's own work.
	Partition string `json:"partition,omitempty"`
	// Done reports, in Plan's result, that the partition is complete.
	Done bool `json:"done,omitempty"`

	planning bool // the scope of Plan's checkpoints: every stream's plan
}

// String describes p for logs, as `table "user"` or `table "user"
// partition "2024-05-01"`.
func (p Part) String() string {
	s := "table " + strconv.Quote(p.Table)
	if p.Partition != "" {
		s += " partition " + strconv.Quote(p.Partition)
	}
	return s
}

// ErrNoPart reports a Part that the connector does not have: no table of
// that name with a stream, or no partition of that ID in its plan.
var ErrNoPart = errors.New("connector: no such part")

// planner is a stream that splits its work into partitions.
type planner interface {
	// plan makes sure w's state holds the stream's partition plan,
	// making and committing it if needed. own reports whether the
	// stream also has work of its own, outside its partitions.
	plan(ctx context.Context, w *Writer) (own bool, err error)
}

// Plan loads the state, makes the partition plan of every partitioned
// stream that has none yet (or that completed its plan and starts a new
// pass), checkpoints it, and returns the parts of the connector's work:
// for each stream in sync order, its own work if it has any, then its
// partitions in plan order. Run each part with [Connector.RunPart], in
// any order and on any machine; a partition already Done needs no run.
func (c *Connector) Plan(ctx context.Context, dest ops.Destination, o Options) ([]Part, error) {
	r, streams, err := c.start(ctx, dest, o, nil)
	if err != nil {
		return nil, err
	}
	if m, ok := dest.(ops.StateMerger); ok {
		r.merger, r.scope = m, &Part{planning: true}
	}
	var parts []Part
	var errs []error
	for _, t := range streams {
		w := r.newWriter(t, nil, "")
		own := true
		if p, ok := t.Stream.(planner); ok {
			own, err = p.plan(ctx, w)
			if err == nil {
				err = w.flush(ctx)
			}
			if err != nil {
				errs = append(errs, &tableFailure{w: w, err: fmt.Errorf("planning: %w", err)})
				continue
			}
		}
		if own {
			parts = append(parts, Part{Table: t.Name})
		}
		for _, p := range w.State().Partitions {
			parts = append(parts, Part{Table: t.Name, Partition: p.ID, Done: p.Done})
		}
	}
	if _, err := r.finish(ctx, c.Name, errs); err != nil {
		return nil, err
	}
	return parts, nil
}

// RunPart runs one part of the connector's work, as Plan listed it: the
// stream of p.Table alone, and within it only its own work (p.Partition
// "") or only the partition p.Partition. Its checkpoints merge its part of
// the state into the state the destination holds, which must implement
// [ops.StateMerger], so that parts running at once on several machines
// keep each other's progress. Otherwise it behaves as [Connector.Run].
func (c *Connector) RunPart(ctx context.Context, dest ops.Destination, p Part, o Options) (*Summary, error) {
	p.Done = false
	return c.run(ctx, dest, o, &p)
}

// merge returns stored with the part of snap that the part owns: the
// stream's state without its partitions for a stream's own work, the one
// partition for a partition, every partitioned stream's plan when
// planning.
func (p *Part) merge(stored, snap *state.State) (*state.State, error) {
	out := stored.Clone()
	if out.Tables == nil {
		out.Tables = make(map[string]*state.Table)
	}
	if p.planning {
		// Take a plan made by this Plan, and only where the stored state
		// has none in progress: parts may be running, whose progress the
		// stored state holds.
		for name, ours := range snap.Tables {
			if old := out.Tables[name]; old == nil || (!inProgress(old.Partitions) && inProgress(ours.Partitions)) {
				out.Tables[name] = ours.Clone()
			}
		}
		return out, nil
	}
	ours := snap.Tables[p.Table]
	if ours == nil {
		return out, nil
	}
	old := out.Tables[p.Table]
	if p.Partition == "" {
		t := ours.Clone()
		if old != nil {
			t.Partitions = old.Partitions // theirs: other parts run them
		}
		out.Tables[p.Table] = t
		return out, nil
	}
	mine := ours.Partition(p.Partition)
	var theirs *state.Partition
	if old != nil {
		theirs = old.Partition(p.Partition)
	}
	if mine == nil || theirs == nil {
		return nil, fmt.Errorf("%w: %s is not in the stored plan", ErrNoPart, p)
	}
	*theirs = *mine
	return out, nil
}

// partitionOnly reports whether the run is scoped to one partition of
// the stream, so that the stream skips its own work.
func (w *Writer) partitionOnly() bool {
	return w.r.scope != nil && w.r.scope.Partition != ""
}

// inProgress reports whether a plan has a partition not done.
func inProgress(plan []*state.Partition) bool {
	for _, p := range plan {
		if !p.Done {
			return true
		}
	}
	return false
}

// runPartitions runs fn for each partition of w's plan that is not done
// (only the one of the run's scope, when it names one; none when the
// scope is the stream's own work), at most Options.Partitions at once,
// each with a Writer of its own whose commits update that partition. A
// partition's error does not stop the others; the errors are joined.
func (w *Writer) runPartitions(ctx context.Context, fn func(ctx context.Context, pw *Writer, p state.Partition) error) error {
	st := w.State()
	scope := w.r.scope
	var todo []state.Partition
	for _, p := range st.Partitions {
		switch {
		case scope != nil && scope.Partition != p.ID:
		case !p.Done:
			todo = append(todo, *p)
		}
	}
	if scope != nil && scope.Partition != "" && st.Partition(scope.Partition) == nil {
		return fmt.Errorf("%w: %s is not in the plan of the stored state; run Plan first", ErrNoPart, scope)
	}
	limit := w.r.opts.Partitions
	if limit <= 0 {
		limit = DefaultPartitions
	}
	sem := make(chan struct{}, limit)
	errs := make([]error, len(todo))
	done := make(chan struct{})
	n := 0
	for i, p := range todo {
		pw := w.r.newWriter(w.t, w, p.ID)
		n++
		go func() {
			defer func() { done <- struct{}{} }()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := fn(ctx, pw, p)
			if err == nil {
				err = pw.flush(ctx)
			} else {
				pw.discard()
			}
			if err != nil {
				errs[i] = fmt.Errorf("partition %q: %w", p.ID, err)
			}
		}()
	}
	for range n {
		<-done
	}
	return errors.Join(errs...)
}

// commitPartition is Commit for a partition's Writer: p is the
// partition's progress, which replaces its entry in the stream's plan.
func (w *Writer) commitPartition(ctx context.Context, p state.Partition) error {
	if err := w.flush(ctx); err != nil {
		return err
	}
	r := w.r
	r.mu.Lock()
	ts := r.st.Tables[w.t.Name]
	var entry *state.Partition
	if ts != nil {
		entry = ts.Partition(p.ID)
	}
	if entry == nil {
		r.mu.Unlock()
		return fmt.Errorf("connector: committing partition %q, which is not in the plan", p.ID)
	}
	*entry = p
	w.seq++
	due := r.opts.Checkpoint.due(w.sinceOps, r.now().Sub(w.sinceStart))
	r.mu.Unlock()
	w.stats.pages.Add(1)
	if !due {
		return nil
	}
	return r.checkpoint(ctx)
}
