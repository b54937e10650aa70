package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/state"
)

// finalCheckpointTimeout bounds the checkpoint that saves progress after a
// run was cancelled.
const finalCheckpointTimeout = 30 * time.Second

// ErrStateOwner reports a run given two owners of the state: a
// destination that keeps the state with its rows (an [ops.StateLoader])
// and a separate Options.Store.
var ErrStateOwner = errors.New("connector: the destination keeps the state; Options.Store must be nil")

// Run syncs every table into dest: it loads the state, declares the schema
// to dest, runs each table's Stream in priority order (up to
// o.Concurrency at once), checkpoints as o.Checkpoint says, and returns a
// summary of what it did.
//
// The state comes from dest when it keeps one (an [ops.StateLoader], as
// every destination of this module does), else from o.Store, else it
// starts empty and lives in memory for the run.
//
// A stream's error does not stop the other streams: Run returns every
// stream's error, each a [*TableError] naming the table and the state it
// resumes from, joined with errors.Join. Whatever happens, progress that
// was committed is checkpointed before Run returns, also after ctx is
// cancelled, so the next run resumes from it.
func (c *Connector) Run(ctx context.Context, dest ops.Destination, o Options) (*Summary, error) {
	return c.run(ctx, dest, o, nil)
}

// run runs every stream, or only the part scope names.
func (c *Connector) run(ctx context.Context, dest ops.Destination, o Options, scope *Part) (*Summary, error) {
	r, streams, err := c.start(ctx, dest, o, scope)
	if err != nil {
		return nil, err
	}
	stopProgress := r.startProgress()
	var g errgroup.Group
	g.SetLimit(max(o.Concurrency, 1))
	var errMu sync.Mutex
	var errs []error
	for _, t := range streams {
		w := r.newWriter(t, nil, "")
		g.Go(func() error {
			if err := r.syncStream(ctx, w); err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	stopProgress()
	return r.finish(ctx, c.Name, errs)
}

// start validates the connector, makes its runner, loads the state and
// prepares the destination. It returns the streams to run, in sync
// order: every stream, or the one scope names.
func (c *Connector) start(ctx context.Context, dest ops.Destination, o Options, scope *Part) (*runner, []*compiled, error) {
	if dest == nil {
		return nil, nil, errors.New("connector: nil destination")
	}
	tables, streams, err := c.compile()
	if err != nil {
		return nil, nil, err
	}
	r, err := newRunner(dest, tables, o)
	if err != nil {
		return nil, nil, err
	}
	if scope != nil {
		t := tables[scope.Table]
		if t == nil || t.Stream == nil {
			return nil, nil, fmt.Errorf("%w: %q is not a table with a stream", ErrNoPart, scope.Table)
		}
		if r.merger, _ = dest.(ops.StateMerger); r.merger == nil {
			return nil, nil, fmt.Errorf("connector: running one part needs a destination that merges checkpoints (an ops.StateMerger); %T is not", dest)
		}
		r.scope = scope
		streams = []*compiled{t}
	}
	r.logger.Info("sync starting", "connector", c.Name, "tables", len(tables), "streams", len(streams), "config", o.Config)

	var st *state.State
	if r.loader != nil {
		st, err = r.loader.LoadState(ctx)
	} else {
		st, err = r.store.Load(ctx)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("connector: loading state: %w", err)
	}
	if st.Tables == nil {
		st.Tables = make(map[string]*state.Table)
	}
	r.st = st
	if err := dest.Prepare(ctx, c.Schema()); err != nil {
		return nil, nil, fmt.Errorf("connector: preparing the destination: %w", err)
	}
	for _, t := range streams {
		r.summaryOrder = append(r.summaryOrder, t.Name)
	}
	for _, t := range c.Tables {
		if t.Stream == nil {
			r.summaryOrder = append(r.summaryOrder, t.Name)
		}
	}
	return r, streams, nil
}

// finish checkpoints what the streams committed but did not checkpoint,
// even when ctx was cancelled (the rows are written, the state should
// follow), and returns the summary and the streams' errors.
func (r *runner) finish(ctx context.Context, name string, errs []error) (*Summary, error) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalCheckpointTimeout)
	defer cancel()
	if err := r.checkpointPending(fctx); err != nil {
		errs = append(errs, err)
	}
	r.mu.Lock()
	for i, err := range errs {
		if f, ok := err.(*tableFailure); ok {
			errs[i] = &TableError{Table: f.w.t.Name, State: f.w.checkpointed, Err: f.err}
		}
	}
	r.mu.Unlock()
	sum := r.summary()
	r.logger.Info("sync finished", "connector", name, "summary", sum, "errors", len(errs))
	return sum, errors.Join(errs...)
}

// runner is the state of one Run.
type runner struct {
	dest   ops.Destination
	loader ops.StateLoader // dest, when it keeps the state
	store  state.Store     // else the store of the state
	merger ops.StateMerger // dest, when the run owns only scope's part of the state
	scope  *Part           // the part to run; nil for everything
	tables map[string]*compiled
	opts   Options
	logger *slog.Logger
	now    func() time.Time

	wallStart time.Time // real time, for durations and rates

	stats        map[string]*tableStats // by table name; the map is not changed once the run starts
	summaryOrder []string               // the streams' tables in sync order, then the others

	mu      sync.Mutex // guards st and the progress fields of every Writer
	st      *state.State
	writers []*Writer

	cpMu        sync.Mutex // serializes checkpoints
	checkpoints int64
}

func newRunner(dest ops.Destination, tables map[string]*compiled, o Options) (*runner, error) {
	r := &runner{dest: dest, tables: tables, opts: o, logger: o.Logger, now: o.Now, store: o.Store}
	if l, ok := dest.(ops.StateLoader); ok {
		if o.Store != nil {
			return nil, fmt.Errorf("%w (destination %T)", ErrStateOwner, dest)
		}
		r.loader = l
	}
	if r.loader == nil && r.store == nil {
		r.store = &state.Memory{}
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.stats = make(map[string]*tableStats, len(tables))
	for name := range tables {
		r.stats[name] = &tableStats{name: name}
	}
	r.wallStart = time.Now()
	return r, nil
}

// newWriter returns the Writer of t's stream, or of the partition part of
// it under parent.
func (r *runner) newWriter(t *compiled, parent *Writer, part string) *Writer {
	w := &Writer{r: r, t: t, logger: r.logger.With("table", t.Name), stats: r.stats[t.Name], parent: parent, part: part}
	if part != "" {
		w.logger = w.logger.With("partition", part)
	}
	r.mu.Lock()
	if ts := r.st.Tables[t.Name]; ts != nil {
		w.checkpointed = *ts.Clone()
	}
	r.writers = append(r.writers, w)
	r.mu.Unlock()
	return w
}

// count adds a batch the destination accepted to the tables' counts.
func (r *runner) count(batch []ops.Op) {
	var last *tableStats
	for i := range batch {
		op := &batch[i]
		if last == nil || last.name != op.Table {
			last = r.stats[op.Table]
		}
		last.count(op.Kind)
	}
}

// syncStream runs one stream and checkpoints what it left pending.
func (r *runner) syncStream(ctx context.Context, w *Writer) error {
	start := time.Now()
	r.mu.Lock()
	w.sinceStart = r.now()
	r.mu.Unlock()
	w.stats.started.Store(start.UnixNano())
	w.logger.Info("table sync starting", "priority", w.t.Priority, "state", describeState(w.State()))

	err := w.t.Stream.Read(ctx, w)
	if err == nil {
		// Operations written after the last commit: the final
		// checkpoint covers them, under the last committed state.
		err = w.flush(ctx)
	}
	if err == nil {
		r.mu.Lock()
		pending := w.pending()
		r.mu.Unlock()
		if pending {
			err = r.checkpoint(ctx)
		}
	} else {
		w.discard()
	}
	if n := w.skipped; n > skipsLogged {
		w.logger.Warn("skipped records", "skipped", n, "logged", skipsLogged)
	}
	w.stats.duration.Store(max(int64(time.Since(start)), 1))
	if err != nil {
		w.stats.failed.Store(true)
		w.logger.Error("table sync failed", "err", err)
		return &tableFailure{w: w, err: err}
	}
	w.logger.Info("table sync finished", "summary", w.stats.summary())
	return nil
}

// tableFailure is a stream's error until the run ends, when it becomes a
// TableError with the state of the stream's last checkpoint, which the
// final checkpoint may still move.
type tableFailure struct {
	w   *Writer
	err error
}

func (f *tableFailure) Error() string { return f.err.Error() }

// checkpoint makes the destination durable up to now and saves the
// committed state of every stream.
func (r *runner) checkpoint(ctx context.Context) error {
	r.cpMu.Lock()
	defer r.cpMu.Unlock()
	r.mu.Lock()
	snap := r.st.Clone()
	type mark struct {
		w   *Writer
		seq int64
		ops int64
	}
	var covered []mark
	for _, w := range r.writers {
		if w.pending() {
			covered = append(covered, mark{w, w.seq, w.sinceOps})
		}
	}
	r.mu.Unlock()

	if r.merger != nil {
		err := r.merger.CheckpointMerge(ctx, func(stored *state.State) (*state.State, error) {
			merged, err := r.scope.merge(stored, snap)
			if err == nil {
				snap = merged
			}
			return merged, err
		})
		if err != nil {
			return fmt.Errorf("connector: checkpoint of %s: %w", r.scope, err)
		}
	} else if err := r.dest.Checkpoint(ctx, snap); err != nil {
		return fmt.Errorf("connector: checkpoint: %w", err)
	}
	if r.loader == nil {
		if err := r.store.Save(ctx, snap); err != nil {
			return fmt.Errorf("connector: saving state: %w", err)
		}
	}
	if f := r.opts.Checkpointed; f != nil {
		f(snap.Clone())
	}
	r.checkpoints++
	now := r.now()
	r.mu.Lock()
	for _, m := range covered {
		m.w.savedSeq = m.seq
		m.w.sinceOps -= m.ops
		m.w.sinceStart = now
		if ts := snap.Tables[m.w.t.Name]; ts != nil {
			m.w.checkpointed = *ts.Clone()
		}
		m.w.stats.checkpoints.Add(1)
	}
	r.mu.Unlock()
	return nil
}

// checkpointPending checkpoints if any stream has progress no checkpoint
// covers.
func (r *runner) checkpointPending(ctx context.Context) error {
	r.mu.Lock()
	pending := false
	for _, w := range r.writers {
		pending = pending || w.pending()
	}
	r.mu.Unlock()
	if !pending {
		return nil
	}
	return r.checkpoint(ctx)
}

// startProgress logs progress at the configured interval until the
// returned function is called; it returns after the logging goroutine has
// ended.
func (r *runner) startProgress() (stop func()) {
	every := r.opts.Progress
	if every == 0 {
		every = 10 * time.Second
	}
	if every < 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.logProgress()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

func (r *runner) logProgress() {
	r.mu.Lock()
	writers := append([]*Writer(nil), r.writers...)
	r.mu.Unlock()
	now := time.Now()
	for _, w := range writers {
		started := w.stats.started.Load()
		if started == 0 || w.stats.duration.Load() != 0 {
			continue // not started, or finished
		}
		ts := w.stats.summary()
		elapsed := now.Sub(time.Unix(0, started)).Seconds()
		rate := 0.0
		if elapsed > 0 {
			rate = float64(ts.Records()) / elapsed
		}
		w.logger.Info("sync progress", "records", ts.Records(), "pages", ts.Pages, "skipped", ts.Skipped, "records_per_s", int64(rate))
	}
}
