package ops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// Snapshot is the content of a [Dir] directory, replayed by [ReadDir]:
// the current rows of each declared table and the checkpointed state.
type Snapshot struct {
	// Tables are the tables of schema.json, sorted by name.
	Tables []schema.Table
	// State is the content of state.json, or [state.New] without one.
	// It covers a prefix of the operations replayed: operations written
	// after the last checkpoint are replayed too.
	State *state.State
	// Torn names the tables whose log ended with a torn line (a write
	// cut short by a crash), which was ignored.
	Torn []string
	// Operations counts the lines replayed, torn ones excluded.
	Operations int

	rows map[string]*rowSet
}

// ReadDir replays the directory written by a [Dir] at path: for each
// table of schema.json, it applies the operations of its log in order,
// with the semantics described at [Memory], decoding each row through the
// declared table so that values have their canonical Go types again. A
// torn last line of a log is ignored and reported in Snapshot.Torn; any
// other invalid line is an error wrapping [ErrCorrupt] that names the
// file and the line number. A directory without schema.json is an error
// wrapping [os.ErrNotExist]; a corrupt state.json is an error wrapping
// [state.ErrCorrupt].
//
// ReadDir only reads. It may run while a Dir writes the directory, and
// then sees the operations flushed so far.
func ReadDir(path string) (*Snapshot, error) {
	schemaPath := filepath.Join(path, schemaFileName)
	if _, err := os.Stat(schemaPath); err != nil {
		return nil, fmt.Errorf("ops: reading %s: %w", path, err)
	}
	c, _, err := readSchema(schemaPath)
	if err != nil {
		return nil, fmt.Errorf("ops: reading %s: %w", path, err)
	}
	st, err := state.NewFile(filepath.Join(path, stateFileName)).Load(context.Background())
	if err != nil {
		return nil, fmt.Errorf("ops: reading %s: %w", path, err)
	}
	snap := &Snapshot{State: st, rows: make(map[string]*rowSet, len(c))}
	for _, name := range c.sortedNames() {
		t := c[name]
		snap.Tables = append(snap.Tables, t.Table())
		rs := newRowSet(t)
		snap.rows[name] = rs
		n, torn, err := replayLog(filepath.Join(path, name+logExt), rs)
		if err != nil {
			return nil, fmt.Errorf("ops: reading %s: %w", path, err)
		}
		snap.Operations += n
		if torn {
			snap.Torn = append(snap.Torn, name)
		}
	}
	return snap, nil
}

// replayLog applies the operations of the log at path to rs. A missing
// log has none. It returns how many it applied and whether the last line
// was torn.
func replayLog(path string, rs *rowSet) (n int, torn bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for lineNo := 1; ; lineNo++ {
		data, err := r.ReadBytes('\n')
		if err == io.EOF {
			return n, len(data) > 0, nil // a last line without "\n" is torn
		}
		if err != nil {
			return n, false, fmt.Errorf("reading %s: %w", path, err)
		}
		_, peekErr := r.Peek(1)
		last := peekErr == io.EOF
		l, err := decodeLine(data[:len(data)-1])
		if err != nil {
			if last {
				return n, true, nil
			}
			return n, false, fmt.Errorf("%s line %d: %w: %w", path, lineNo, ErrCorrupt, err)
		}
		op := Op{Kind: l.op, Table: rs.table.Name()}
		if l.row != nil {
			if op, err = decodeRow(rs.table, l.op, l.row); err != nil {
				return n, false, fmt.Errorf("%s line %d: %w: %w", path, lineNo, ErrCorrupt, err)
			}
		}
		rs.apply(&op, l.at)
		n++
	}
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
