package pgdest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/state"
)

// LoadState returns the state of the last checkpoint, or [state.New] if
// the schema holds none. A stored state that cannot be decoded is an
// error wrapping [state.ErrCorrupt] (and [ops.ErrCorrupt]), and this DB
// will not overwrite it.
func (d *DB) LoadState(ctx context.Context) (*state.State, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("pgdest: loading state: %w", ErrClosed)
	}
	var doc *string
	err := d.retry(ctx, func() error {
		if err := d.connect(ctx, false); err != nil {
			return err
		}
		return d.conn.QueryRow(ctx, `SELECT "state" FROM `+d.stateIdent()+` WHERE "id" = 1`).Scan(&doc)
	})
	if err != nil {
		return nil, fmt.Errorf("pgdest: loading state: %w", err)
	}
	if doc == nil {
		d.stateOK = true
		return state.New(), nil
	}
	st, err := d.decodeStored(*doc)
	if err != nil {
		return nil, fmt.Errorf("pgdest: loading state: %w", err)
	}
	d.stateOK = true
	return st, nil
}

// decodeStored decodes the stored state document; a document that
// cannot be decoded is remembered, so that it is never overwritten.
func (d *DB) decodeStored(doc string) (*state.State, error) {
	st, err := state.Decode([]byte(doc))
	if err != nil {
		d.corrupt = fmt.Errorf("%w: %s.%s: %w", ops.ErrCorrupt, d.schema, StateTable, err)
		return nil, d.corrupt
	}
	d.corrupt = nil
	return st, nil
}

// Checkpoint commits, in one transaction, the operations since the last
// checkpoint (staged and merged, see the package documentation), the row
// counts of the tables and st. A transaction that fails for a transient
// cause is written again on a new connection (see Options.MaxRetries);
// a commit whose answer was lost is looked up, never committed twice.
//
// Checkpoint refuses, with an error wrapping [state.ErrCorrupt], to
// overwrite a stored state that cannot be decoded; with an error
// wrapping [ErrRolledBack], to save a state after a failure dropped
// operations it covers; and on a shared DB, which checkpoints with
// CheckpointMerge.
func (d *DB) Checkpoint(ctx context.Context, st *state.State) error {
	if st == nil {
		return errors.New("pgdest: checkpointing: nil state")
	}
	if d.shared {
		return errors.New("pgdest: checkpointing: a shared DB (Options.Shared) checkpoints with CheckpointMerge, which keeps the other parts' progress")
	}
	doc, err := st.Encode()
	if err != nil {
		return fmt.Errorf("pgdest: checkpointing: %w", err)
	}
	return d.checkpoint(ctx, func(stored *string) ([]byte, error) {
		if stored != nil && !d.stateOK {
			// Never overwrite a state this DB has not read: it may be
			// corrupt, and then a person has to look at it.
			if _, err := d.decodeStored(*stored); err != nil {
				return nil, fmt.Errorf("refusing to overwrite the stored state: %w", err)
			}
		}
		return doc, nil
	})
}

// CheckpointMerge commits the operations since the last checkpoint like
// Checkpoint, and in the same transaction, with the stored state row
// locked (SELECT ... FOR UPDATE) against the other DBs of the schema,
// stores the state merge returns for the stored one (state.New if none).
// merge may be called again if the transaction is written again after a
// transient failure; an error from it aborts the checkpoint and rolls
// the transaction back.
func (d *DB) CheckpointMerge(ctx context.Context, merge func(stored *state.State) (*state.State, error)) error {
	return d.checkpoint(ctx, func(stored *string) ([]byte, error) {
		old := state.New()
		if stored != nil {
			var err error
			if old, err = d.decodeStored(*stored); err != nil {
				return nil, fmt.Errorf("refusing to overwrite the stored state: %w", err)
			}
		}
		st, err := merge(old)
		if err != nil {
			return nil, fmt.Errorf("merging the state: %w", err)
		}
		if st == nil {
			return nil, errors.New("merge returned a nil state")
		}
		return st.Encode()
	})
}

// checkpoint commits the open work with the state document doc makes
// from the stored one.
func (d *DB) checkpoint(ctx context.Context, doc func(stored *string) ([]byte, error)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return fmt.Errorf("pgdest: checkpointing: %w", err)
	}
	if d.corrupt != nil {
		return fmt.Errorf("pgdest: checkpointing: refusing to overwrite the stored state: %w", d.corrupt)
	}
	if err := d.flushAll(); err != nil {
		return fmt.Errorf("pgdest: checkpointing: %w", d.fail(err))
	}
	d.resolved = false
	err := d.retry(ctx, func() error {
		if err := d.connect(ctx, false); err != nil {
			return err
		}
		if d.resolved {
			return nil // the last try's commit went through
		}
		if err := d.writeLog(ctx); err != nil {
			return err
		}
		return d.commit(ctx, doc)
	})
	if err != nil {
		return fmt.Errorf("pgdest: checkpointing: %w", d.fail(err))
	}
	d.summary[""].Checkpoints++
	return nil
}

// commit ends the open transaction: it locks the state row, stores the
// document doc returns (none: the state stays), the row counts moved by
// the transaction and the next sequence number, and commits. A commit
// whose answer is lost leaves d.commitSeq set, for the next connection to
// look up.
func (d *DB) commit(ctx context.Context, doc func(stored *string) ([]byte, error)) error {
	var stored *string
	var seq, gen int64
	var counts map[string]int64
	var unkeyed []string
	if err := d.hook("state"); err != nil {
		return err
	}
	err := d.conn.QueryRow(ctx, `SELECT "state", "seq", "generation", "row_counts", "unkeyed" FROM `+d.stateIdent()+` WHERE "id" = 1 FOR UPDATE`).
		Scan(&stored, &seq, &gen, &counts, &unkeyed)
	if err != nil {
		return fmt.Errorf("reading %s: %w", StateTable, err)
	}
	if !d.shared && gen != d.gen {
		return fmt.Errorf("schema %q is %w: another sync opened it", d.schema, ErrInUse)
	}
	var data []byte
	if doc != nil {
		if data, err = doc(stored); err != nil {
			return err
		}
	}
	if counts == nil {
		counts = make(map[string]int64)
	}
	for name, n := range d.delta {
		counts[name] += n
	}
	countsDoc, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	unkeyed = slices.DeleteFunc(unkeyed, func(name string) bool { _, ok := d.keyed[name]; return ok })
	for name, u := range d.keyed {
		if u {
			unkeyed = append(unkeyed, name)
		}
	}
	slices.Sort(unkeyed)
	if unkeyed == nil {
		unkeyed = []string{}
	}
	unkeyedDoc, err := json.Marshal(unkeyed)
	if err != nil {
		return err
	}
	var docArg any // NULL keeps the stored state
	if data != nil {
		docArg = string(data)
	}
	now := time.Now().UTC()
	if _, err := d.conn.Exec(ctx, `UPDATE `+d.stateIdent()+` SET "state" = coalesce($1, "state"), "seq" = $2, "row_counts" = $3, "updated_at" = $4, "unkeyed" = $5 WHERE "id" = 1`,
		docArg, seq+1, string(countsDoc), now, string(unkeyedDoc)); err != nil {
		return fmt.Errorf("writing %s: %w", StateTable, err)
	}
	if err := d.hook("commit"); err != nil {
		return err
	}
	d.commitSeq = seq + 1
	if _, err := d.conn.Exec(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	if d.testAfter != nil {
		if err := d.testAfter("commit"); err != nil {
			return err
		}
	}
	d.commitSeq = 0
	d.committed(seq+1, now)
	if data != nil {
		d.stateOK = true
	}
	return nil
}

// committed records that the transaction of sequence number seq
// committed: its records are durable.
func (d *DB) committed(seq int64, at time.Time) {
	d.inTx = false
	d.log = nil
	clear(d.delta)
	clear(d.keyed)
	d.lastSeq, d.lastAt = seq, at
}
