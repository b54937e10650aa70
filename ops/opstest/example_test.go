package opstest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/schema"
)

// In a test, call opstest.Run(t, harness). Check does the same without a
// *testing.T and returns what failed. This harness keeps one ops.Memory
// per location, so that reopening a location finds it again.
func ExampleCheck() {
	memories := make(map[string]*ops.Memory)
	h := opstest.Harness{
		Open: func(_ context.Context, loc string, now func() time.Time) (ops.Destination, error) {
			m := memories[loc]
			if m == nil {
				m = ops.NewMemory()
				memories[loc] = m
			}
			m.Now = now
			return m, nil
		},
		Rows: func(_ context.Context, d ops.Destination, table string) ([]schema.Row, error) {
			return d.(*ops.Memory).Rows(table), nil
		},
	}
	err := opstest.Check(h, opstest.Options{Seeds: []uint64{1}})
	fmt.Println("contract kept:", err == nil)
	// Output: contract kept: true
}

// Apply sends a sequence to a destination as the runner would: the row
// operations up to each checkpoint in one Write.
func ExampleApply() {
	ctx := context.Background()
	m := ops.NewMemory()
	m.Now = opstest.Clock()
	tables := []schema.Table{opstest.Items}
	if err := m.Prepare(ctx, tables); err != nil {
		log.Fatal(err)
	}
	err := opstest.Apply(ctx, m, tables,
		opstest.Upsert("items", opstest.Item(1, "pen", 10)),
		opstest.Upsert("items", opstest.Item(2, "ink", 3)),
		opstest.Update("items", schema.Row{"id": 1, "qty": 9}),
		opstest.Delete("items", schema.Row{"id": 2}),
		opstest.Checkpoint(opstest.Mark("items", 1)),
	)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range m.Rows("items") {
		fmt.Println(row["id"], row["name"], row["qty"], row[ops.DeletedColumn])
	}
	// Output:
	// 1 pen 9 false
	// 2 ink 3 true
}
