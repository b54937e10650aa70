package schema_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/connectkit/connector/schema"
)

// The seed's user table: a STRING key, five more STRING columns and two
// UTC_DATETIME columns.
var userTable = schema.Table{
	Name:       "user",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.String},
		{Name: "name", Type: schema.String},
		{Name: "email", Type: schema.String},
		{Name: "address", Type: schema.String},
		{Name: "company", Type: schema.String},
		{Name: "job", Type: schema.String},
		{Name: "updatedAt", Type: schema.UTCDateTime},
		{Name: "createdAt", Type: schema.UTCDateTime},
	},
}

func ExampleCompiled_Normalize() {
	// Compile once; the Compiled is safe to share between goroutines.
	users, err := userTable.Compile()
	if err != nil {
		panic(err)
	}
	// A record as decoded from JSON: the times are RFC 3339 text.
	row := schema.Row{
		"id":        "u1",
		"name":      "Ann",
		"email":     "ann@example.com",
		"updatedAt": "2024-03-01T10:20:30+02:00",
		"createdAt": "2023-01-02T03:04:05Z",
	}
	row, err = users.Normalize(row)
	if err != nil {
		panic(err)
	}
	updated := row["updatedAt"].(time.Time)
	fmt.Println(updated, updated.Location())
	fmt.Println(users.KeyOf(row))
	// Output:
	// 2024-03-01 08:20:30 +0000 UTC UTC
	// u1
}

func ExampleValueError() {
	users, err := userTable.Compile()
	if err != nil {
		panic(err)
	}
	_, err = users.Normalize(schema.Row{"id": 12})
	fmt.Println(err)

	var ve *schema.ValueError
	if errors.As(err, &ve) && errors.Is(err, schema.ErrWrongType) {
		fmt.Printf("column %s got %T\n", ve.Column, ve.Value)
	}

	_, err = users.Normalize(schema.Row{"id": "u1", "nmae": "Ann"})
	fmt.Println(errors.Is(err, schema.ErrUnknownColumn), err)
	// Output:
	// schema: table "user", column "id": value 12 (int): want STRING
	// column id got int
	// true schema: table "user", column "nmae": not a column of the table (value "Ann" (string))
}

// User is the seed's record as a Go struct.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Address   string    `json:"address"`
	Company   string    `json:"company"`
	Job       string    `json:"job"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedAt time.Time `json:"createdAt"`
	Score     *float64  `json:"score,omitempty"`
	Balance   string    `col:"balance,decimal"`
}

// users is derived once, at package level.
var users = schema.MustStruct[User]("user", "id")

func ExampleStruct() {
	tbl := users.Table()
	fmt.Println(tbl.Name, tbl.PrimaryKey)
	for _, c := range tbl.Columns {
		fmt.Println(c.Name, c.Type)
	}

	row := users.Row(&User{ID: "u1", Name: "Ann", Balance: "+10.50"})
	fmt.Println(row["id"], row["score"], row["balance"])
	// Output:
	// user [id]
	// id STRING
	// name STRING
	// email STRING
	// address STRING
	// company STRING
	// job STRING
	// updatedAt UTC_DATETIME
	// createdAt UTC_DATETIME
	// score DOUBLE
	// balance DECIMAL
	// u1 <nil> 10.50
}
