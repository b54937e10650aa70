package ops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/connectkit/connector/internal/atomicfile"
	"github.com/connectkit/connector/internal/filelock"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// DirOptions configures a [Dir]. The zero value is the defaults.
type DirOptions struct {
	// Now returns the time written to each operation (SyncedColumn),
	// read once per Write; nil means time.Now.
	Now func() time.Time
	// Logger receives warnings, such as a torn line repaired or a
	// temporary file removed; nil means slog.Default().
	Logger *slog.Logger
	// BufferSize is the size in bytes of the write buffer of each table
	// log; zero means 64 KiB.
	BufferSize int
}

// Dir is a [Destination] writing a directory of files that people and
// tools can read (see the package documentation for the layout, the line
// format and the durability protocol). It keeps the state of its
// checkpoints in the directory, so it is a [StateLoader] (and a
// [StateMerger]). Make one with [OpenDir]; read one back with [ReadDir].
//
// Operations are appended to the table's log through a buffer.
// Checkpoint flushes and fsyncs the logs written since the last
// checkpoint, then appends the state, with how much of each log it
// covers, to the checkpoint journal and fsyncs it: a state on disk never
// covers an operation that is not, and a log that is missing, shorter or
// different from what the last checkpoint covered is found when the
// directory is opened, as corruption ([ErrCorrupt]), never silently
// recreated.
//
// Operations need a table prepared by this Dir: a table only declared in
// the directory's schema.json by an earlier run is an unknown table until
// Prepare declares it again.
//
// After an error writing a log, every later operation fails: close the
// Dir and open it again. A Dir is safe for concurrent use; it holds an
// exclusive lock on its directory from OpenDir to Close, so that a
// second Dir, in this process or another, cannot write it at the same
// time ([ErrLocked]).
type Dir struct {
	path    string
	now     func() time.Time
	log     *slog.Logger
	bufSize int
	lock    *filelock.File
	bufs    sync.Pool // of *writeBuf

	// mu is held for reading by Write and Checkpoint, and for writing
	// by Prepare and Close, which change the tables.
	mu         sync.RWMutex
	schema     catalog              // every table of schema.json
	schemaData []byte               // schema.json as last read or written
	logs       map[string]*dirTable // every open log, by table name
	tables     map[string]*dirTable // the tables prepared by this Dir
	closed     bool

	failMu sync.Mutex
	failed error // the write error that makes the Dir unusable

	sumMu   sync.Mutex
	summary map[string]Summary

	// ckMu serializes the checkpoints, and guards what follows.
	ckMu        sync.Mutex
	journal     *os.File // nil until the first checkpoint of a new directory
	journalSize int64
	last        record       // the last checkpoint; Seq 0 if none (Logs nil)
	st          *state.State // its state
	stErr       error        // the stored state cannot be read: never overwritten
	legacy      bool         // the state is in a state.json of an older version
}

// dirTable is the open log of a table.
type dirTable struct {
	path  string
	f     *os.File
	table *schema.Compiled // nil until prepared
	cols  []schema.Column
	isKey []bool // by position: whether the column is in the primary key

	mu    sync.Mutex
	w     *bufio.Writer
	mark  logMark // of everything written, flushed or not
	dirty bool    // written since the last fsync
}

// writeBuf is the scratch memory of one Write call.
type writeBuf struct {
	at   []byte // the formatted time of the Write
	line []byte // the lines of a run of operations on one table
}

var _ StateMerger = (*Dir)(nil)

// ErrLocked is wrapped by the error of [OpenDir] for a directory that
// another Dir, in this process or another, has open: it is in use by
// another sync. Other destinations that lock their storage, such as
// ops/sqldest's Open, wrap it too.
var ErrLocked = errors.New("destination in use by another sync")

// errClosed is returned for an operation on a closed Dir.
var errClosed = errors.New("ops: directory destination is closed")

// The other files of a Dir.
const (
	lockFileName = ".lock"
	// legacyStateFileName is where versions before the journal kept the
	// state; it is read if there is no journal, and removed by the first
	// checkpoint.
	legacyStateFileName = "state.json"
)

// OpenDir opens the destination directory at path, creating it (mode
// 0700) if needed, and locks it until Close: if another Dir has it open,
// the error wraps [ErrLocked]. It removes the temporary files of atomic
// writes that a killed process left, reads schema.json and the checkpoint
// journal, and checks every table log against the last checkpoint, which
// reads each log once: a log that is missing, shorter, or whose covered
// bytes differ from what the checkpoint recorded, and any invalid line
// that a crash cannot have left, is an error wrapping [ErrCorrupt]. A
// last line cut short by a crash, after what the checkpoint covers, is
// cut off with a logged warning.
func OpenDir(path string, opts DirOptions) (_ *Dir, err error) {
	wrap := func(err error) error { return fmt.Errorf("ops: opening %s: %w", path, err) }
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, wrap(err)
	}
	lock, err := filelock.Lock(filepath.Join(path, lockFileName))
	if errors.Is(err, filelock.ErrLocked) {
		return nil, wrap(fmt.Errorf("%w: %w", ErrLocked, err))
	}
	if err != nil {
		return nil, wrap(err)
	}
	d := &Dir{
		path:    path,
		now:     opts.Now,
		log:     opts.Logger,
		bufSize: opts.BufferSize,
		lock:    lock,
		logs:    make(map[string]*dirTable),
		tables:  make(map[string]*dirTable),
		summary: map[string]Summary{"": {}},
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
	defer func() {
		if err != nil {
			d.closeFiles(false)
		}
	}()
	if err := d.removeTemp(); err != nil {
		return nil, wrap(err)
	}
	if d.schema, d.schemaData, err = readSchema(filepath.Join(path, schemaFileName)); err != nil {
		return nil, wrap(err)
	}
	if err := d.openJournal(); err != nil {
		return nil, wrap(err)
	}
	if err := d.openLogs(); err != nil {
		return nil, wrap(err)
	}
	return d, nil
}

// removeTemp removes the temporary files of the atomic writes of the
// directory's files left by a killed process.
func (d *Dir) removeTemp() error {
	for _, base := range []string{schemaFileName, journalFileName, legacyStateFileName} {
		removed, err := atomicfile.RemoveTemp(d.path, base)
		if err != nil {
			return fmt.Errorf("removing temporary files: %w", err)
		}
		for _, name := range removed {
			d.log.Warn("ops: removed a temporary file left by an interrupted write", "path", filepath.Join(d.path, name))
		}
	}
	return nil
}

// openJournal reads the checkpoint journal, or a state.json of an older
// version, and opens the journal for appending, cutting a torn last line
// off it.
func (d *Dir) openJournal() error {
	path := filepath.Join(d.path, journalFileName)
	j, err := readJournal(path)
	if err != nil {
		return err
	}
	if j.last == nil {
		st, err := state.NewFile(filepath.Join(d.path, legacyStateFileName)).Load(context.Background())
		if err != nil {
			d.stErr = err
		}
		d.st = st
		if _, err := os.Stat(filepath.Join(d.path, legacyStateFileName)); err == nil {
			d.legacy = true
		}
	} else {
		d.last, d.st, d.stErr = *j.last, j.state, j.stateErr
	}
	if j.size == 0 && j.torn == 0 {
		return nil // no journal yet, or an empty one: created at the first checkpoint
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	d.journal, d.journalSize = f, j.size
	if j.torn > 0 {
		if err := f.Truncate(j.size); err != nil {
			return fmt.Errorf("cutting the torn last line of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", path, err)
		}
		d.log.Warn("ops: removed the torn last line of the checkpoint journal, a checkpoint cut short by a crash; the checkpoint before it holds",
			"path", path, "offset", j.size, "bytes", j.torn)
	}
	return nil
}

// openLogs opens and checks the log of every table of schema.json that
// has one, and of every table the last checkpoint covers, which must.
func (d *Dir) openLogs() error {
	for name := range d.last.Logs {
		if d.schema[name] == nil {
			return fmt.Errorf("%w: the last checkpoint covers table %q, which %s does not declare", ErrCorrupt, name, schemaFileName)
		}
	}
	for _, name := range d.schema.sortedNames() {
		t := d.schema[name]
		path := filepath.Join(d.path, name+logExt)
		covered, known := d.last.Logs[name]
		// Never O_CREATE here: a log the checkpoint knows must exist.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
		if errors.Is(err, os.ErrNotExist) && !known {
			continue // created by Prepare
		}
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: %w: the last checkpoint covers its first %d bytes (%d operations), but it is missing", path, ErrCorrupt, covered.Bytes, covered.Lines)
		}
		if err != nil {
			return err
		}
		dt := &dirTable{path: path, f: f}
		d.logs[name] = dt
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		s, err := scanLog(f, fi.Size(), path, t, covered, nil)
		if err != nil {
			return err
		}
		if s.torn > 0 {
			if err := f.Truncate(s.end); err != nil {
				return fmt.Errorf("cutting the torn last line of %s: %w", path, err)
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("syncing %s: %w", path, err)
			}
			d.log.Warn("ops: removed a torn last line, a write cut short by a crash after the last checkpoint; the operations before it are intact",
				"path", path, "offset", s.end, "bytes", s.torn)
		}
		dt.mark = s.mark
		dt.w = bufio.NewWriterSize(f, d.bufSize)
	}
	return nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// Prepare declares tables: it writes schema.json (atomically, and only
// if it changes) with these tables and those declared in the directory
// before, then creates the logs of new tables (mode 0600). Table names
// must be usable as file names; a table declared before may only gain
// columns (see [ErrSchemaChange]). On a validation error nothing is
// changed.
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
	created := false
	for _, t := range compiled {
		dt := d.logs[t.Name()]
		if dt == nil {
			path := filepath.Join(d.path, t.Name()+logExt)
			f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("ops: preparing table %q: creating %s: %w", t.Name(), path, err)
			}
			dt = &dirTable{path: path, f: f, w: bufio.NewWriterSize(f, d.bufSize)}
			d.logs[t.Name()] = dt
			created = true
		}
		cols := t.Table().Columns
		isKey := make([]bool, len(cols))
		for _, k := range t.Table().PrimaryKey {
			isKey[slices.IndexFunc(cols, func(c schema.Column) bool { return c.Name == k })] = true
		}
		dt.mu.Lock()
		dt.table, dt.cols, dt.isKey = t, cols, isKey
		dt.mu.Unlock()
		if d.tables[t.Name()] == nil {
			d.tables[t.Name()] = dt
			d.sumMu.Lock()
			d.summary[t.Name()] = Summary{}
			d.sumMu.Unlock()
		}
	}
	if created {
		// Make the names of the logs just created durable.
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

// usable returns the error that stops d from writing, if any. d.mu must
// be held.
func (d *Dir) usable() error {
	if d.closed {
		return errClosed
	}
	d.failMu.Lock()
	defer d.failMu.Unlock()
	if d.failed != nil {
		return fmt.Errorf("ops: an earlier write failed, close and reopen the directory: %w", d.failed)
	}
	return nil
}

// fail records err, a write error after which what the files hold is
// unknown, as the one that makes d unusable, and returns it.
func (d *Dir) fail(err error) error {
	d.failMu.Lock()
	defer d.failMu.Unlock()
	if d.failed == nil {
		d.failed = err
	}
	return err
}

// Write appends the lines of ops to their tables' logs, through the
// logs' buffers, with one time for the whole batch: each run of
// operations on one table is encoded first, then appended under that
// table's lock, so that Writes on other tables go on meanwhile. An
// operation on a table this Dir did not prepare is an error wrapping
// [schema.ErrUnknownTable]; the operations before it are written. A
// failure to write makes d unusable.
func (d *Dir) Write(ctx context.Context, ops []Op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: writing: %w", err)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if err := d.usable(); err != nil {
		return err
	}
	wb := d.writeBuf()
	defer d.putWriteBuf(wb)
	wb.at = d.now().UTC().AppendFormat(wb.at[:0], time.RFC3339Nano)
	for i := 0; i < len(ops); {
		dt := d.tables[ops[i].Table]
		if dt == nil {
			return fmt.Errorf("ops: %v in table %q: %w", ops[i].Kind, ops[i].Table, schema.ErrUnknownTable)
		}
		j := i
		for j < len(ops) && ops[j].Table == ops[i].Table {
			j++
		}
		if err := d.writeRun(dt, wb, ops[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// writeRun appends the lines of ops, all on the table of dt.
func (d *Dir) writeRun(dt *dirTable, wb *writeBuf, ops []Op) error {
	dt.mu.Lock()
	cols, isKey := dt.cols, dt.isKey
	dt.mu.Unlock()
	b := wb.line[:0]
	var sum Summary
	for i := range ops {
		op := &ops[i]
		if op.Kind.hasRow() && len(op.Row) != len(cols) {
			return fmt.Errorf("ops: %v in table %q: %d values for %d columns", op.Kind, op.Table, len(op.Row), len(cols))
		}
		if op.Kind < OpUpsert || op.Kind > OpDeleteChildren {
			return fmt.Errorf("ops: in table %q: invalid operation kind %d", op.Table, uint8(op.Kind))
		}
		b = appendLineHead(b, op.Kind, wb.at, op.Kind.hasRow())
		if op.Kind.hasRow() {
			var err error
			if b, err = appendRow(b, cols, isKey, op); err != nil {
				return fmt.Errorf("ops: %v in table %q: %w", op.Kind, op.Table, err)
			}
		}
		b = append(b, lineEnd...)
		sum.Count(op.Kind)
	}
	wb.line = b
	dt.mu.Lock()
	dt.dirty = true
	_, err := dt.w.Write(b)
	dt.mark.Bytes += int64(len(b))
	dt.mark.Lines += int64(len(ops))
	dt.mark.CRC = crcHex(crc32.Update(uint32(dt.mark.CRC), crcTable, b))
	dt.mu.Unlock()
	if err != nil {
		return d.fail(fmt.Errorf("ops: writing %s: %w", dt.path, err))
	}
	d.sumMu.Lock()
	d.summary[ops[0].Table] = d.summary[ops[0].Table].Add(sum)
	d.sumMu.Unlock()
	return nil
}

func (d *Dir) writeBuf() *writeBuf {
	if wb, ok := d.bufs.Get().(*writeBuf); ok {
		return wb
	}
	return &writeBuf{line: make([]byte, 0, 4096)}
}

func (d *Dir) putWriteBuf(wb *writeBuf) {
	if cap(wb.line) <= 1<<20 {
		d.bufs.Put(wb)
	}
}

// Checkpoint makes the operations before it durable, then records st:
// it flushes and fsyncs every table log written since the last
// checkpoint, then appends st, with how much of each log it covers, to
// the checkpoint journal and fsyncs that (and, when it creates the
// journal, the directory). A failure to write or sync the logs or the
// journal makes d unusable. st is not kept. A stored state that cannot
// be read ([state.ErrCorrupt]) is never overwritten: Checkpoint then
// fails.
func (d *Dir) Checkpoint(ctx context.Context, st *state.State) error {
	if st == nil {
		return errors.New("ops: checkpointing: nil state")
	}
	return d.checkpoint(ctx, func(*state.State) (*state.State, error) { return st, nil })
}

// CheckpointMerge is Checkpoint of merge's result for the state of the
// last checkpoint ([state.New] if none), under the lock that orders the
// checkpoints.
func (d *Dir) CheckpointMerge(ctx context.Context, merge func(stored *state.State) (*state.State, error)) error {
	return d.checkpoint(ctx, merge)
}

func (d *Dir) checkpoint(ctx context.Context, merge func(*state.State) (*state.State, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	d.ckMu.Lock()
	defer d.ckMu.Unlock()
	d.mu.RLock()
	defer d.mu.RUnlock()
	if err := d.usable(); err != nil {
		return err
	}
	if d.stErr != nil {
		return fmt.Errorf("ops: checkpointing: the stored state cannot be read and is kept: %w", d.stErr)
	}
	st, err := merge(d.st.Clone())
	if err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	if st == nil {
		return errors.New("ops: checkpointing: nil state")
	}
	doc, err := compactState(st)
	if err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	marks, err := d.flushLogs()
	if err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	rec := record{Seq: d.last.Seq + 1, At: time.Now().UTC(), Logs: marks, State: doc}
	line, err := encodeRecord(&rec)
	if err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	if err := d.appendJournal(line); err != nil {
		return fmt.Errorf("ops: checkpointing: %w", err)
	}
	d.last, d.st = rec, st.Clone()
	d.sumMu.Lock()
	s := d.summary[""]
	s.Checkpoints++
	d.summary[""] = s
	d.sumMu.Unlock()
	if d.journalSize > max(journalCompactSize, 8*int64(len(line))) {
		d.compactJournal(line)
	}
	return nil
}

// flushLogs flushes and fsyncs the logs written since the last fsync,
// and returns the coverage of every log. A failure makes d unusable.
// d.ckMu and d.mu (for reading) must be held.
func (d *Dir) flushLogs() (map[string]logMark, error) {
	marks := make(map[string]logMark, len(d.logs))
	var toSync []*dirTable
	for name, dt := range d.logs {
		dt.mu.Lock()
		if dt.dirty {
			if err := dt.w.Flush(); err != nil {
				dt.mu.Unlock()
				return nil, d.fail(fmt.Errorf("flushing %s: %w", dt.path, err))
			}
			dt.dirty = false
			toSync = append(toSync, dt)
		}
		marks[name] = dt.mark
		dt.mu.Unlock()
	}
	// Writers may append meanwhile: an fsync covers at least what was
	// flushed before it. The logs need no order among themselves, so
	// several are synced at once, which file systems with a journal
	// commit together.
	errs := make([]error, len(toSync))
	var wg sync.WaitGroup
	for i, dt := range toSync[min(1, len(toSync)):] {
		wg.Go(func() { errs[i+1] = dt.f.Sync() })
	}
	if len(toSync) > 0 {
		errs[0] = toSync[0].f.Sync()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, d.fail(fmt.Errorf("syncing %s: %w", toSync[i].path, err))
		}
	}
	return marks, nil
}

// appendJournal appends line to the checkpoint journal and fsyncs it,
// creating the journal if needed. d.ckMu must be held.
func (d *Dir) appendJournal(line []byte) error {
	path := filepath.Join(d.path, journalFileName)
	created := false
	if d.journal == nil {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("creating %s: %w", path, err)
		}
		d.journal, d.journalSize, created = f, 0, true
	}
	if _, err := d.journal.Write(line); err != nil {
		// Cut what may have been written, so that the next checkpoint
		// starts a line where it should.
		if terr := d.journal.Truncate(d.journalSize); terr != nil {
			return d.fail(fmt.Errorf("writing %s: %w; cutting it back: %w", path, err, terr))
		}
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := d.journal.Sync(); err != nil {
		return d.fail(fmt.Errorf("syncing %s: %w", path, err))
	}
	d.journalSize += int64(len(line))
	if created {
		if err := atomicfile.SyncDir(d.path); err != nil {
			return d.fail(err)
		}
	}
	if d.legacy {
		// The journal now holds the state: the older state.json goes.
		legacy := filepath.Join(d.path, legacyStateFileName)
		if err := os.Remove(legacy); err != nil && !errors.Is(err, os.ErrNotExist) {
			d.log.Warn("ops: could not remove the state file of an older version, which the checkpoint journal replaces", "path", legacy, "err", err)
		} else if err := atomicfile.SyncDir(d.path); err != nil {
			return d.fail(err)
		}
		d.legacy = false
	}
	return nil
}

// compactJournal replaces the journal by its last line, atomically. A
// failure leaves the journal as it was, and is logged. d.ckMu must be
// held.
func (d *Dir) compactJournal(line []byte) {
	path := filepath.Join(d.path, journalFileName)
	// Closed first: Windows cannot rename over an open file.
	if err := d.journal.Close(); err != nil {
		d.fail(fmt.Errorf("closing %s: %w", path, err))
		return
	}
	d.journal = nil
	size := int64(len(line))
	if err := atomicfile.WriteFile(path, line, 0o600); err != nil {
		d.log.Warn("ops: could not compact the checkpoint journal; it is intact", "path", path, "err", err)
		size = d.journalSize
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		d.fail(fmt.Errorf("reopening %s: %w", path, err))
		return
	}
	d.journal, d.journalSize = f, size
}

// LoadState returns the state of the last checkpoint, or [state.New] if
// there is none. A stored state that cannot be read is an error wrapping
// [state.ErrCorrupt], and Checkpoint will not overwrite it.
func (d *Dir) LoadState(ctx context.Context) (*state.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ops: loading state: %w", err)
	}
	d.ckMu.Lock()
	defer d.ckMu.Unlock()
	if d.stErr != nil {
		return nil, fmt.Errorf("ops: loading state: %w", d.stErr)
	}
	if d.st == nil {
		return state.New(), nil
	}
	return d.st.Clone(), nil
}

// Summary returns the operations written per table prepared by d. The
// entry for the empty name "" counts the checkpoints.
func (d *Dir) Summary() map[string]Summary {
	d.sumMu.Lock()
	defer d.sumMu.Unlock()
	out := make(map[string]Summary, len(d.summary))
	for k, v := range d.summary {
		out[k] = v
	}
	return out
}

// Close flushes the table logs, closes them and releases the directory.
// It does not fsync them nor write a checkpoint: what is not covered by
// a checkpoint is replayed, but a connector resumes from the last
// checkpoint and writes it again. Closing a closed Dir does nothing.
func (d *Dir) Close() error {
	d.ckMu.Lock()
	defer d.ckMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if err := d.closeFiles(true); err != nil {
		return fmt.Errorf("ops: closing %s: %w", d.path, err)
	}
	return nil
}

// Abandon releases the directory as a killed process would: it closes
// the files and releases the lock without flushing the buffered
// operations or writing anything, and d is closed. It is for tests that
// simulate a crash in process, so that the directory can be opened again
// (and checked, with [ReadDir] or [OpenDir]) while d is not closed
// properly. Abandoning a closed Dir does nothing.
func (d *Dir) Abandon() error {
	d.ckMu.Lock()
	defer d.ckMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if err := d.closeFiles(false); err != nil {
		return fmt.Errorf("ops: abandoning %s: %w", d.path, err)
	}
	return nil
}

// closeFiles closes every file of d, flushing the logs first if flush
// and no write failed, and releases the lock.
func (d *Dir) closeFiles(flush bool) error {
	d.failMu.Lock()
	flush = flush && d.failed == nil
	d.failMu.Unlock()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(d.logs)) {
		dt := d.logs[name]
		if flush && dt.w != nil {
			if err := dt.w.Flush(); err != nil {
				errs = append(errs, fmt.Errorf("flushing %s: %w", dt.path, err))
			}
		}
		if err := dt.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", dt.path, err))
		}
	}
	if d.journal != nil {
		if err := d.journal.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := d.lock.Unlock(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
