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
	vals, err := users.Normalize(row) // values by column position
	if err != nil {
		panic(err)
	}
	updated := vals[6].(time.Time)
	fmt.Println(updated, updated.Location())
	fmt.Println(users.KeyOf(vals), vals[3] == nil)
	fmt.Println(users.Map(vals, nil)["name"])
	// Output:
	// 2024-03-01 08:20:30 +0000 UTC UTC
	// u1 true
	// Ann
}

// A parent key names the children of one parent in a child table: the
// leading columns of its primary key.
func ExampleCompiled_NormalizeParent() {
	labels, err := (&schema.Table{Name: "issue_label", PrimaryKey: []string{"issue_id", "name"}, Columns: []schema.Column{
		{Name: "issue_id", Type: schema.Long}, {Name: "name", Type: schema.String},
	}}).Compile()
	if err != nil {
		panic(err)
	}
	vals, set, err := labels.NormalizeParent(schema.Row{"issue_id": 42})
	fmt.Println(vals, set.Len(), err)
	_, _, err = labels.NormalizeParent(schema.Row{"name": "bug"})
	fmt.Println(err != nil)
	// Output:
	// [42 <nil>] 1 <nil>
	// true
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

	row := users.Row(&User{ID: "u1", Name: "Ann", Balance: "+10.50"}).Map()
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

// Issue is a GitHub-like record with nested users: inline makes their
// fields columns of the issue table, without a second struct type.
type Issue struct {
	ID   int64 `json:"id"`
	User struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
	} `json:"user" col:"user_,inline"`
	Assignee *struct {
		Login string `json:"login"`
	} `json:"assignee" col:"assignee_,inline"` // nil: its columns are NULL
}

func ExampleStruct_inline() {
	issues := schema.MustStruct[Issue]("issue", "id")
	for _, c := range issues.Table().Columns {
		fmt.Println(c.Name, c.Type)
	}
	var is Issue
	is.ID, is.User.Login, is.User.ID = 7, "octocat", 1
	fmt.Println(issues.Row(&is).Map())
	// Output:
	// id LONG
	// user_login STRING
	// user_id LONG
	// assignee_login STRING
	// map[assignee_login:<nil> id:7 user_id:1 user_login:octocat]
}

// Codec.Row turns a struct into Values, by position and already
// converted; Normalize checks their key and hands them on. A value that
// could not be converted is reported by Normalize, naming its column.
func ExampleCodec_Row() {
	type Order struct {
		ID     int64     `json:"id"`
		Amount string    `json:"amount" col:"amount,decimal"`
		Placed time.Time `json:"placed"`
		Note   *string   `json:"note"`
	}
	orders := schema.MustStruct[Order]("order", "id")
	tokyo := time.FixedZone("JST", 9*3600)

	row := orders.Row(&Order{ID: 7, Amount: "+12.50", Placed: time.Date(2024, 3, 1, 9, 0, 0, 0, tokyo)})
	vals, err := orders.Compiled().Normalize(row)
	fmt.Println(vals, err)

	_, err = orders.Compiled().Normalize(orders.Row(&Order{ID: 8, Amount: "12,50"}))
	fmt.Println(errors.Is(err, schema.ErrWrongType), err)
	// Output:
	// [7 12.50 2024-03-01 00:00:00 +0000 UTC <nil>] <nil>
	// true schema: table "order", column "amount": value "12,50" (string): want DECIMAL: not a decimal number
}

// Map turns values by position back into a Row by name: every column,
// or only those of a set, such as the columns an update holds.
func ExampleCompiled_Map() {
	users, err := userTable.Compile()
	if err != nil {
		panic(err)
	}
	vals, set, err := users.NormalizePartial(schema.Row{"id": "u1", "job": "Engineer", "company": nil})
	if err != nil {
		panic(err)
	}
	fmt.Println(users.Map(vals, set))
	fmt.Println(len(users.Map(vals, nil)))
	// Output:
	// map[company:<nil> id:u1 job:Engineer]
	// 8
}
