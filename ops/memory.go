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
// demos. It is also a [state.Store] holding the last checkpointed state,
// so that a test can run a connector twice against it.
//
// Memory checks every row with the declared table (the Normalize methods
// of [schema.Compiled]) and, as [Destination] allows, takes the row over:
// it normalizes the map in place, adds the system columns to it and keeps
// it, so the caller must not use the map afterwards. Rows and Live return
// copies. Rows are keyed by [schema.Compiled.KeyOf].
// The semantics of the operations, which a [Dir] replayed by [ReadDir]
// shares exactly:
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
//
// Every write sets SyncedColumn to Now in UTC. The zero Memory is ready
// to use; Memory is safe for concurrent use.
type Memory struct {
	// Now returns the time written to SyncedColumn; nil means time.Now.
	// Set it before the first operation.
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
	_ state.Store = (*Memory)(nil)
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
			rs.declare(t)
		} else {
			m.rows[t.Name()] = newRowSet(t)
			m.summary[t.Name()] = Summary{}
		}
	}
	return nil
}

// Upsert stores a copy of row, replacing any row with its key.
func (m *Memory) Upsert(ctx context.Context, table string, row schema.Row) error {
	return m.apply(ctx, OpUpsert, table, row)
}

// Update merges a copy of row, which holds the key, into the row with
// its key.
func (m *Memory) Update(ctx context.Context, table string, row schema.Row) error {
	return m.apply(ctx, OpUpdate, table, row)
}

// Delete marks the row with the key in keys as deleted.
func (m *Memory) Delete(ctx context.Context, table string, keys schema.Row) error {
	return m.apply(ctx, OpDelete, table, keys)
}

// Truncate marks every row of table as deleted.
func (m *Memory) Truncate(ctx context.Context, table string) error {
	return m.apply(ctx, OpTruncate, table, nil)
}

func (m *Memory) apply(ctx context.Context, k Kind, table string, row schema.Row) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: %v in table %q: %w", k, table, err)
	}
	m.mu.Lock()
	t := m.tables[table]
	m.mu.Unlock()
	if t == nil {
		return fmt.Errorf("ops: %v in table %q: %w", k, table, schema.ErrUnknownTable)
	}
	if k.hasRow() {
		var err error
		if row, err = k.Normalize(t, row); err != nil {
			return fmt.Errorf("ops: %v in table %q: %w", k, table, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows[table].apply(k, row, m.now())
	s := m.summary[table]
	s.Count(k)
	m.summary[table] = s
	return nil
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Checkpoint records a copy of st; see [Memory.Checkpoints] and
// [Memory.Load].
func (m *Memory) Checkpoint(ctx context.Context, st *state.State) error {
	return m.record(ctx, st, true)
}

// Load returns a copy of the last state recorded by Checkpoint or Save,
// or [state.New] if there is none.
func (m *Memory) Load(ctx context.Context) (*state.State, error) {
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

// Save records a copy of st like Checkpoint, but does not count it in
// the Summary.
func (m *Memory) Save(ctx context.Context, st *state.State) error {
	return m.record(ctx, st, false)
}

func (m *Memory) record(ctx context.Context, st *state.State, count bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	if st == nil {
		return errors.New("ops: checkpointing: nil state")
	}
	c := st.Clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = c
	m.checkpoints = append(m.checkpoints, c)
	if count {
		if m.summary == nil {
			m.summary = make(map[string]Summary)
		}
		s := m.summary[""]
		s.Checkpoints++
		m.summary[""] = s
	}
	return nil
}

// Checkpoints returns copies of the states recorded by Checkpoint and
// Save, oldest first.
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
