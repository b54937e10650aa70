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
	rowBufs sync.Pool // of *[]byte, for encoding rows outside the lock

	mu         sync.Mutex
	schema     catalog              // every table of schema.json
	schemaData []byte               // schema.json as last read or written
	tables     map[string]*dirTable // the tables prepared by this Dir
	summary    map[string]Summary
	head       []byte // line heads, built under mu
	err        error  // the write error that makes the Dir unusable
	closed     bool
}

// dirTable is the open log of a prepared table.
type dirTable struct {
	table *schema.Compiled
	cols  []schema.Column
	path  string
	f     *os.File
	w     *bufio.Writer
	dirty bool // written since the last sync
}

var (
	_ Destination = (*Dir)(nil)
	_ state.Store = (*Dir)(nil)
)

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
		if dt := d.tables[t.Name()]; dt != nil {
			dt.table, dt.cols = t, cols
			continue
		}
		dt, err := d.openLog(t)
		if err != nil {
			return err
		}
		dt.cols = cols
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

// Upsert appends an upsert of row to the table's log.
func (d *Dir) Upsert(ctx context.Context, table string, row schema.Row) error {
	return d.apply(ctx, OpUpsert, table, row)
}

// Update appends an update of the columns of row, which holds the key, to
// the table's log.
func (d *Dir) Update(ctx context.Context, table string, row schema.Row) error {
	return d.apply(ctx, OpUpdate, table, row)
}

// Delete appends a delete of the row with the key in keys to the table's
// log.
func (d *Dir) Delete(ctx context.Context, table string, keys schema.Row) error {
	return d.apply(ctx, OpDelete, table, keys)
}

// Truncate appends a truncate to the table's log.
func (d *Dir) Truncate(ctx context.Context, table string) error {
	return d.apply(ctx, OpTruncate, table, nil)
}

func (d *Dir) apply(ctx context.Context, k Kind, table string, row schema.Row) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: %v in table %q: %w", k, table, err)
	}
	d.mu.Lock()
	dt := d.tables[table]
	var t *schema.Compiled
	var cols []schema.Column
	if dt != nil {
		t, cols = dt.table, dt.cols
	}
	d.mu.Unlock()
	if dt == nil {
		return fmt.Errorf("ops: %v in table %q: %w", k, table, schema.ErrUnknownTable)
	}

	// Check and encode the row outside the lock.
	var encoded []byte
	if k.hasRow() {
		var err error
		if row, err = k.Normalize(t, row); err != nil {
			return fmt.Errorf("ops: %v in table %q: %w", k, table, err)
		}
		buf := d.rowBuf()
		defer d.putRowBuf(buf)
		if *buf, err = appendRow((*buf)[:0], t, cols, row); err != nil {
			return fmt.Errorf("ops: %v in table %q: %w", k, table, err)
		}
		encoded = *buf
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	d.head = appendLineHead(d.head[:0], k, d.now(), k.hasRow())
	if err := d.write(dt, d.head, encoded, []byte(lineEnd)); err != nil {
		return fmt.Errorf("ops: %v in table %q: %w", k, table, err)
	}
	s := d.summary[table]
	s.Count(k)
	d.summary[table] = s
	return nil
}

// write writes the parts of one line to the table's buffer; a failure
// makes d unusable. d.mu must be held.
func (d *Dir) write(dt *dirTable, parts ...[]byte) error {
	dt.dirty = true
	for _, p := range parts {
		if _, err := dt.w.Write(p); err != nil {
			d.err = fmt.Errorf("writing %s: %w", dt.path, err)
			return d.err
		}
	}
	return nil
}

func (d *Dir) rowBuf() *[]byte {
	if b, ok := d.rowBufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 1024)
	return &b
}

func (d *Dir) putRowBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		d.rowBufs.Put(b)
	}
}

// Checkpoint makes the operations before it durable, then records st:
// it flushes and fsyncs every table log written since the last
// checkpoint, and only then replaces state.json atomically (a temporary
// file, fsync, rename, fsync of the directory). A failure to write the
// logs makes d unusable; a failure to write the state does not, and the
// next checkpoint tries again. st is not kept.
func (d *Dir) Checkpoint(ctx context.Context, st *state.State) error {
	if err := d.record(ctx, st); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.summary[""]
	s.Checkpoints++
	d.summary[""] = s
	return nil
}

// Save is Checkpoint without counting it in the Summary: it too makes the
// operations before it durable first, so that the state in the
// directory never runs ahead of its tables.
func (d *Dir) Save(ctx context.Context, st *state.State) error {
	return d.record(ctx, st)
}

func (d *Dir) record(ctx context.Context, st *state.State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	if st == nil {
		return errors.New("ops: checkpointing: nil state")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	if err := d.sync(); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	if err := d.state.Save(ctx, st); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	return nil
}

// sync flushes and fsyncs the logs written since the last sync. A
// failure makes d unusable. d.mu must be held.
func (d *Dir) sync() error {
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

// Load returns the state of state.json, or [state.New] if there is none.
// A corrupt state.json is an error wrapping [state.ErrCorrupt], and
// Checkpoint will not overwrite it.
func (d *Dir) Load(ctx context.Context) (*state.State, error) {
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
