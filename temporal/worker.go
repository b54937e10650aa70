package temporal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/ops"
)

// Names under which Worker.Register registers the workflow and its
// activities, for clients that start the workflow by name (from another
// language, or the temporal CLI).
const (
	WorkflowName        = "connector.Sync"
	PlanActivityName    = "connector.Plan"
	RunPartActivityName = "connector.RunPart"
)

// Destination is the destination of the parts of one sync: a destination
// that merges the checkpoints of parts running at once on several
// machines (an ops.StateMerger, such as a pgdest.DB opened with
// pgdest.Options.Shared), closed when the activity that opened it ends.
type Destination interface {
	ops.StateMerger
	io.Closer
}

// Instance is what a Factory builds for one activity: the connector and
// the destination it writes to.
type Instance struct {
	// Connector is the connector whose parts run.
	Connector *connector.Connector
	// Destination receives the rows and keeps the state, shared by every
	// part of the sync. The activity closes it.
	Destination Destination
	// Options are the options of Plan and RunPart: the checkpoint
	// policy, the logger, the clock. The activity sets Config to the
	// workflow's, Logger to the Worker's when nil, and chains its own
	// Checkpointed before any set here.
	Options connector.Options
}

// Factory builds the connector named in a workflow input, and opens its
// destination, from the input's config. It runs inside every activity,
// on the worker, so that the workflow input carries only a name and a
// config: secrets (API tokens, database passwords) belong to the worker's
// environment, not to the config, which Temporal keeps in the workflow's
// history.
//
// An error wrapping ErrInvalidInput (or connector.ErrInvalidConnector)
// fails the workflow at once, as no retry fixes a bad config; any other
// error, such as a destination that cannot be reached, is retried.
type Factory func(ctx context.Context, config connector.Config) (*Instance, error)

// DefaultHeartbeatEvery is the interval between the heartbeats of a part
// when its activity has no heartbeat timeout.
const DefaultHeartbeatEvery = 10 * time.Second

// Worker holds the connectors that a Temporal worker can sync, by name,
// and registers the sync workflow and its activities on the worker.
// Every worker of a task queue must know the connectors that the
// workflows of that queue name.
type Worker struct {
	// Connectors maps a connector's name, as SyncInput.Connector gives
	// it, to its Factory.
	Connectors map[string]Factory
	// Logger receives the activities' logs; nil means slog.Default().
	Logger *slog.Logger
	// HeartbeatEvery is the interval between the heartbeats that a part
	// sends between checkpoints (it also heartbeats at each checkpoint);
	// zero means a third of the activity's heartbeat timeout, or
	// DefaultHeartbeatEvery without one.
	HeartbeatEvery time.Duration
}

// Register checks w and registers SyncWorkflow and the activities on r,
// under WorkflowName, PlanActivityName and RunPartActivityName.
func (w *Worker) Register(r worker.Registry) error {
	if len(w.Connectors) == 0 {
		return fmt.Errorf("%w: no connector", ErrInvalidWorker)
	}
	for name, f := range w.Connectors {
		if name == "" || f == nil {
			return fmt.Errorf("%w: connector %q: empty name or nil factory", ErrInvalidWorker, name)
		}
	}
	r.RegisterWorkflowWithOptions(SyncWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	a := &activities{w: w}
	r.RegisterActivityWithOptions(a.plan, activity.RegisterOptions{Name: PlanActivityName})
	r.RegisterActivityWithOptions(a.runPart, activity.RegisterOptions{Name: RunPartActivityName})
	return nil
}

// logger returns the Worker's logger.
func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// open builds the named connector's instance.
func (w *Worker) open(ctx context.Context, name string, config map[string]string) (*Instance, error) {
	f, ok := w.Connectors[name]
	if !ok {
		return nil, fmt.Errorf("%w %q on this worker", ErrUnknownConnector, name)
	}
	inst, err := f(ctx, connector.Config(config))
	if err != nil {
		return nil, fmt.Errorf("temporal: opening connector %q: %w", name, err)
	}
	if inst == nil || inst.Connector == nil || inst.Destination == nil {
		if inst != nil && inst.Destination != nil {
			_ = inst.Destination.Close()
		}
		return nil, fmt.Errorf("%w: connector %q: the factory returned no connector or destination", ErrNoMerge, name)
	}
	inst.Options.Config = connector.Config(config)
	if inst.Options.Logger == nil {
		inst.Options.Logger = w.logger()
	}
	return inst, nil
}
