package temporal_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/temporal"
	"github.com/connectkit/connector/temporal/internal/users"
)

// Environment of a worker process (see startWorker).
const (
	envWorker    = "CONNECTOR_TEMPORAL_TEST_WORKER" // the worker's identity
	envAddr      = "CONNECTOR_TEMPORAL_TEST_ADDR"
	envNamespace = "CONNECTOR_TEMPORAL_TEST_NAMESPACE"
	envQueue     = "CONNECTOR_TEMPORAL_TEST_QUEUE"
	envDSN       = "CONNECTOR_TEMPORAL_TEST_DSN"
	envSlots     = "CONNECTOR_TEMPORAL_TEST_SLOTS"
)

// workerMain is a worker process: it serves the users connector on the
// queue of its environment until its standard input closes (the test
// ended or died) or it is killed.
func workerMain() int {
	log := quietLogger()
	c, err := client.Dial(client.Options{HostPort: os.Getenv(envAddr), Namespace: os.Getenv(envNamespace), Logger: quietSDKLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker: dialing:", err)
		return 1
	}
	defer c.Close()
	slots, _ := strconv.Atoi(os.Getenv(envSlots))
	w := worker.New(c, os.Getenv(envQueue), worker.Options{Identity: os.Getenv(envWorker), MaxConcurrentActivityExecutionSize: slots})
	cw := &temporal.Worker{Connectors: map[string]temporal.Factory{users.Name: users.Factory(os.Getenv(envDSN))}, Logger: log}
	if err := cw.Register(w); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	if err := w.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "worker: starting:", err)
		return 1
	}
	fmt.Println("started")
	_, _ = io.Copy(io.Discard, os.Stdin)
	w.Stop()
	return 0
}

// workerProc is a worker process started by startWorker.
type workerProc struct {
	id    string
	cmd   *exec.Cmd
	stdin io.Closer
}

// kill kills the worker with SIGKILL and waits for it.
func (p *workerProc) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// startWorker starts the test binary again as a worker process with
// the identity id, serving queue with slots activities at once, and
// waits for it to poll; the test's end stops it.
func startWorker(tb testing.TB, ts *devServer, queue, dsn, id string, slots int) *workerProc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"="+id, envAddr+"="+ts.GetFrontendHostPort(),
		envNamespace+"="+ts.GetDefaultNamespace(), envQueue+"="+queue, envDSN+"="+dsn, envSlots+"="+strconv.Itoa(slots))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &workerProc{id: id, cmd: cmd, stdin: stdin}
	tb.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			p.kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "started\n" {
		tb.Fatalf("worker %s: %q, %v", id, line, err)
	}
	return p
}

// waitPollers waits until n workers poll queue for activities.
func waitPollers(tb testing.TB, c client.Client, queue string, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		resp, err := c.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		if err == nil && len(resp.Pollers) >= n {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("waiting for %d pollers of %s: %v", n, queue, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var queues atomic.Int64

// newQueue returns a task queue of the test's own.
func newQueue(tb testing.TB) string {
	return fmt.Sprintf("test-%d-%d", os.Getpid(), queues.Add(1))
}

// fixture is a sync's source and destination: a mock API of users and a
// Postgres schema.
type fixture struct {
	api    *mockapi.Server
	dsn    string
	schema string
	config map[string]string
}

// newFixture starts a mock API of n users with latency per page and
// makes a Postgres schema.
func newFixture(tb testing.TB, n, pageSize int, latency time.Duration) *fixture {
	return newWrappedFixture(tb, n, pageSize, latency, nil)
}

// span is the time the users of a fixture span: 17 parts (see
// users.Span).
var span = users.Span

// newWrappedFixture is newFixture with the mock's handler wrapped by
// wrap, if not nil.
func newWrappedFixture(tb testing.TB, n, pageSize int, latency time.Duration, wrap func(http.Handler) http.Handler) *fixture {
	tb.Helper()
	now := time.Now()
	opts := users.MockOptions(n, now, span)
	opts.Faults.Latency = latency
	api := mockapi.NewUnstartedServer(opts)
	url := ""
	if wrap != nil {
		srv := httptest.NewServer(wrap(api.Handler()))
		tb.Cleanup(srv.Close)
		url = srv.URL
	} else {
		api.Start()
		tb.Cleanup(api.Close)
		url = api.URL
	}
	dsn, schema := pgtest.Schema(tb)
	return &fixture{api: api, dsn: dsn, schema: schema, config: users.Config(url, now, span, pageSize, schema)}
}

// inProcessWorker starts a worker of the users connector in this
// process, stopped when the test ends.
func inProcessWorker(tb testing.TB, c client.Client, queue, dsn string) {
	tb.Helper()
	w := worker.New(c, queue, worker.Options{})
	cw := &temporal.Worker{Connectors: map[string]temporal.Factory{users.Name: users.Factory(dsn)}, Logger: quietLogger()}
	if err := cw.Register(w); err != nil {
		tb.Fatal(err)
	}
	if err := w.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(w.Stop)
	waitPollers(tb, c, queue, 1)
}

// quietSDKLogger is quietLogger for the Temporal SDK.
func quietSDKLogger() sdklog.Logger { return sdklog.NewStructuredLogger(quietLogger()) }

// quietLogger logs warnings and errors only, or everything when the
// environment has CONNECTOR_TEMPORAL_TEST_LOG=debug.
func quietLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("CONNECTOR_TEMPORAL_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// input returns the workflow input of the fixture's sync.
func (f *fixture) input(parallelism int) temporal.SyncInput {
	return temporal.SyncInput{
		Connector: users.Name, Config: f.config, Parallelism: parallelism,
		HeartbeatTimeout: 3 * time.Second, RetryInterval: 100 * time.Millisecond, MaxAttempts: 5,
		PartTimeout: 2 * time.Minute,
	}
}

// dbUser is a user as the destination holds it.
type dbUser struct {
	Name, Email, Address, Company, Job string
	UpdatedAt, CreatedAt               time.Time
}

// checkTable compares the destination's table with the source: every
// live user once, with its current values.
func (f *fixture) checkTable(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, f.dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, ids int
	q := fmt.Sprintf(`SELECT count(*), count(DISTINCT id) FROM %s."user" WHERE NOT _connector_deleted`, pgx.Identifier{f.schema}.Sanitize())
	if err := conn.QueryRow(ctx, q).Scan(&rows, &ids); err != nil {
		tb.Fatal(err)
	}
	if rows != ids {
		tb.Errorf("destination: %d rows for %d ids: duplicates", rows, ids)
	}
	got := map[string]dbUser{}
	r, err := conn.Query(ctx, fmt.Sprintf(`SELECT id, name, email, address, company, job, "updatedAt", "createdAt" FROM %s."user" WHERE NOT _connector_deleted`, pgx.Identifier{f.schema}.Sanitize()))
	if err != nil {
		tb.Fatal(err)
	}
	for r.Next() {
		var id string
		var u dbUser
		if err := r.Scan(&id, &u.Name, &u.Email, &u.Address, &u.Company, &u.Job, &u.UpdatedAt, &u.CreatedAt); err != nil {
			tb.Fatal(err)
		}
		u.UpdatedAt, u.CreatedAt = u.UpdatedAt.UTC(), u.CreatedAt.UTC()
		got[id] = u
	}
	if err := r.Err(); err != nil {
		tb.Fatal(err)
	}
	want := map[string]dbUser{}
	for _, u := range f.api.Users() {
		if u.Deleted {
			continue
		}
		want[u.ID] = dbUser{Name: u.Name, Email: u.Email, Address: u.Address, Company: u.Company, Job: u.Job,
			UpdatedAt: u.UpdatedAt.UTC().Truncate(time.Microsecond), CreatedAt: u.CreatedAt.UTC().Truncate(time.Microsecond)}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Errorf("destination mismatch (-source +destination):\n%s", diff)
	}
}

// pendingProgress returns the pending activities of a run with their
// last heartbeat's progress, by worker identity and activity ID; an
// error once the run is closed.
func pendingProgress(ctx context.Context, c client.Client, run client.WorkflowRun) (map[string]temporal.Progress, error) {
	resp, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		return nil, err
	}
	if st := resp.WorkflowExecutionInfo.GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return nil, fmt.Errorf("workflow %s", st)
	}
	out := map[string]temporal.Progress{}
	for _, a := range resp.PendingActivities {
		var p temporal.Progress
		if a.HeartbeatDetails != nil {
			if err := converter.GetDefaultDataConverter().FromPayloads(a.HeartbeatDetails, &p); err != nil {
				return nil, err
			}
		}
		out[a.LastWorkerIdentity+" "+a.ActivityId] = p
	}
	return out, nil
}
