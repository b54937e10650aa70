package ops

import (
	"context"

	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// The system columns every destination keeps beside a table's own columns,
// like Fivetran's _fivetran_synced and _fivetran_deleted.
const (
	// SyncedColumn holds the UTC time the row was last written.
	SyncedColumn = "_connector_synced"
	// DeletedColumn is true for a row that was deleted at the source
	// (soft delete) or truncated.
	DeletedColumn = "_connector_deleted"
)

// Destination receives the operations of a sync. The runner calls
// Prepare once with every table of the connector, then Write with batches
// of operations (from several goroutines when tables sync at once, so
// implementations must be safe for concurrent use), and Checkpoint after
// the operations it covers.
//
// Operations arrive checked and normalized by the runner, once: each
// value of Op.Row has the canonical Go type of its column (see
// [schema.Type]) at the column's position in the table's declaration, so
// a destination reads columns by position and never validates again. The
// destination owns the Row slices it is given and may keep them; the
// []Op slice itself is reused by the caller once Write returns.
//
// A destination that keeps the state with the rows, so that it alone is
// enough to resume, also implements [StateLoader].
type Destination interface {
	// Prepare declares the tables. It creates what the destination
	// needs and fails on a table it cannot hold, such as a column whose
	// type changed since the last run.
	Prepare(ctx context.Context, tables []schema.Table) error

	// Write applies ops in order (see [Op] for what each kind does). It
	// may buffer them until Checkpoint; an error means some of them, a
	// prefix, may have been applied, and the runner resumes from the last
	// checkpoint, whose rows are rewritten idempotently.
	Write(ctx context.Context, ops []Op) error

	// Checkpoint makes every operation written before it durable, then
	// records st, so that state never runs ahead of the rows it covers.
	// A StateLoader returns st from LoadState afterwards; any destination
	// must not keep st after Checkpoint returns.
	Checkpoint(ctx context.Context, st *state.State) error
}

// StateLoader is a [Destination] that stores the state it is given at
// each Checkpoint with the rows it covers (in the same transaction, or in
// a file written after them), so that the destination alone is enough to
// resume. The runner loads the state from it at the start of a run and
// needs no separate state.Store.
type StateLoader interface {
	Destination
	// LoadState returns the state of the last checkpoint, or
	// [state.New] when there is none. The runner calls it before
	// Prepare. A stored state that cannot be read
	// is an error wrapping [state.ErrCorrupt], and is never overwritten.
	LoadState(ctx context.Context) (*state.State, error)
}

// Summary counts the operations a destination received.
type Summary struct {
	Upserts   int64 `json:"upserts"`
	Updates   int64 `json:"updates"`
	Deletes   int64 `json:"deletes"`
	Truncates int64 `json:"truncates"`
	// Replaces counts the deletes of children (OpDeleteChildren): the
	// parents whose child rows were replaced.
	Replaces    int64 `json:"replaces"`
	Checkpoints int64 `json:"checkpoints"`
}

// Add returns the sum of s and o.
func (s Summary) Add(o Summary) Summary {
	return Summary{
		Upserts:     s.Upserts + o.Upserts,
		Updates:     s.Updates + o.Updates,
		Deletes:     s.Deletes + o.Deletes,
		Truncates:   s.Truncates + o.Truncates,
		Replaces:    s.Replaces + o.Replaces,
		Checkpoints: s.Checkpoints + o.Checkpoints,
	}
}

// StateMerger is a [StateLoader] whose checkpoints can merge into the
// stored state, for a run that owns only part of the state: one partition
// of a sync spread over several machines, each checkpointing its own
// progress into the same destination. CheckpointMerge makes every
// operation written before it durable, then, in the same transaction
// and with the stored state locked against the other writers, calls
// merge with the stored state (state.New if none) and stores the state
// merge returns. An error from merge aborts the checkpoint.
type StateMerger interface {
	StateLoader
	CheckpointMerge(ctx context.Context, merge func(stored *state.State) (*state.State, error)) error
}
