package ops

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// Memory is a [Destination] that keeps tables in memory, for tests and
// demos. It keeps the state of its checkpoints too (it is an
// [StateLoader] and a [StateMerger]), so that a test can run a
// connector twice against it.
//
// Memory stores the rows encoded in a compact binary form, in large
// chunks without pointers, so that a large table costs the garbage
// collector little; Rows and Live decode copies. Rows are keyed by
// [schema.Compiled.KeyOf]. The semantics of the operations, which a [Dir]
// replayed by [ReadDir] shares exactly:
//
//   - Upsert stores the full row, replacing any row with its key, and
//     marks it live (DeletedColumn false).
//   - Update merges the given columns into the live row with the key. If
//     there is none, or the row is marked deleted, the row becomes the
//     given columns, the others NULL: a deleted row's old values do not
//     come back. Either way the row is then live.
//   - Delete marks the live row with the key deleted; a missing or
//     deleted row is left as it is.
//   - Truncate marks every live row deleted; rows written after it are
//     live.
//   - DeleteChildren marks deleted every live row whose leading key
//     columns equal the operation's (the children of one parent).
//
// Every write sets SyncedColumn to the time of its Write call (Now), in
// UTC. The zero Memory is ready to use; Memory is safe for concurrent
// use.
type Memory struct {
	// Now returns the time written to SyncedColumn, read once per Write;
	// nil means time.Now. Set it before the first operation.
	Now func() time.Time

	mu          sync.Mutex
	tables      catalog
	rows        map[string]*rowSet
	summary     map[string]Summary
	checkpoints []*state.State
	last        *state.State
}

var (
	_ Destination = (*Memory)(nil)
	_ StateMerger = (*Memory)(nil)
)

// NewMemory returns an empty Memory destination.
func NewMemory() *Memory { return new(Memory) }

// Prepare declares tables. A table declared before may be declared again
// with columns added; other changes are errors wrapping
// [ErrSchemaChange]. An invalid table is an error wrapping
// [schema.ErrInvalidTable]. On error no table is declared.
func (m *Memory) Prepare(ctx context.Context, tables []schema.Table) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: preparing tables: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next, compiled, err := m.tables.declare(tables, nil)
	if err != nil {
		return err
	}
	m.tables = next
	if m.rows == nil {
		m.rows = make(map[string]*rowSet)
		m.summary = make(map[string]Summary)
	}
	for _, t := range compiled {
		if rs := m.rows[t.Name()]; rs != nil {
			if err := rs.declare(t); err != nil {
				return fmt.Errorf("ops: preparing table %q: %w", t.Name(), err)
			}
		} else {
			m.rows[t.Name()] = newRowSet(t)
			m.summary[t.Name()] = Summary{}
		}
	}
	return nil
}

// Write applies ops in order. An operation on a table Prepare did not
// declare is an error wrapping [schema.ErrUnknownTable]; the operations
// before it are applied.
func (m *Memory) Write(ctx context.Context, ops []Op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: writing: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	at := m.now()
	// The table of a run of operations is looked up once, and its
	// counts stored when the run ends.
	var (
		rs    *rowSet
		table string
		sum   Summary
	)
	defer func() {
		if rs != nil {
			m.summary[table] = sum
		}
	}()
	for i := range ops {
		op := &ops[i]
		if rs == nil || op.Table != table {
			if rs != nil {
				m.summary[table] = sum
			}
			if rs = m.rows[op.Table]; rs == nil {
				return fmt.Errorf("ops: %v in table %q: %w", op.Kind, op.Table, schema.ErrUnknownTable)
			}
			table, sum = op.Table, m.summary[op.Table]
		}
		if err := rs.check(op); err != nil {
			return err
		}
		if err := rs.apply(op, at); err != nil {
			return fmt.Errorf("ops: %v in table %q: %w", op.Kind, op.Table, err)
		}
		sum.Count(op.Kind)
	}
	return nil
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Checkpoint records a copy of st; see [Memory.Checkpoints] and
// [Memory.LoadState].
func (m *Memory) Checkpoint(ctx context.Context, st *state.State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	if st == nil {
		return errors.New("ops: checkpointing: nil state")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.record(st.Clone())
	return nil
}

// CheckpointMerge records merge's result for the state last recorded
// (state.New if none).
func (m *Memory) CheckpointMerge(ctx context.Context, merge func(stored *state.State) (*state.State, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.last.Clone()
	if stored == nil {
		stored = state.New()
	}
	st, err := merge(stored)
	if err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	if st == nil {
		return errors.New("ops: checkpointing: merge returned a nil state")
	}
	m.record(st.Clone())
	return nil
}

// record keeps st, which the caller gave up. m.mu must be held.
func (m *Memory) record(st *state.State) {
	m.last = st
	m.checkpoints = append(m.checkpoints, st)
	if m.summary == nil {
		m.summary = make(map[string]Summary)
	}
	s := m.summary[""]
	s.Checkpoints++
	m.summary[""] = s
}

// LoadState returns a copy of the last state recorded by a checkpoint,
// or [state.New] if there is none.
func (m *Memory) LoadState(ctx context.Context) (*state.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ops: loading state from memory: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		return state.New(), nil
	}
	return m.last.Clone(), nil
}

// Checkpoints returns copies of the states recorded by the checkpoints,
// oldest first.
func (m *Memory) Checkpoints() []*state.State {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*state.State, len(m.checkpoints))
	for i, st := range m.checkpoints {
		out[i] = st.Clone()
	}
	return out
}

// Rows returns copies of every row of table, deleted ones included, with
// SyncedColumn and DeletedColumn, sorted by key. Each row holds every
// declared column, nil for NULL. It returns nil for an undeclared table.
func (m *Memory) Rows(table string) []schema.Row {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs := m.rows[table]; rs != nil {
		return rs.sorted()
	}
	return nil
}

// Live returns copies of the rows of table not marked deleted, by
// [schema.Compiled.KeyOf], without the system columns: what the table
// holds for a reader that ignores soft-deleted rows. Each row holds every
// declared column, nil for NULL. It returns nil for an undeclared table.
func (m *Memory) Live(table string) map[string]schema.Row {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs := m.rows[table]; rs != nil {
		return rs.live()
	}
	return nil
}

// Summary returns the operations received per declared table. The
// entry for the empty name "" counts the checkpoints, which belong to no
// table; the table entries count no checkpoints.
func (m *Memory) Summary() map[string]Summary {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := maps.Clone(m.summary)
	if out == nil {
		out = make(map[string]Summary)
	}
	if _, ok := out[""]; !ok {
		out[""] = Summary{}
	}
	return out
}
