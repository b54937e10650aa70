package temporal_test

import (
	"context"
	"fmt"
	"os"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/temporal"
)

// The results of the parts of a sync, summed per table in the
// workflow's Result.
func ExampleResult_Add() {
	res := temporal.Result{Connector: "users", Parts: 3}
	res.Add(temporal.PartResult{Part: connector.Part{Table: "user"}, Attempt: 1,
		Tables: []temporal.TableResult{{Table: "user", Upserts: 120, Pages: 2, Checkpoints: 2}}})
	res.Add(temporal.PartResult{Part: connector.Part{Table: "user", Partition: "2024-05-01"}, Attempt: 2,
		Tables: []temporal.TableResult{{Table: "user", Upserts: 80, Deletes: 3, Pages: 1, Checkpoints: 1}}})
	res.Add(temporal.PartResult{Part: connector.Part{Table: "user", Partition: "2024-04-01"}, AlreadyDone: true})
	u, _ := res.Table("user")
	fmt.Println("records:", u.Records())
	_, _ = res.WriteTo(os.Stdout)
	// Output:
	// records: 203
	//   table  upserts  updates  deletes  skipped  pages  checkpoints
	//    user      200        0        3        0      3            3
	//   total      200        0        3        0      3            3
	// connector users: 3 parts, 2 ran, 1 retried
}

// printRegistry prints what a worker registers.
type printRegistry struct{ worker.Registry }

func (printRegistry) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	fmt.Println("workflow", o.Name)
}

func (printRegistry) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) {
	fmt.Println("activity", o.Name)
}

// A Worker registers the sync workflow and its activities on a Temporal
// worker (here a registry that prints them), with the connectors it knows
// by name.
func ExampleWorker_Register() {
	w := &temporal.Worker{Connectors: map[string]temporal.Factory{
		"users": func(ctx context.Context, cfg connector.Config) (*temporal.Instance, error) {
			return nil, fmt.Errorf("%w: not in this example", temporal.ErrInvalidInput)
		},
	}}
	if err := w.Register(printRegistry{}); err != nil {
		fmt.Println(err)
	}
	empty := &temporal.Worker{}
	fmt.Println(empty.Register(printRegistry{}))
	// Output:
	// workflow connector.Sync
	// activity connector.Plan
	// activity connector.RunPart
	// temporal: invalid worker: no connector
}
