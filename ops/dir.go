package ops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/connectkit/connector/internal/atomicfile"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// DirOptions configures a [Dir]. The zero value is the defaults.
type DirOptions struct {
	// Now returns the time written to each operation (SyncedColumn);
	// nil means time.Now.
	Now func() time.Time
	// Logger receives warnings, such as a torn line repaired or a large
	// state; nil means slog.Default().
	Logger *slog.Logger
	// BufferSize is the size in bytes of the write buffer of each table
	// log; zero means 64 KiB.
	BufferSize int
}

// Dir is a [Destination] writing a directory of files that people and
// tools can read (see the package documentation for the layout and the
// line format), and a [state.Store] for the state.json in it. Make one
// with [OpenDir]; read one back with [ReadDir].
//
// Operations are appended to the table's log through a buffer. Checkpoint
// flushes and fsyncs every log written since the last checkpoint, then
// replaces state.json atomically, so that a state on disk never covers an
// operation that is not. A Dir does not keep the rows it is given, but
// converts them in place with the Normalize methods of
// [schema.Compiled], as the rows belong to the destination once handed
// over.
//
// Operations need a table prepared by this Dir: a table only declared in
// the directory's schema.json by an earlier run is an unknown table until
// Prepare declares it again.
//
// After an error writing a log, every later operation fails: close the
// Dir and open it again, which repairs the log's end. A Dir is safe for
// concurrent use. Only one Dir, in one process, may write a directory at
// a time; nothing checks that.
type Dir struct {
	path    string
	now     func() time.Time
	log     *slog.Logger
	bufSize int
	state   *state.File

	mu         sync.Mutex
	schema     catalog              // every table of schema.json
	schemaData []byte               // schema.json as last read or written
	tables     map[string]*dirTable // the tables prepared by this Dir
	summary    map[string]Summary
	at         []byte // the time of the Write being written, formatted
	line       []byte // the line being written
	err        error  // the write error that makes the Dir unusable
	closed     bool
}

// dirTable is the open log of a prepared table.
type dirTable struct {
	table *schema.Compiled
	cols  []schema.Column
	isKey []bool // by position: whether the column is in the primary key
	path  string
	f     *os.File
	w     *bufio.Writer
	dirty bool // written since the last sync
}

var _ StateMerger = (*Dir)(nil)

// errClosed is returned for an operation on a closed Dir.
var errClosed = errors.New("ops: directory destination is closed")

// OpenDir opens the destination directory at path, creating it (mode
// 0700) if needed. An existing directory is appended to: its schema.json
// is read now, and a table's log is checked when Prepare opens it. A
// corrupt schema.json is an error wrapping [ErrCorrupt].
func OpenDir(path string, opts DirOptions) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("ops: opening %s: %w", path, err)
	}
	c, data, err := readSchema(filepath.Join(path, schemaFileName))
	if err != nil {
		return nil, fmt.Errorf("ops: opening %s: %w", path, err)
	}
	d := &Dir{
		path:       path,
		now:        opts.Now,
		log:        opts.Logger,
		bufSize:    opts.BufferSize,
		state:      state.NewFile(filepath.Join(path, stateFileName)),
		schema:     c,
		schemaData: data,
		tables:     make(map[string]*dirTable),
		summary:    map[string]Summary{"": {}},
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.bufSize <= 0 {
		d.bufSize = 64 << 10
	}
	d.state.Logger = d.log
	return d, nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// Prepare declares tables: it writes schema.json (atomically, and only
// if it changes) with these tables and those declared in the directory
// before, then opens each table's log for appending, cutting a torn last
// line off it with a logged warning. Table names must be usable as file
// names; a table declared before may only gain columns (see
// [ErrSchemaChange]). On a validation error nothing is changed.
func (d *Dir) Prepare(ctx context.Context, tables []schema.Table) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: preparing tables: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	next, compiled, err := d.schema.declare(tables, checkFileName)
	if err != nil {
		return err
	}
	if err := checkFolding(next); err != nil {
		return err
	}
	data, err := encodeSchema(next)
	if err != nil {
		return fmt.Errorf("ops: preparing tables: encoding %s: %w", schemaFileName, err)
	}
	if string(data) != string(d.schemaData) {
		path := filepath.Join(d.path, schemaFileName)
		if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("ops: preparing tables: writing %s: %w", path, err)
		}
		d.schemaData = data
	}
	d.schema = next
	opened := false
	for _, t := range compiled {
		cols := t.Table().Columns
		isKey := make([]bool, len(cols))
		for _, k := range t.Table().PrimaryKey {
			for i, c := range cols {
				if c.Name == k {
					isKey[i] = true
				}
			}
		}
		if dt := d.tables[t.Name()]; dt != nil {
			dt.table, dt.cols, dt.isKey = t, cols, isKey
			continue
		}
		dt, err := d.openLog(t)
		if err != nil {
			return err
		}
		dt.cols, dt.isKey = cols, isKey
		d.tables[t.Name()] = dt
		d.summary[t.Name()] = Summary{}
		opened = true
	}
	if opened {
		// Make the names of logs just created durable.
		if err := atomicfile.SyncDir(d.path); err != nil {
			return fmt.Errorf("ops: preparing tables: %w", err)
		}
	}
	return nil
}

// checkFolding rejects two table names that differ only in case, whose
// logs would be one file on a case-insensitive file system.
func checkFolding(c catalog) error {
	seen := make(map[string]string, len(c))
	for _, name := range c.sortedNames() {
		folded := strings.ToLower(name)
		if other, ok := seen[folded]; ok {
			return fmt.Errorf("ops: preparing table %q: its log file would be the same as table %q's on a case-insensitive file system", name, other)
		}
		seen[folded] = name
	}
	return nil
}

// openLog opens the log of t for appending and repairs its end.
func (d *Dir) openLog(t *schema.Compiled) (*dirTable, error) {
	path := filepath.Join(d.path, t.Name()+logExt)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ops: preparing table %q: opening %s: %w", t.Name(), path, err)
	}
	before, after, err := repairTail(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ops: preparing table %q: checking the end of %s: %w", t.Name(), path, err)
	}
	if after < before {
		d.log.Warn("ops: removed a torn last line, a write cut short by a crash; the operations before it are intact",
			"path", path, "offset", after, "bytes", before-after)
	}
	return &dirTable{table: t, path: path, f: f, w: bufio.NewWriterSize(f, d.bufSize)}, nil
}

// usable returns the error that stops d from writing, if any. d.mu must
// be held.
func (d *Dir) usable() error {
	if d.closed {
		return errClosed
	}
	if d.err != nil {
		return fmt.Errorf("ops: an earlier write failed, close and reopen the directory: %w", d.err)
	}
	return nil
}

// Write appends the lines of ops to their tables' logs, through the
// logs' buffers, with one time for the whole batch. An operation on a
// table this Dir did not prepare is an error wrapping
// [schema.ErrUnknownTable]; the operations before it are written. A
// failure to write makes d unusable.
func (d *Dir) Write(ctx context.Context, ops []Op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: writing: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	d.at = d.now().UTC().AppendFormat(d.at[:0], time.RFC3339Nano)
	for i := range ops {
		op := &ops[i]
		dt := d.tables[op.Table]
		if dt == nil {
			return fmt.Errorf("ops: %v in table %q: %w", op.Kind, op.Table, schema.ErrUnknownTable)
		}
		if op.Kind.hasRow() && len(op.Row) != len(dt.cols) {
			return fmt.Errorf("ops: %v in table %q: %d values for %d columns", op.Kind, op.Table, len(op.Row), len(dt.cols))
		}
		b := appendLineHead(d.line[:0], op.Kind, d.at, op.Kind.hasRow())
		if op.Kind.hasRow() {
			var err error
			if b, err = appendRow(b, dt.cols, dt.isKey, op); err != nil {
				return fmt.Errorf("ops: %v in table %q: %w", op.Kind, op.Table, err)
			}
		}
		d.line = append(b, lineEnd...)
		if err := d.write(dt, d.line); err != nil {
			return fmt.Errorf("ops: %v in table %q: %w", op.Kind, op.Table, err)
		}
		s := d.summary[op.Table]
		s.Count(op.Kind)
		d.summary[op.Table] = s
	}
	return nil
}

// write writes one line to the table's buffer; a failure makes d
// unusable. d.mu must be held.
func (d *Dir) write(dt *dirTable, line []byte) error {
	dt.dirty = true
	if _, err := dt.w.Write(line); err != nil {
		d.err = fmt.Errorf("writing %s: %w", dt.path, err)
		return d.err
	}
	return nil
}

// Checkpoint makes the operations before it durable, then records st:
// it flushes and fsyncs every table log written since the last
// checkpoint, and only then replaces state.json atomically (a temporary
// file, fsync, rename, fsync of the directory). A failure to write the
// logs makes d unusable; a failure to write the state does not, and the
// next checkpoint tries again. st is not kept.
func (d *Dir) Checkpoint(ctx context.Context, st *state.State) error {
	if st == nil {
		return errors.New("ops: checkpointing: nil state")
	}
	return d.checkpoint(ctx, func(*state.State) (*state.State, error) { return st, nil }, false)
}

// CheckpointMerge is Checkpoint of merge's result for the state of
// state.json, read after the logs are durable, under the Dir's lock.
func (d *Dir) CheckpointMerge(ctx context.Context, merge func(stored *state.State) (*state.State, error)) error {
	return d.checkpoint(ctx, merge, true)
}

func (d *Dir) checkpoint(ctx context.Context, merge func(*state.State) (*state.State, error), load bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	if err := d.flushLogs(); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	var stored *state.State
	if load {
		var err error
		if stored, err = d.state.Load(ctx); err != nil {
			return fmt.Errorf("ops: checkpointing: %w", err)
		}
	}
	st, err := merge(stored)
	if err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	if st == nil {
		return errors.New("ops: checkpointing: nil state")
	}
	if err := d.state.Save(ctx, st); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	s := d.summary[""]
	s.Checkpoints++
	d.summary[""] = s
	return nil
}

// flushLogs flushes and fsyncs the logs written since the last
// checkpoint. A failure makes d unusable. d.mu must be held.
func (d *Dir) flushLogs() error {
	for _, name := range d.schema.sortedNames() {
		dt := d.tables[name]
		if dt == nil || !dt.dirty {
			continue
		}
		if err := dt.w.Flush(); err != nil {
			d.err = fmt.Errorf("flushing %s: %w", dt.path, err)
			return d.err
		}
		if err := dt.f.Sync(); err != nil {
			d.err = fmt.Errorf("syncing %s: %w", dt.path, err)
			return d.err
		}
		dt.dirty = false
	}
	return nil
}

// LoadState returns the state of state.json, or [state.New] if there is
// none. A corrupt state.json is an error wrapping [state.ErrCorrupt], and
// Checkpoint will not overwrite it.
func (d *Dir) LoadState(ctx context.Context) (*state.State, error) {
	return d.state.Load(ctx)
}

// Summary returns the operations written per table prepared by d. The
// entry for the empty name "" counts the checkpoints.
func (d *Dir) Summary() map[string]Summary {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]Summary, len(d.summary))
	for k, v := range d.summary {
		out[k] = v
	}
	return out
}

// Close flushes the table logs and closes them. It does not fsync them
// nor write the state: what is not covered by a checkpoint is replayed,
// but a connector resumes from the last checkpoint and writes it again.
// Closing a closed Dir does nothing.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, name := range d.schema.sortedNames() {
		dt := d.tables[name]
		if dt == nil {
			continue
		}
		if d.err == nil {
			if err := dt.w.Flush(); err != nil {
				errs = append(errs, fmt.Errorf("flushing %s: %w", dt.path, err))
			}
		}
		if err := dt.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", dt.path, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ops: closing %s: %w", d.path, err)
	}
	return nil
}
