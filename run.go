package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/state"
)

// finalCheckpointTimeout bounds the checkpoint that saves progress after a
// run was cancelled.
const finalCheckpointTimeout = 30 * time.Second

// Run syncs every table into dest: it loads the state, declares the schema
// to dest, runs each table's Sync in priority order (up to
// o.Concurrency at once), checkpoints as o.Checkpoint says, and returns a
// summary of what it did.
//
// A table's error does not stop the other tables: Run returns every
// table's error, each a [*TableError] naming the table and the state it
// resumes from, joined with errors.Join. Whatever happens, progress that
// was committed is checkpointed before Run returns, also after ctx is
// cancelled, so the next run resumes from it.
func (c *Connector) Run(ctx context.Context, dest ops.Destination, o Options) (*Summary, error) {
	if dest == nil {
		return nil, errors.New("connector: Run: nil destination")
	}
	tables, err := c.compile()
	if err != nil {
		return nil, err
	}
	r := newRunner(dest, o)
	r.logger.Info("sync starting", "connector", c.Name, "tables", len(tables), "config", o.Config)

	st, err := r.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("connector: loading state: %w", err)
	}
	if st.Tables == nil {
		st.Tables = make(map[string]*state.Table)
	}
	r.st = st
	if err := dest.Prepare(ctx, c.Schema()); err != nil {
		return nil, fmt.Errorf("connector: preparing the destination: %w", err)
	}

	stopProgress := r.startProgress()
	var g errgroup.Group
	g.SetLimit(max(o.Concurrency, 1))
	var errMu sync.Mutex
	var errs []error
	for _, t := range tables {
		s := r.newSync(t)
		g.Go(func() error {
			if err := r.syncTable(ctx, s); err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	stopProgress()

	// Save what was committed but not yet checkpointed, even when ctx was
	// cancelled: the rows are written, the state should follow.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalCheckpointTimeout)
	defer cancel()
	if err := r.checkpointPending(fctx); err != nil {
		errs = append(errs, err)
	}
	sum := r.summary()
	r.logger.Info("sync finished", "connector", c.Name, "summary", sum, "errors", len(errs))
	return sum, errors.Join(errs...)
}

// runner is the state of one Run.
type runner struct {
	dest   ops.Destination
	store  state.Store
	opts   Options
	logger *slog.Logger
	now    func() time.Time

	wallStart time.Time // real time, for durations and rates

	storeIsDest bool // the destination keeps the state: Checkpoint saved it

	mu    sync.Mutex // guards st and the progress fields of every Sync
	st    *state.State
	syncs []*Sync

	cpMu        sync.Mutex // serializes checkpoints
	checkpoints int64
}

func newRunner(dest ops.Destination, o Options) *runner {
	r := &runner{dest: dest, opts: o, logger: o.Logger, now: o.Now}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.store = o.Store
	if s, ok := dest.(state.Store); ok && (r.store == nil || same(r.store, s)) {
		r.store, r.storeIsDest = s, true
	}
	if r.store == nil {
		r.store = &state.Memory{}
	}
	r.wallStart = time.Now()
	return r
}

// same reports whether two interface values hold the same comparable
// value, such as the same pointer.
func same(a, b any) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta != nil && ta.Comparable() && a == b
}

func (r *runner) newSync(t *compiled) *Sync {
	s := &Sync{r: r, t: t, logger: r.logger.With("table", t.Name), stats: &tableStats{name: t.Name}}
	r.mu.Lock()
	r.syncs = append(r.syncs, s)
	r.mu.Unlock()
	return s
}

// syncTable runs one table's Sync and checkpoints what it left pending.
func (r *runner) syncTable(ctx context.Context, s *Sync) error {
	start := time.Now()
	r.mu.Lock()
	s.sinceStart = r.now()
	r.mu.Unlock()
	s.stats.started.Store(start.UnixNano())
	s.logger.Info("table sync starting", "priority", s.t.Priority, "state", describeState(s.State()))

	err := s.t.Sync(ctx, s)
	if err == nil {
		r.mu.Lock()
		pending := s.pending()
		r.mu.Unlock()
		if pending {
			err = r.checkpoint(ctx)
		}
	}
	s.stats.duration.Store(max(int64(time.Since(start)), 1))
	if err != nil {
		s.stats.failed.Store(true)
		te := &TableError{Table: s.t.Name, State: s.State(), Err: err}
		s.logger.Error("table sync failed", "err", err)
		return te
	}
	s.logger.Info("table sync finished", "summary", s.stats.summary())
	return nil
}

// checkpoint makes the destination durable up to now and saves the
// committed state of every table.
func (r *runner) checkpoint(ctx context.Context) error {
	r.cpMu.Lock()
	defer r.cpMu.Unlock()
	r.mu.Lock()
	snap := r.st.Clone()
	type mark struct {
		s   *Sync
		seq int64
		ops int64
	}
	var covered []mark
	for _, s := range r.syncs {
		if s.pending() {
			covered = append(covered, mark{s, s.seq, s.sinceOps.Load()})
		}
	}
	r.mu.Unlock()

	if err := r.dest.Checkpoint(ctx, snap); err != nil {
		return fmt.Errorf("connector: checkpoint: %w", err)
	}
	if !r.storeIsDest {
		if err := r.store.Save(ctx, snap); err != nil {
			return fmt.Errorf("connector: saving state: %w", err)
		}
	}
	r.checkpoints++
	now := r.now()
	r.mu.Lock()
	for _, m := range covered {
		m.s.savedSeq = m.seq
		m.s.sinceOps.Add(-m.ops)
		m.s.sinceStart = now
		m.s.stats.checkpoints.Add(1)
	}
	r.mu.Unlock()
	return nil
}

// checkpointPending checkpoints if any table has progress no checkpoint
// covers.
func (r *runner) checkpointPending(ctx context.Context) error {
	r.mu.Lock()
	pending := false
	for _, s := range r.syncs {
		pending = pending || s.pending()
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
	wg.Add(1)
	go func() {
		defer wg.Done()
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
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func (r *runner) logProgress() {
	r.mu.Lock()
	syncs := append([]*Sync(nil), r.syncs...)
	r.mu.Unlock()
	now := time.Now()
	for _, s := range syncs {
		started := s.stats.started.Load()
		if started == 0 || s.stats.duration.Load() != 0 {
			continue // not started, or finished
		}
		ts := s.stats.summary()
		elapsed := now.Sub(time.Unix(0, started)).Seconds()
		rate := 0.0
		if elapsed > 0 {
			rate = float64(ts.Records()) / elapsed
		}
		s.logger.Info("sync progress", "records", ts.Records(), "pages", ts.Pages, "skipped", ts.Skipped, "records_per_s", int64(rate))
	}
}
