package temporal

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/state"
)

var (
	// ErrUnknownConnector reports a workflow input naming a connector
	// that the worker running the activity does not know (see
	// Worker.Connectors).
	ErrUnknownConnector = errors.New("temporal: unknown connector")
	// ErrInvalidInput reports a workflow or activity input that cannot
	// run: no connector name, a negative parallelism or timeout.
	ErrInvalidInput = errors.New("temporal: invalid input")
	// ErrInvalidWorker reports a Worker that cannot be registered: no
	// connector, an empty name or a nil Factory.
	ErrInvalidWorker = errors.New("temporal: invalid worker")
	// ErrNoMerge reports a Factory whose destination cannot merge the
	// checkpoints of parts running at once (it is not an
	// ops.StateMerger), or whose Instance lacks a connector.
	ErrNoMerge = errors.New("temporal: the destination cannot merge checkpoints")
)

// NonRetryableType is the type of the *temporal.ApplicationError that
// the activities return for errors that another attempt cannot fix: an
// invalid connector or input, a state written by another kind of stream,
// a corrupt state or destination, an incompatible schema change. Other
// errors (network, database restarts, source faults) are retried by
// Temporal's retry policy.
const NonRetryableType = "connector.NonRetryable"

// permanent lists the errors that no retry fixes.
var permanent = []error{
	ErrUnknownConnector,
	ErrInvalidInput,
	ErrNoMerge,
	connector.ErrInvalidConnector,
	connector.ErrNoPart,
	connector.ErrStateMismatch,
	connector.ErrStateOwner,
	connector.ErrOutOfOrder,
	state.ErrCorrupt,
	state.ErrType,
	ops.ErrCorrupt,
	ops.ErrSchemaChange,
}

// classify returns err as an activity error: a non-retryable
// application error (of NonRetryableType, wrapping err) when no retry can
// fix it, err itself otherwise.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, p := range permanent {
		if errors.Is(err, p) {
			return temporal.NewNonRetryableApplicationError(err.Error(), NonRetryableType, err)
		}
	}
	return err
}

// IsNonRetryable reports whether err, as returned by a workflow run or
// an activity of this package, failed for a cause that a retry cannot fix:
// whether its chain holds an application error of NonRetryableType.
func IsNonRetryable(err error) bool {
	for err != nil {
		var app *temporal.ApplicationError
		if !errors.As(err, &app) {
			return false
		}
		if app.Type() == NonRetryableType {
			return true
		}
		err = app.Unwrap()
	}
	return false
}
