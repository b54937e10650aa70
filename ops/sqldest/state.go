package sqldest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/connectkit/connector/state"
)

// Checkpoint makes the operations since the last checkpoint durable
// together with st: it writes the buffered upserts, writes st (as
// [state.State.Encode] encodes it) into [StateTable] in the open
// transaction, opening one if there is none, and commits. Rows and state
// become durable at once, or neither does.
//
// Checkpoint refuses, with an error wrapping [state.ErrCorrupt], to
// overwrite a stored state that cannot be decoded, and, with an error
// wrapping [ErrRolledBack], to save a state after a failed statement
// rolled back operations it covers.
func (d *DB) Checkpoint(ctx context.Context, st *state.State) error {
	if st == nil {
		return errors.New("sqldest: checkpoint: nil state")
	}
	return d.checkpoint(ctx, func(*state.State) (*state.State, error) { return st, nil }, false)
}

// CheckpointMerge is Checkpoint of the state merge returns, given the
// stored state ([state.New] if none): it writes the buffered upserts,
// reads the stored state in the open transaction, which holds the
// database's write lock (BEGIN IMMEDIATE), so that no other writer can
// change it before the commit, stores merge's result and commits. An
// error from merge, or a nil state, fails the checkpoint; the operations
// since the last checkpoint stay pending for the next one. A stored state
// that cannot be decoded is an error wrapping [state.ErrCorrupt] and is
// left as it is.
func (d *DB) CheckpointMerge(ctx context.Context, merge func(stored *state.State) (*state.State, error)) error {
	if merge == nil {
		return errors.New("sqldest: checkpoint: nil merge function")
	}
	return d.checkpoint(ctx, merge, true)
}

// checkpoint writes the buffered upserts, then the state next returns,
// given the stored state when read is true (else nil), and commits.
func (d *DB) checkpoint(ctx context.Context, next func(stored *state.State) (*state.State, error), read bool) error {
	const what = "checkpoint"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqldest: %s: %w", what, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return fmt.Errorf("sqldest: %s: %w", what, ErrClosed)
	case d.failed != nil:
		return fmt.Errorf("sqldest: %s: %w", what, d.rolledBack())
	case d.corrupt != nil:
		return fmt.Errorf("sqldest: %s: refusing to overwrite the stored state: %w", what, d.corrupt)
	}
	ctx = context.WithoutCancel(ctx)
	if err := d.flushAll(ctx); err != nil {
		d.abort(err)
		return fmt.Errorf("sqldest: %s: %w", what, err)
	}
	if err := d.begin(ctx); err != nil {
		return fmt.Errorf("sqldest: %s: %w", what, err)
	}
	if err := d.countRows(ctx); err != nil {
		d.abort(err)
		return fmt.Errorf("sqldest: %s: %w", what, err)
	}
	var stored *state.State
	if read || !d.stateOK {
		// Never overwrite a state this process has not read: it may be
		// corrupt, and then a person has to look at it.
		data, found, err := d.readState(ctx)
		if err != nil {
			return fmt.Errorf("sqldest: %s: reading the stored state: %w", what, err)
		}
		stored = state.New()
		if found {
			if stored, err = state.Decode(data); err != nil {
				d.corrupt = fmt.Errorf("%s: %w", StateTable, err)
				return fmt.Errorf("sqldest: %s: refusing to overwrite the stored state: %w", what, d.corrupt)
			}
		}
	}
	if !read {
		stored = nil
	}
	st, err := next(stored)
	if err == nil && st == nil {
		err = errors.New("nil state")
	}
	if err != nil {
		return fmt.Errorf("sqldest: %s: %w", what, err)
	}
	data, err := st.Encode()
	if err != nil {
		return fmt.Errorf("sqldest: %s: %w", what, err)
	}
	stmt, err := d.prepared(ctx, &d.stateStmt, d.dialect.Upsert(StateTable, []string{"id", "state", "updated_at"}, []string{"id"}, 1))
	if err == nil {
		now := time.Now().UTC().Format(utcLayout)
		_, err = d.exec(ctx, stmt, "state", []any{int64(1), string(data), now})
	}
	if err != nil {
		err = fmt.Errorf("writing the state: %w", err)
		d.abort(err)
		return fmt.Errorf("sqldest: %s: %w", what, err)
	}
	if err := d.commit(ctx); err != nil {
		return fmt.Errorf("sqldest: %s: %w", what, err)
	}
	d.stateOK = true
	s := d.summary[""]
	s.Checkpoints++
	d.summary[""] = s
	return nil
}

// LoadState returns the state stored by the last checkpoint, or
// [state.New] if the database holds none; it may be called before
// Prepare, as the runner does. A stored state that cannot be decoded is
// an error wrapping [state.ErrCorrupt], and this DB will not overwrite
// it.
func (d *DB) LoadState(ctx context.Context) (*state.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqldest: loading state: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("sqldest: loading state: %w", ErrClosed)
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := d.writer(ctx); err != nil {
		return nil, fmt.Errorf("sqldest: loading state: taking a connection: %w", err)
	}
	data, found, err := d.readState(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqldest: loading state: %w", err)
	}
	if !found {
		d.stateOK = true
		return state.New(), nil
	}
	st, err := state.Decode(data)
	if err != nil {
		d.corrupt = fmt.Errorf("%s: %w", StateTable, err)
		return nil, fmt.Errorf("sqldest: loading state: %w", d.corrupt)
	}
	d.corrupt, d.stateOK = nil, true
	return st, nil
}

// readState reads the stored state document through the writer
// connection; found is false when there is none.
func (d *DB) readState(ctx context.Context) (data []byte, found bool, err error) {
	info, err := d.dialect.Columns(ctx, d.conn, StateTable)
	if err != nil || len(info) == 0 {
		return nil, false, err
	}
	q := d.dialect.Quote
	var v any
	err = d.conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s", q("state"), q(StateTable), q("id"), d.dialect.Placeholder(1)), int64(1)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	switch x := v.(type) {
	case string:
		return []byte(x), true, nil
	case []byte:
		return x, true, nil
	}
	return fmt.Appendf(nil, "%v", v), true, nil // not a document: Decode rejects it
}
