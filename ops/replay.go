package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// Snapshot is the content of a [Dir] directory, replayed by [ReadDir]:
// the current rows of each declared table and the checkpointed state.
type Snapshot struct {
	// Tables are the tables of schema.json, sorted by name.
	Tables []schema.Table
	// State is the state of the last checkpoint, or [state.New] without
	// one. It covers a prefix of the operations replayed: operations
	// written after the last checkpoint are replayed too.
	State *state.State
	// Torn names the tables whose log ended with a torn line (a write
	// cut short by a crash, after the last checkpoint), which was
	// ignored.
	Torn []string
	// Operations counts the lines replayed, torn ones excluded.
	Operations int
	// Pending counts the operations replayed that the last checkpoint
	// does not cover: those a sync resuming from State writes again.
	Pending int
	// PendingBytes is the size of their lines.
	PendingBytes int64

	rows map[string]*rowSet
}

// ReadDir replays the directory written by a [Dir] at path: for each
// table of schema.json, it applies the operations of its log in order,
// with the semantics described at [Memory], decoding each row through the
// declared table so that values have their canonical Go types again.
//
// It checks the logs as [OpenDir] does: a log missing, shorter or
// different from what the last checkpoint covered, or holding an invalid
// line, is an error wrapping [ErrCorrupt] that names the file and the
// line; a last line cut short by a crash, after what the checkpoint
// covers, is ignored and reported in Snapshot.Torn. A directory without
// schema.json is an error wrapping [os.ErrNotExist]; a checkpointed state
// that cannot be decoded is an error wrapping [state.ErrCorrupt].
//
// ReadDir only reads, without the Dir's lock. It may run while a Dir
// writes the directory, and then sees the operations flushed so far.
func ReadDir(path string) (*Snapshot, error) {
	wrap := func(err error) error { return fmt.Errorf("ops: reading %s: %w", path, err) }
	schemaPath := filepath.Join(path, schemaFileName)
	if _, err := os.Stat(schemaPath); err != nil {
		return nil, wrap(err)
	}
	c, _, err := readSchema(schemaPath)
	if err != nil {
		return nil, wrap(err)
	}
	j, err := readJournal(filepath.Join(path, journalFileName))
	if err != nil {
		return nil, wrap(err)
	}
	snap := &Snapshot{State: j.state, rows: make(map[string]*rowSet, len(c))}
	var covered map[string]logMark
	switch {
	case j.stateErr != nil:
		return nil, wrap(j.stateErr)
	case j.last != nil:
		covered = j.last.Logs
	default:
		if snap.State, err = state.NewFile(filepath.Join(path, legacyStateFileName)).Load(context.Background()); err != nil {
			return nil, wrap(err)
		}
	}
	for name := range covered {
		if c[name] == nil {
			return nil, wrap(fmt.Errorf("%w: the last checkpoint covers table %q, which %s does not declare", ErrCorrupt, name, schemaFileName))
		}
	}
	for _, name := range c.sortedNames() {
		t := c[name]
		snap.Tables = append(snap.Tables, t.Table())
		rs := newRowSet(t)
		snap.rows[name] = rs
		if err := snap.replay(filepath.Join(path, name+logExt), rs, covered); err != nil {
			return nil, wrap(err)
		}
	}
	return snap, nil
}

// replay applies the operations of the log at path to rs.
func (s *Snapshot) replay(path string, rs *rowSet, covered map[string]logMark) error {
	name := rs.table.Name()
	mark, known := covered[name]
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && !known {
		return nil // no operation yet
	}
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w: the last checkpoint covers its first %d bytes (%d operations), but it is missing", path, ErrCorrupt, mark.Bytes, mark.Lines)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	var applyErr error
	ls, err := scanLog(f, fi.Size(), path, rs.table, mark, func(op *Op, at time.Time) {
		if err := rs.apply(op, at); err != nil && applyErr == nil {
			applyErr = fmt.Errorf("%s: %w", path, err)
		}
		s.Operations++
	})
	if err != nil {
		return err
	}
	if applyErr != nil {
		return applyErr
	}
	s.Pending += int(ls.pending)
	s.PendingBytes += ls.end - mark.Bytes
	if ls.torn > 0 {
		s.Torn = append(s.Torn, name)
	}
	return nil
}

// Rows returns copies of every row of table, deleted ones included, with
// SyncedColumn and DeletedColumn, sorted by key, like [Memory.Rows].
func (s *Snapshot) Rows(table string) []schema.Row {
	if rs := s.rows[table]; rs != nil {
		return rs.sorted()
	}
	return nil
}

// Live returns copies of the rows of table not marked deleted, by key,
// without the system columns, like [Memory.Live].
func (s *Snapshot) Live(table string) map[string]schema.Row {
	if rs := s.rows[table]; rs != nil {
		return rs.live()
	}
	return nil
}
