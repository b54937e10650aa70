package temporal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/temporal"
)

// TestNonRetryable runs syncs that no retry can fix: they fail at once,
// after one attempt, with a non-retryable error.
func TestNonRetryable(t *testing.T) {
	ts := temporalDev(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the other cleanups: the worker and the mock stopped
	c := ts.GetDefaultClient()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, f *fixture, in *temporal.SyncInput)
	}{
		{"unknown connector", func(t *testing.T, f *fixture, in *temporal.SyncInput) { in.Connector = "nope" }},
		{"bad config", func(t *testing.T, f *fixture, in *temporal.SyncInput) { in.Config["oldest"] = "yesterday" }},
		{"corrupt state", func(t *testing.T, f *fixture, in *temporal.SyncInput) {
			db, err := pgdest.Open(context.Background(), f.dsn, pgdest.Options{Schema: f.schema})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			q := fmt.Sprintf(`UPDATE %s SET state = '{"version": "x"'`, pgx.Identifier{f.schema, pgdest.StateTable}.Sanitize())
			if err := pgtest.Exec(context.Background(), f.dsn, q); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 100, 10, 0)
			queue := newQueue(t)
			inProcessWorker(t, c, queue, f.dsn)
			in := f.input(2)
			in.RetryInterval = 2 * time.Second // a retry would show in the time taken
			tc.setup(t, f, &in)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, temporal.WorkflowName, in)
			if err != nil {
				t.Fatal(err)
			}
			err = run.Get(ctx, nil)
			if !temporal.IsNonRetryable(err) {
				t.Fatalf("run.Get() = %v, want a non-retryable error", err)
			}
			t.Logf("failed in %v: %v", time.Since(start), err)
			if d := time.Since(start); d > in.RetryInterval {
				t.Errorf("failed after %v, want no retry (interval %v)", d, in.RetryInterval)
			}
			resp, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
			if err != nil {
				t.Fatal(err)
			}
			if st := resp.WorkflowExecutionInfo.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
				t.Errorf("status = %v, want FAILED", st)
			}
		})
	}
}
