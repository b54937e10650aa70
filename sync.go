package connector

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/connectkit/connector/internal/redact"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// Sync is a table's handle on a run: it validates and forwards the table's
// operations to the destination, counts them, and commits the table's
// state at page boundaries. A Sync is used by its table's SyncFunc only;
// its methods must not be called after the SyncFunc returns.
type Sync struct {
	r      *runner
	t      *compiled
	logger *slog.Logger
	stats  *tableStats

	// sinceOps counts operations since the last checkpoint.
	sinceOps atomic.Int64

	// Guarded by r.mu: the table's commits.
	seq        int64     // commits so far
	savedSeq   int64     // commits covered by a checkpoint
	sinceStart time.Time // when the last checkpoint covered the table
}

// Name returns the table's name.
func (s *Sync) Name() string { return s.t.Name }

// Schema returns the table's compiled schema.
func (s *Sync) Schema() *schema.Compiled { return s.t.schema }

// Config returns the run's configuration.
func (s *Sync) Config() Config { return s.r.opts.Config }

// Logger returns the run's logger with the table's name attached.
func (s *Sync) Logger() *slog.Logger { return s.logger }

// Now returns the run's clock reading.
func (s *Sync) Now() time.Time { return s.r.now() }

// State returns a copy of the table's state as last committed: at the
// start of the run, the state of the last checkpoint.
func (s *Sync) State() state.Table {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if t := s.r.st.Tables[s.t.Name]; t != nil {
		return *t.Clone()
	}
	return state.Table{}
}

// Upsert validates row against the table's schema and writes it. A row
// that does not fit the schema is a *schema.ValueError naming the column
// and value; the connector may return it, or Skip the record. The row is
// normalized in place and owned by the destination afterwards.
func (s *Sync) Upsert(ctx context.Context, row schema.Row) error {
	return s.write(ctx, ops.OpUpsert, row, s.r.dest.Upsert, &s.stats.upserts)
}

// Update validates row, which holds the primary key and the columns that
// change, and writes it: other columns keep their values.
func (s *Sync) Update(ctx context.Context, row schema.Row) error {
	return s.write(ctx, ops.OpUpdate, row, s.r.dest.Update, &s.stats.updates)
}

// Delete marks the row with the primary key in keys as deleted (a soft
// delete: the row stays, with the deleted system column set).
func (s *Sync) Delete(ctx context.Context, keys schema.Row) error {
	return s.write(ctx, ops.OpDelete, keys, s.r.dest.Delete, &s.stats.deletes)
}

// Truncate marks every row written to the table before it as deleted.
func (s *Sync) Truncate(ctx context.Context) error {
	return s.write(ctx, ops.OpTruncate, nil, func(ctx context.Context, table string, _ schema.Row) error {
		return s.r.dest.Truncate(ctx, table)
	}, &s.stats.truncates)
}

// write validates row for an operation of kind k, hands it to the
// destination with send, and counts it in n.
func (s *Sync) write(ctx context.Context, k ops.Kind, row schema.Row, send func(context.Context, string, schema.Row) error, n *atomic.Int64) error {
	row, err := k.Normalize(s.t.schema, row)
	if err != nil {
		return err
	}
	if err := send(ctx, s.t.Name, row); err != nil {
		return fmt.Errorf("connector: table %q: %v: %w", s.t.Name, k, err)
	}
	n.Add(1)
	s.sinceOps.Add(1)
	return nil
}

// Skip records that the connector chose not to write a record, and why: it
// is logged as a warning and counted in the summary, so that no record is
// lost silently. record is logged with %v, shortened; pass its key rather
// than the whole record when it holds personal data.
func (s *Sync) Skip(reason error, record any) {
	s.stats.skipped.Add(1)
	s.logger.Warn("skipped a record", "reason", reason, "record", shortValue(record))
}

func shortValue(v any) string {
	s := redact.URL(fmt.Sprintf("%v", v))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Commit records a page boundary: ts is the table's state that covers
// every operation emitted so far, so that a run resumed from it replays
// nothing that is not yet written. The runner checkpoints it now or later,
// as the checkpoint policy says; until then a crash resumes from the
// previous checkpoint.
func (s *Sync) Commit(ctx context.Context, ts state.Table) error {
	return s.commit(ctx, ts, false)
}

// Checkpoint is Commit followed by a checkpoint whatever the policy.
func (s *Sync) Checkpoint(ctx context.Context, ts state.Table) error {
	return s.commit(ctx, ts, true)
}

func (s *Sync) commit(ctx context.Context, ts state.Table, force bool) error {
	s.stats.pages.Add(1)
	r := s.r
	r.mu.Lock()
	r.st.Tables[s.t.Name] = ts.Clone()
	s.seq++
	due := force || r.opts.Checkpoint.due(s.sinceOps.Load(), r.now().Sub(s.sinceStart))
	r.mu.Unlock()
	if !due {
		return nil
	}
	return r.checkpoint(ctx)
}

// pending reports whether the table has operations or commits that no
// checkpoint covers. Call with r.mu held.
func (s *Sync) pending() bool { return s.seq > s.savedSeq || s.sinceOps.Load() > 0 }
