package connector

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// maxBatch is the number of operations a Writer buffers before it hands
// them to the destination, if no Commit came first.
const maxBatch = 1024

// skipsLogged is how many skipped records a stream logs one by one; the
// others are counted and summed up when the stream ends.
const skipsLogged = 10

// Writer is a stream's handle on a run: it checks and normalizes the
// operations of the stream, for any table of the connector, hands them to
// the destination in batches, counts them per table, and commits the
// stream's state at page boundaries. A Writer is used by its table's
// Stream only, from one goroutine; its methods must not be called after
// Read returns.
type Writer struct {
	r      *runner
	t      *compiled // the stream's table, which owns the state
	logger *slog.Logger
	stats  *tableStats
	parent *Writer // for a partition's Writer, the stream's
	part   string  // the partition's ID; "" for the stream's Writer

	buf     []ops.Op // operations not yet handed to the destination
	skipped int64    // records skipped, for the log limit

	// Guarded by r.mu.
	seq          int64       // commits so far
	savedSeq     int64       // commits covered by a checkpoint
	sinceOps     int64       // operations handed over since the last checkpoint
	sinceStart   time.Time   // when the last checkpoint covered the stream
	checkpointed state.Table // the stream's state as of its last checkpoint
}

// Table returns the name of the stream's own table, whose entry of the
// state the stream owns.
func (w *Writer) Table() string { return w.t.Name }

// Schema returns the compiled declaration of the connector's table name,
// or nil if the connector has none of that name.
func (w *Writer) Schema(name string) *schema.Compiled {
	if t := w.r.tables[name]; t != nil {
		return t.schema
	}
	return nil
}

// Config returns the run's configuration.
func (w *Writer) Config() Config { return w.r.opts.Config }

// Logger returns the run's logger with the stream's table attached.
func (w *Writer) Logger() *slog.Logger { return w.logger }

// Now returns the run's clock reading (Options.Now).
func (w *Writer) Now() time.Time { return w.r.now() }

// State returns a copy of the stream's state as last committed: at the
// start of the run, the state of the last checkpoint.
func (w *Writer) State() state.Table {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	if t := w.r.st.Tables[w.t.Name]; t != nil {
		return *t.Clone()
	}
	return state.Table{}
}

// Upsert writes a full row of table, replacing any row with its primary
// key. row is a schema.Row (column names to values) or the schema.Values
// of a schema.Codec; a column the row does not hold is NULL. A row that
// does not fit the table is a *schema.ValueError naming the table, the
// column and the value: the stream may return it, or Skip the record.
// The row is handed over: the caller must not use it afterwards.
func (w *Writer) Upsert(ctx context.Context, table string, row schema.AnyRow) error {
	return w.write(ctx, ops.OpUpsert, table, row)
}

// Update writes the columns row holds, with its primary key, to the row
// of table with that key: other columns keep their values.
func (w *Writer) Update(ctx context.Context, table string, row schema.AnyRow) error {
	return w.write(ctx, ops.OpUpdate, table, row)
}

// Delete marks the row of table with the primary key in keys as deleted
// (a soft delete: the row stays, with ops.DeletedColumn set).
func (w *Writer) Delete(ctx context.Context, table string, keys schema.AnyRow) error {
	return w.write(ctx, ops.OpDelete, table, keys)
}

// Truncate marks every row written to table before it as deleted.
func (w *Writer) Truncate(ctx context.Context, table string) error {
	return w.write(ctx, ops.OpTruncate, table, nil)
}

// ReplaceChildren writes rows as every row of the child table that
// belongs to one parent now: the rows of table whose leading primary key
// columns equal parent's (a schema.Row of those columns, such as
// {"issue_id": 42} for a table keyed by (issue_id, label)) and that rows
// do not hold are marked deleted, and rows are upserted. A schema.Row
// child that lacks a parent key column gets the parent's value; a child
// whose value differs from the parent's is an error. With no rows, every
// child of the parent is marked deleted.
func (w *Writer) ReplaceChildren(ctx context.Context, table string, parent schema.Row, rows ...schema.AnyRow) error {
	t, err := w.table(ops.OpDeleteChildren, table)
	if err != nil {
		return err
	}
	del, err := ops.OpDeleteChildren.Normalize(t.schema, parent)
	if err != nil {
		return err
	}
	children := make([]ops.Op, 0, len(rows))
	n := del.Set.Len()
	parentKey := t.schema.KeyPrefix(del.Row, n)
	for _, row := range rows {
		if r, ok := row.(schema.Row); ok {
			for name, v := range parent {
				if _, has := r[name]; !has {
					r[name] = v
				}
			}
		}
		op, err := ops.OpUpsert.Normalize(t.schema, row)
		if err != nil {
			return err
		}
		if got := t.schema.KeyPrefix(op.Row, n); got != parentKey {
			return fmt.Errorf("connector: table %q: a child's parent key %s is not the parent's %s", table, got, parentKey)
		}
		children = append(children, op)
	}
	w.buf = append(w.buf, del)
	w.buf = append(w.buf, children...)
	return w.flushIfFull(ctx)
}

// table returns the connector's table name, for an operation of kind k.
func (w *Writer) table(k ops.Kind, name string) (*compiled, error) {
	t := w.r.tables[name]
	if t == nil {
		return nil, fmt.Errorf("connector: %v in table %q: %w", k, name, schema.ErrUnknownTable)
	}
	return t, nil
}

// write checks row for an operation of kind k on table and buffers it.
func (w *Writer) write(ctx context.Context, k ops.Kind, table string, row schema.AnyRow) error {
	t, err := w.table(k, table)
	if err != nil {
		return err
	}
	op, err := k.Normalize(t.schema, row)
	if err != nil {
		return err
	}
	w.buf = append(w.buf, op)
	return w.flushIfFull(ctx)
}

func (w *Writer) flushIfFull(ctx context.Context) error {
	if len(w.buf) < maxBatch {
		return nil
	}
	return w.flush(ctx)
}

// flush hands the buffered operations to the destination and counts
// them.
func (w *Writer) flush(ctx context.Context) error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	batch := w.buf
	if err := w.r.dest.Write(ctx, batch); err != nil {
		clear(w.buf)
		w.buf = w.buf[:0]
		return fmt.Errorf("connector: writing %d operations to the destination: %w", len(batch), err)
	}
	w.r.count(batch)
	w.r.mu.Lock()
	w.sinceOps += int64(len(batch))
	w.r.mu.Unlock()
	clear(w.buf)
	w.buf = w.buf[:0]
	return nil
}

// discard drops the operations not yet handed to the destination: no
// commit covers them, and the next run writes them again.
func (w *Writer) discard() {
	clear(w.buf)
	w.buf = w.buf[:0]
}

// Skip records that the stream chose not to write a record, and why: it
// is counted in the summary and logged as a warning, the first few one
// by one and the rest summed up when the stream ends, so that no record
// is lost silently and a flood of bad records does not flood the log.
// key identifies the record in the log (its id, or its position in the
// source); never pass the whole record, which may hold personal data.
func (w *Writer) Skip(reason error, key string) {
	w.stats.skipped.Add(1)
	w.skipped++
	if w.skipped <= skipsLogged {
		attrs := []any{"reason", reason, "record", shorten(key)}
		if w.skipped == skipsLogged {
			attrs = append(attrs, "note", fmt.Sprintf("further skipped records are counted, not logged one by one (after %d)", skipsLogged))
		}
		w.logger.Warn("skipped a record", attrs...)
	}
}

func shorten(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Commit records a page boundary: ts is the stream's state that covers
// every operation written so far, so that a run resumed from it replays
// nothing that is not yet written. Commit hands the buffered operations
// to the destination; the checkpoint policy (Options.Checkpoint) decides
// whether the destination also makes them durable and records ts now,
// or at a later commit. Until then a crash resumes from the previous
// checkpoint.
func (w *Writer) Commit(ctx context.Context, ts state.Table) error {
	if err := w.flush(ctx); err != nil {
		return err
	}
	r := w.r
	r.mu.Lock()
	r.st.Tables[w.t.Name] = ts.Clone()
	w.seq++
	due := r.opts.Checkpoint.due(w.sinceOps, r.now().Sub(w.sinceStart))
	r.mu.Unlock()
	w.stats.pages.Add(1)
	if !due {
		return nil
	}
	return r.checkpoint(ctx)
}

// pending reports whether the stream has operations or commits that no
// checkpoint covers. Call with r.mu held.
func (w *Writer) pending() bool { return w.seq > w.savedSeq || w.sinceOps > 0 }
