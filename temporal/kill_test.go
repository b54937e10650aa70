package temporal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/connectkit/connector/temporal"
)

// TestKillWorker runs a sync on two worker processes and kills one with
// SIGKILL in the middle of a partition, once it has heartbeated a
// checkpoint of it: the part is retried on the other worker, and the
// table ends equal to the source, each user once.
func TestKillWorker(t *testing.T) {
	ts := temporalDev(t)
	f := newFixture(t, 3400, 10, 100*time.Millisecond) // 17 parts of 20 pages
	for i := range 10 {
		f.api.Update(f.api.UserAt(i * 97).ID) // changed since: current values count
	}
	queue := newQueue(t)
	victim := startWorker(t, ts, queue, f.dsn, "worker-1", 2)
	startWorker(t, ts, queue, f.dsn, "worker-2", 2)
	c := ts.GetDefaultClient()
	waitPollers(t, c, queue, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	in := f.input(4)
	// Heartbeats reach the server at most every 0.8 heartbeat timeouts:
	// a short timeout shows the checkpoints of a partition of 2 s, and
	// retries the killed worker's part soon.
	in.HeartbeatTimeout = 1500 * time.Millisecond
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, temporal.WorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	// Kill worker-1 once it has checkpointed a history partition.
	for killed := false; !killed; {
		pending, err := pendingProgress(ctx, c, run)
		if err != nil {
			t.Fatal(err)
		}
		for who, p := range pending {
			if strings.HasPrefix(who, victim.id+" ") && p.Part.Partition != "" && p.Checkpoints >= 1 && !p.Done {
				t.Logf("killing %s while it runs %s, %s after %d checkpoints", victim.id, p.Part, p.String(), p.Checkpoints)
				victim.kill()
				killed = true
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("worker-1 never heartbeated a checkpoint of a partition")
		case <-time.After(20 * time.Millisecond):
		}
	}
	var res temporal.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("result: %+v", res)
	if res.Retried == 0 {
		t.Errorf("Result.Retried = 0, want the killed worker's part retried")
	}
	if res.Ran != res.Parts || res.Parts != 17 {
		t.Errorf("Result ran %d of %d parts, want 17 of 17", res.Ran, res.Parts)
	}
	f.checkTable(t)
}
