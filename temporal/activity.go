package temporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/state"
)

// activities are the activities of SyncWorkflow, bound to a Worker.
type activities struct {
	w *Worker
}

// plan is PlanActivityName: it plans the connector's parts in the
// shared destination.
func (a *activities) plan(ctx context.Context, in PartInput) ([]connector.Part, error) {
	inst, err := a.w.open(ctx, in.Connector, in.Config)
	if err != nil {
		return nil, classify(err)
	}
	defer closeLogged(a.w.logger(), inst)
	parts, err := inst.Connector.Plan(ctx, inst.Destination, inst.Options)
	if err != nil {
		return nil, classify(fmt.Errorf("temporal: planning connector %q: %w", in.Connector, err))
	}
	return parts, nil
}

// runPart is RunPartActivityName: it runs one part into the shared
// destination, heartbeating its progress, and resumes from the committed
// state when retried.
func (a *activities) runPart(ctx context.Context, in PartInput) (PartResult, error) {
	info := activity.GetInfo(ctx)
	log := a.w.logger().With("connector", in.Connector, "part", in.Part.String(),
		"attempt", info.Attempt, "workflow", info.WorkflowExecution.ID)
	inst, err := a.w.open(ctx, in.Connector, in.Config)
	if err != nil {
		return PartResult{}, classify(err)
	}
	defer closeLogged(log, inst)

	stored, err := inst.Destination.LoadState(ctx)
	if err != nil {
		return PartResult{}, classify(fmt.Errorf("temporal: loading the state of %s: %w", in.Part, err))
	}
	committed, ok := progressOf(stored, in.Part)
	if !ok {
		return PartResult{}, classify(fmt.Errorf("%w: %s is not in the stored plan", connector.ErrNoPart, in.Part))
	}
	if activity.HasHeartbeatDetails(ctx) {
		var last Progress
		if err := activity.GetHeartbeatDetails(ctx, &last); err != nil {
			log.Warn("previous attempt's heartbeat unreadable; resuming from the committed state", "err", err)
		} else if committed.behind(last) {
			log.Warn("committed state is behind the previous attempt's heartbeat; resuming from the committed state, the source of truth",
				"heartbeat", last.String(), "committed", committed.String())
		} else {
			log.Info("resuming from the committed checkpoint",
				"heartbeat", last.String(), "committed", committed.String(), "heartbeat checkpoints", last.Checkpoints)
		}
	}
	if committed.Done {
		log.Info("part already done")
		return PartResult{Part: in.Part, Attempt: info.Attempt, AlreadyDone: true}, nil
	}

	hb := &heartbeat{latest: committed}
	every := a.w.HeartbeatEvery
	if every <= 0 {
		every = DefaultHeartbeatEvery
		if info.HeartbeatTimeout > 0 {
			every = info.HeartbeatTimeout / 3
		}
	}
	stop := hb.start(ctx, every)
	opts := inst.Options
	chained := opts.Checkpointed
	opts.Checkpointed = func(st *state.State) {
		hb.checkpointed(ctx, st)
		if chained != nil {
			chained(st)
		}
	}
	sum, err := inst.Connector.RunPart(ctx, inst.Destination, in.Part, opts)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			log.Info("part stopped", "reason", context.Cause(ctx), "at", hb.get().String())
			return PartResult{}, fmt.Errorf("temporal: %s stopped: %w", in.Part, errors.Join(ctx.Err(), err))
		}
		return PartResult{}, classify(fmt.Errorf("temporal: running %s: %w", in.Part, err))
	}
	r := NewPartResult(in.Part, sum)
	r.Attempt = info.Attempt
	log.Info("part done", "checkpoints", hb.get().Checkpoints)
	return r, nil
}

// heartbeat sends a part's progress as its activity's heartbeat details:
// at each checkpoint and every interval in between, so that a slow page
// does not look like a dead worker, and so that the activity learns of
// its cancellation.
type heartbeat struct {
	mu     sync.Mutex
	latest Progress
}

// checkpointed records the progress in st and heartbeats it.
func (h *heartbeat) checkpointed(ctx context.Context, st *state.State) {
	h.mu.Lock()
	p, ok := progressOf(st, h.latest.Part)
	if ok {
		p.Checkpoints = h.latest.Checkpoints + 1
		h.latest = p
	}
	p = h.latest
	h.mu.Unlock()
	activity.RecordHeartbeat(ctx, p)
}

// get returns the latest progress.
func (h *heartbeat) get() Progress {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.latest
}

// start heartbeats the latest progress every interval until the
// returned stop is called, which waits for the goroutine to end.
func (h *heartbeat) start(ctx context.Context, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			activity.RecordHeartbeat(ctx, h.get())
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// closeLogged closes inst's destination, logging a failure.
func closeLogged(log *slog.Logger, inst *Instance) {
	if err := inst.Destination.Close(); err != nil {
		log.Warn("closing the destination", "err", err)
	}
}
