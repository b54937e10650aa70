package sqldest_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqldest-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqldest.Open(ctx, filepath.Join(dir, "warehouse.db"), sqldest.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	users := schema.Table{
		Name:       "user",
		PrimaryKey: []string{"id"},
		Columns: []schema.Column{
			{Name: "id", Type: schema.String},
			{Name: "name", Type: schema.String},
			{Name: "updatedAt", Type: schema.UTCDateTime},
		},
	}
	if err := db.Prepare(ctx, []schema.Table{users}); err != nil {
		log.Fatal(err)
	}
	// The runner normalizes rows into operations, as here, and writes
	// a page of them at a time.
	compiled, err := users.Compile()
	if err != nil {
		log.Fatal(err)
	}
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var page []ops.Op
	for _, row := range []schema.Row{
		{"id": "u1", "name": "Ada", "updatedAt": at},
		{"id": "u2", "name": "Grace", "updatedAt": at.Add(time.Second)},
	} {
		op, err := ops.OpUpsert.Normalize(compiled, row)
		if err != nil {
			log.Fatal(err)
		}
		page = append(page, op)
	}
	if err := db.Write(ctx, page); err != nil {
		log.Fatal(err)
	}
	// The rows and the state that covers them commit together.
	st := state.New()
	st.Table("user").Mark = state.Mark{Cursor: state.Time(at.Add(time.Second)), ID: state.String("u2")}
	if err := db.Checkpoint(ctx, st); err != nil {
		log.Fatal(err)
	}

	var n int
	if err := db.SQL().QueryRowContext(ctx, `select count(*) from "user"`).Scan(&n); err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
	// Output: 2
}
