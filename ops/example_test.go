package ops_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

var people = schema.Table{
	Name:       "people",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.Long},
		{Name: "name", Type: schema.String},
		{Name: "city", Type: schema.String},
	},
}

// op normalizes row for an operation of kind k on table, as the runner
// does before it hands operations to a destination.
func op(k ops.Kind, table schema.Table, row schema.AnyRow) ops.Op {
	c, err := table.Compile()
	if err != nil {
		log.Fatal(err)
	}
	o, err := k.Normalize(c, row)
	if err != nil {
		log.Fatal(err)
	}
	return o
}

// newPeople returns a Memory holding three people.
func newPeople(ctx context.Context) *ops.Memory {
	m := ops.NewMemory()
	if err := m.Prepare(ctx, []schema.Table{people}); err != nil {
		log.Fatal(err)
	}
	err := m.Write(ctx, []ops.Op{
		op(ops.OpUpsert, people, schema.Row{"id": 1, "name": "Ada", "city": "London"}),
		op(ops.OpUpsert, people, schema.Row{"id": 2, "name": "Grace", "city": "New York"}),
		op(ops.OpUpsert, people, schema.Row{"id": 3, "name": "Edsger", "city": "Eindhoven"}),
	})
	if err != nil {
		log.Fatal(err)
	}
	return m
}

func printLive(m *ops.Memory, table string) {
	live := m.Live(table)
	for _, key := range []string{"1", "2", "3"} {
		if row, ok := live[key]; ok {
			fmt.Println(key, row["name"], row["city"])
		} else {
			fmt.Println(key, "deleted")
		}
	}
}

// An upsert writes the full row: the columns it does not hold become
// NULL.
func ExampleMemory_Write() {
	ctx := context.Background()
	m := newPeople(ctx)
	err := m.Write(ctx, []ops.Op{op(ops.OpUpsert, people, schema.Row{"id": 2, "name": "Grace H."})})
	if err != nil {
		log.Fatal(err)
	}
	printLive(m, "people")
	// Output:
	// 1 Ada London
	// 2 Grace H. <nil>
	// 3 Edsger Eindhoven
}

// An update changes only the columns it holds (Op.Set).
func ExampleMemory_Write_update() {
	ctx := context.Background()
	m := newPeople(ctx)
	err := m.Write(ctx, []ops.Op{op(ops.OpUpdate, people, schema.Row{"id": 1, "city": "Cambridge"})})
	if err != nil {
		log.Fatal(err)
	}
	printLive(m, "people")
	// Output:
	// 1 Ada Cambridge
	// 2 Grace New York
	// 3 Edsger Eindhoven
}

// A delete marks the row deleted (a soft delete): it stays in Rows, with
// DeletedColumn true.
func ExampleMemory_Write_delete() {
	ctx := context.Background()
	m := newPeople(ctx)
	err := m.Write(ctx, []ops.Op{op(ops.OpDelete, people, schema.Row{"id": 2})})
	if err != nil {
		log.Fatal(err)
	}
	printLive(m, "people")
	fmt.Println(len(m.Rows("people")), "rows, deleted ones included")
	// Output:
	// 1 Ada London
	// 2 deleted
	// 3 Edsger Eindhoven
	// 3 rows, deleted ones included
}

// A truncate marks every row deleted; rows upserted after it are live.
func ExampleMemory_Write_truncate() {
	ctx := context.Background()
	m := newPeople(ctx)
	err := m.Write(ctx, []ops.Op{
		{Kind: ops.OpTruncate, Table: "people"},
		op(ops.OpUpsert, people, schema.Row{"id": 3, "name": "Edsger", "city": "Austin"}),
	})
	if err != nil {
		log.Fatal(err)
	}
	printLive(m, "people")
	// Output:
	// 1 deleted
	// 2 deleted
	// 3 Edsger Austin
}

// Replacing the children of a parent: a delete of children (the leading
// key columns of the child table name the parent) followed by the
// upserts of the current children, in one batch, as the runner sends
// them for ReplaceChildren. The label no longer upserted ends deleted.
func ExampleMemory_Write_deleteChildren() {
	ctx := context.Background()
	labels := schema.Table{
		Name:       "issue_labels",
		PrimaryKey: []string{"issue", "label"},
		Columns: []schema.Column{
			{Name: "issue", Type: schema.Long},
			{Name: "label", Type: schema.String},
		},
	}
	m := ops.NewMemory()
	if err := m.Prepare(ctx, []schema.Table{labels}); err != nil {
		log.Fatal(err)
	}
	label := func(issue int, l string) ops.Op {
		return op(ops.OpUpsert, labels, schema.Row{"issue": issue, "label": l})
	}
	if err := m.Write(ctx, []ops.Op{label(7, "bug"), label(7, "ui"), label(8, "bug")}); err != nil {
		log.Fatal(err)
	}
	err := m.Write(ctx, []ops.Op{
		op(ops.OpDeleteChildren, labels, schema.Row{"issue": 7}),
		label(7, "bug"),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range m.Rows("issue_labels") {
		fmt.Println(row["issue"], row["label"], "deleted:", row[ops.DeletedColumn])
	}
	// Unordered output:
	// 7 bug deleted: false
	// 7 ui deleted: true
	// 8 bug deleted: false
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
	err = d.Write(ctx, []ops.Op{
		op(ops.OpUpsert, orders, schema.Row{"id": 1, "total": "12.50", "updated": updated}),
		op(ops.OpUpdate, orders, schema.Row{"id": 1, "total": "13.00"}),
	})
	if err != nil {
		log.Fatal(err)
	}
	st := state.New()
	st.Table("orders").Mark = state.Mark{Cursor: state.Time(updated), ID: state.Int(1)}
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
	fmt.Println("operations:", snap.Operations, "pending:", snap.Pending)
	// Output:
	// 13.00 2024-05-01T10:00:00Z
	// mark: 2024-05-01T10:00:00Z id=1
	// operations: 2 pending: 0
}

// A directory has one writer at a time: a second OpenDir fails until the
// first Dir is closed.
func ExampleOpenDir_locked() {
	dir, err := os.MkdirTemp("", "ops-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dest")
	first, err := ops.OpenDir(path, ops.DirOptions{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = ops.OpenDir(path, ops.DirOptions{})
	fmt.Println("second open while the first is open:", errors.Is(err, ops.ErrLocked))
	first.Close()
	second, err := ops.OpenDir(path, ops.DirOptions{})
	fmt.Println("after Close:", err)
	second.Close()
	// Output:
	// second open while the first is open: true
	// after Close: <nil>
}
