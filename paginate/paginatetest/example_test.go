package paginatetest_test

import (
	"context"
	"fmt"

	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/paginate/paginatetest"
)

// In a test, call paginatetest.Run(t, src, strategy, want). Check does the
// same without a *testing.T and returns what failed.
func ExampleCheck() {
	colors := []string{"red", "green", "blue", "cyan", "magenta"}
	src := paginate.SourceFunc[string](func(_ context.Context, c paginate.Cursor) (paginate.Page[string], error) {
		start := min(int(c.Offset), len(colors))
		end := min(start+c.Limit, len(colors))
		return paginate.Page[string]{Items: colors[start:end], HasMore: paginate.FlagOf(end < len(colors))}, nil
	})
	err := paginatetest.Check(src, paginate.Offset(2), colors, paginatetest.Options{})
	fmt.Println("contract kept:", err == nil)
	// Output: contract kept: true
}
