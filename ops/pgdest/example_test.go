package pgdest_test

import (
	"fmt"

	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/schema"
)

// The DDL of a table, as Prepare runs it (this example needs no
// server; the tests of the package run against a real one).
func ExampleCreateTableSQL() {
	users := schema.Table{
		Name:       "users",
		PrimaryKey: []string{"id"},
		Columns: []schema.Column{
			{Name: "id", Type: schema.String},
			{Name: "name", Type: schema.String},
			{Name: "score", Type: schema.Decimal},
			{Name: "profile", Type: schema.JSON},
			{Name: "updatedAt", Type: schema.UTCDateTime},
		},
	}
	ddl, err := pgdest.CreateTableSQL("crm", users)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ddl)

	users.Name = "a table name longer than the 63 bytes Postgres keeps of any name"
	_, err = pgdest.CreateTableSQL("crm", users)
	fmt.Println(err)
	// Output:
	// CREATE TABLE "crm"."users" (
	//   "id" text NOT NULL,
	//   "name" text,
	//   "score" numeric,
	//   "profile" json,
	//   "updatedAt" timestamp with time zone,
	//   "_connector_synced" timestamp with time zone NOT NULL,
	//   "_connector_deleted" boolean NOT NULL DEFAULT false,
	//   PRIMARY KEY ("id")
	// )
	// pgdest: table "a table name longer than the 63 bytes Postgres keeps of any name": schema: invalid table: table name "a table name longer than the 63 bytes Postgres keeps of any name" is 64 bytes long; Postgres names hold at most 63
}
