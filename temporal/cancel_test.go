package temporal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/temporal"
)

// TestCancel cancels a sync while its parts run on slow pages: the
// parts stop, and the workflow ends cancelled.
func TestCancel(t *testing.T) {
	ts := temporalDev(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the other cleanups: the worker and the mock stopped
	f := newFixture(t, 1700, 10, 300*time.Millisecond) // 10 pages of 300 ms a part
	queue := newQueue(t)
	c := ts.GetDefaultClient()
	inProcessWorker(t, c, queue, f.dsn)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	in := f.input(2)
	in.HeartbeatTimeout = time.Second // heartbeats every 1/3 s: the parts learn of the cancellation soon
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, temporal.WorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	for {
		pending, err := pendingProgress(ctx, c, run)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := c.CancelWorkflow(ctx, run.GetID(), run.GetRunID()); err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var canceled *sdktemporal.CanceledError
	if !errors.As(err, &canceled) {
		t.Fatalf("run.Get() = %v, want a *temporal.CanceledError", err)
	}
	t.Logf("cancelled in %v", time.Since(start))
	resp, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if st := resp.WorkflowExecutionInfo.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Errorf("status = %v, want CANCELED", st)
	}
	if len(resp.PendingActivities) != 0 {
		t.Errorf("%d activities still pending after the cancellation", len(resp.PendingActivities))
	}
	// The parts learnt of the cancellation at a heartbeat, not at the
	// end of their 10 slow pages.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("cancellation took %v, want the parts stopped at their next heartbeat", d)
	}
}
