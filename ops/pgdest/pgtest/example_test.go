package pgtest_test

import (
	"fmt"

	"github.com/connectkit/connector/ops/pgdest/pgtest"
)

// A test that needs its own database derives its connection string from
// the server's; Database does this for each test.
func ExampleWithDatabase() {
	for _, dsn := range []string{
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"host=/tmp/pg port=5432 user=postgres dbname=postgres",
	} {
		test, err := pgtest.WithDatabase(dsn, "test_1")
		fmt.Println(test, err)
	}
	// Output:
	// postgres://postgres@127.0.0.1:5432/test_1?sslmode=disable <nil>
	// host=/tmp/pg port=5432 user=postgres dbname=test_1 <nil>
}
