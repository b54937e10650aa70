// Package temporal runs a connector's sync past one machine, on
// Temporal (go.temporal.io/sdk): the connector's work is planned into
// parts (connector.Connector.Plan), and each part runs as a Temporal
// activity (connector.Connector.RunPart) on any worker of a task queue,
// writing into one destination that all the parts share, such as a
// Postgres database opened with pgdest.Options.Shared.
//
// It is a module of its own, github.com/connectkit/connector/temporal,
// so that the connector module does not depend on Temporal.
//
// # Concepts
//
//   - A Worker knows connectors by name: each name maps to a Factory that
//     builds the connector and opens its shared destination from the
//     workflow's config. Worker.Register registers SyncWorkflow and its
//     two activities on a Temporal worker.
//   - SyncWorkflow (registered as WorkflowName) plans the parts in one
//     activity, then runs the parts that are not done as activities, at
//     most SyncInput.Parallelism at once, and returns a Result: the
//     counts of every part, summed per table.
//   - Each part checkpoints into the destination, where its rows and its
//     state commit in one transaction (ops.StateMerger.CheckpointMerge),
//     and heartbeats its Progress at each checkpoint and every few
//     seconds in between. When a worker dies, Temporal retries the part
//     once its heartbeat times out, on another worker, which logs the
//     previous attempt's Progress and resumes from the committed state:
//     no row is lost, and the pages after the last checkpoint are written
//     again, idempotently.
//   - Errors no retry fixes (an unknown or invalid connector, a corrupt
//     state, a state written by another kind of stream) are returned as
//     non-retryable application errors (see IsNonRetryable); others are
//     retried by the activity's retry policy.
//   - Cancelling the workflow cancels the running parts, which stop at
//     their next heartbeat, and the workflow ends cancelled.
//
// # Usage
//
// On every worker machine:
//
//	c, err := client.Dial(client.Options{HostPort: "temporal:7233"})
//	...
//	w := worker.New(c, "connectors", worker.Options{})
//	cw := &temporal.Worker{Connectors: map[string]temporal.Factory{
//		"users": func(ctx context.Context, cfg connector.Config) (*temporal.Instance, error) {
//			db, err := pgdest.Open(ctx, os.Getenv("PG_DSN"), pgdest.Options{Shared: true})
//			if err != nil {
//				return nil, err
//			}
//			return &temporal.Instance{Connector: usersConnector(cfg), Destination: db}, nil
//		},
//	}}
//	if err := cw.Register(w); err != nil {
//		...
//	}
//	err = w.Run(worker.InterruptCh())
//
// Then, anywhere:
//
//	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "connectors"},
//		temporal.WorkflowName, temporal.SyncInput{Connector: "users", Config: cfg, Parallelism: 8})
//	var res temporal.Result
//	err = run.Get(ctx, &res)
//
// The command examples/users runs all of it on one machine.
package temporal
