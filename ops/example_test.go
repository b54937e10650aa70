package ops_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

func ExampleMemory() {
	ctx := context.Background()
	people := schema.Table{
		Name:       "people",
		PrimaryKey: []string{"id"},
		Columns: []schema.Column{
			{Name: "id", Type: schema.Long},
			{Name: "name", Type: schema.String},
		},
	}
	m := ops.NewMemory()
	if err := m.Prepare(ctx, []schema.Table{people}); err != nil {
		log.Fatal(err)
	}
	for i, name := range []string{"Ada", "Grace", "Edsger"} {
		if err := m.Upsert(ctx, "people", schema.Row{"id": i + 1, "name": name}); err != nil {
			log.Fatal(err)
		}
	}
	if err := m.Delete(ctx, "people", schema.Row{"id": 2}); err != nil {
		log.Fatal(err)
	}
	live := m.Live("people")
	for _, key := range []string{"1", "2", "3"} {
		fmt.Println(key, live[key])
	}
	fmt.Println(len(m.Rows("people")), "rows, deleted ones included")
	// Output:
	// 1 map[id:1 name:Ada]
	// 2 map[]
	// 3 map[id:3 name:Edsger]
	// 3 rows, deleted ones included
}

func ExampleReadDir() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ops-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	orders := schema.Table{
		Name:       "orders",
		PrimaryKey: []string{"id"},
		Columns: []schema.Column{
			{Name: "id", Type: schema.Long},
			{Name: "total", Type: schema.Decimal},
			{Name: "updated", Type: schema.UTCDateTime},
		},
	}

	// A sync: rows, then a checkpoint that covers them.
	d, err := ops.OpenDir(dir, ops.DirOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := d.Prepare(ctx, []schema.Table{orders}); err != nil {
		log.Fatal(err)
	}
	updated := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	if err := d.Upsert(ctx, "orders", schema.Row{"id": 1, "total": "12.50", "updated": updated}); err != nil {
		log.Fatal(err)
	}
	if err := d.Update(ctx, "orders", schema.Row{"id": 1, "total": "13.00"}); err != nil {
		log.Fatal(err)
	}
	st := state.New()
	st.Table("orders").Mark = state.Mark{UpdatedAt: updated, ID: "1"}
	if err := d.Checkpoint(ctx, st); err != nil {
		log.Fatal(err)
	}
	if err := d.Close(); err != nil {
		log.Fatal(err)
	}

	// Read it back.
	snap, err := ops.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	row := snap.Live("orders")["1"]
	fmt.Println(row["total"], row["updated"].(time.Time).Format(time.RFC3339))
	fmt.Println("mark:", snap.State.Table("orders").Mark)
	// Output:
	// 13.00 2024-05-01T10:00:00Z
	// mark: 2024-05-01T10:00:00Z id="1"
}
