package temporal

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/connectkit/connector"
)

// Defaults of SyncInput's zero fields.
const (
	DefaultParallelism      = 4
	DefaultPartTimeout      = time.Hour
	DefaultHeartbeatTimeout = 30 * time.Second
	DefaultMaxAttempts      = 10
)

// SyncInput is the input of SyncWorkflow. Temporal keeps it in the
// workflow's history: put no secret in Config.
type SyncInput struct {
	// Connector names the connector, as the workers' Worker.Connectors
	// know it.
	Connector string `json:"connector"`
	// Config is handed to the connector's Factory and to its streams
	// (connector.Options.Config).
	Config map[string]string `json:"config,omitempty"`
	// Parallelism is the number of parts that run at once, on any of
	// the workers; zero means DefaultParallelism.
	Parallelism int `json:"parallelism,omitempty"`
	// PartTimeout bounds one attempt of a part (its StartToCloseTimeout);
	// zero means DefaultPartTimeout.
	PartTimeout time.Duration `json:"partTimeout,omitempty"`
	// HeartbeatTimeout is how long a part may go without a heartbeat
	// before Temporal retries it, on another worker if need be; zero
	// means DefaultHeartbeatTimeout.
	HeartbeatTimeout time.Duration `json:"heartbeatTimeout,omitempty"`
	// MaxAttempts is the number of attempts of each activity; zero means
	// DefaultMaxAttempts.
	MaxAttempts int32 `json:"maxAttempts,omitempty"`
	// RetryInterval is the wait before the first retry of an activity,
	// doubling at each retry; zero means Temporal's default (1 s).
	RetryInterval time.Duration `json:"retryInterval,omitempty"`
}

// check validates in and fills its defaults.
func (in SyncInput) check() (SyncInput, error) {
	switch {
	case in.Connector == "":
		return in, fmt.Errorf("%w: no connector name", ErrInvalidInput)
	case in.Parallelism < 0 || in.PartTimeout < 0 || in.HeartbeatTimeout < 0 || in.MaxAttempts < 0 || in.RetryInterval < 0:
		return in, fmt.Errorf("%w: negative parallelism, timeout, attempts or interval", ErrInvalidInput)
	}
	if in.Parallelism == 0 {
		in.Parallelism = DefaultParallelism
	}
	if in.PartTimeout == 0 {
		in.PartTimeout = DefaultPartTimeout
	}
	if in.HeartbeatTimeout == 0 {
		in.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if in.MaxAttempts == 0 {
		in.MaxAttempts = DefaultMaxAttempts
	}
	return in, nil
}

// PartInput is the input of the activities: the connector, its config
// and, for RunPartActivityName, the part to run.
type PartInput struct {
	Connector string            `json:"connector"`
	Config    map[string]string `json:"config,omitempty"`
	Part      connector.Part    `json:"part"`
}

// SyncWorkflow syncs a connector with its parts spread over the workers:
// an activity plans the parts (connector.Connector.Plan), then each part
// that is not done runs as an activity (connector.Connector.RunPart), at
// most in.Parallelism at once. Each part heartbeats its checkpoints; a
// part retried after a crash or a heartbeat timeout resumes from the
// state its destination committed.
//
// It returns the counts summed per table. When a part fails for good
// (its attempts spent, or a non-retryable error) no new part starts, the
// running ones finish, and the workflow fails with that part's error.
// When the workflow is cancelled, the running parts are cancelled, the
// workflow waits for them to stop, and returns a cancelled error.
func SyncWorkflow(ctx workflow.Context, in SyncInput) (*Result, error) {
	in, err := in.check()
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), NonRetryableType, err)
	}
	ao := workflow.ActivityOptions{
		StartToCloseTimeout: in.PartTimeout,
		HeartbeatTimeout:    in.HeartbeatTimeout,
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        in.RetryInterval,
			MaximumAttempts:        in.MaxAttempts,
			NonRetryableErrorTypes: []string{NonRetryableType},
		},
	}
	actx := workflow.WithActivityOptions(ctx, ao)
	var parts []connector.Part
	err = workflow.ExecuteActivity(actx, PlanActivityName, PartInput{Connector: in.Connector, Config: in.Config}).Get(ctx, &parts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err // the activity's error names the connector
	}
	res := &Result{Connector: in.Connector, Parts: len(parts)}
	var todo []connector.Part
	for _, p := range parts {
		if !p.Done {
			todo = append(todo, p)
		}
	}
	workflow.GetLogger(ctx).Info("planned", "connector", in.Connector, "parts", len(parts), "to run", len(todo))

	sel := workflow.NewSelector(ctx)
	var failed error
	running := 0
	for next := 0; next < len(todo) || running > 0; {
		for failed == nil && ctx.Err() == nil && running < in.Parallelism && next < len(todo) {
			p := todo[next]
			next++
			running++
			f := workflow.ExecuteActivity(actx, RunPartActivityName, PartInput{Connector: in.Connector, Config: in.Config, Part: p})
			sel.AddFuture(f, func(f workflow.Future) {
				running--
				var pr PartResult
				if err := f.Get(ctx, &pr); err != nil {
					if failed == nil {
						failed = err // the activity's error names the part
					}
					return
				}
				res.Add(pr)
			})
		}
		if running == 0 {
			break
		}
		sel.Select(ctx)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if failed != nil {
		return nil, failed
	}
	return res, nil
}
