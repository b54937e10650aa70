package paginate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/connectkit/connector/paginate"
)

var fruits = []string{"apple", "banana", "cherry", "damson", "elder", "fig", "grape"}

// fruitAPI is an offset API over fruits that, like many real ones, serves
// at most 2 items whatever limit it is asked for, and reports a total.
func fruitAPI(_ context.Context, c paginate.Cursor) (paginate.Page[string], error) {
	start := min(int(c.Offset), len(fruits))
	end := min(start+min(c.Limit, 2), len(fruits))
	return paginate.Page[string]{Items: fruits[start:end], Total: int64(len(fruits))}, nil
}

func ExampleNew() {
	p := paginate.New(paginate.SourceFunc[string](fruitAPI), paginate.Offset(3))
	for fruit, err := range p.All(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Print(fruit, " ")
	}
	fmt.Println()
	// Output: apple banana cherry damson elder fig grape
}

// The server caps pages at 2 items although 3 were asked for: the offset
// advances by what was received, so nothing is skipped.
func ExampleOffset() {
	p := paginate.New(paginate.SourceFunc[string](fruitAPI), paginate.Offset(3))
	for page, err := range p.Pages(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(page.Items, "next:", p.Cursor())
	}
	// Output:
	// [apple banana] next: offset=2 limit=3
	// [cherry damson] next: offset=4 limit=3
	// [elder fig] next: offset=6 limit=3
	// [grape] next: offset=7 limit=3 done
}

func ExamplePageNumber() {
	src := paginate.SourceFunc[string](func(_ context.Context, c paginate.Cursor) (paginate.Page[string], error) {
		start := min(int(c.Page-1)*c.Limit, len(fruits)) // pages count from 1
		end := min(start+c.Limit, len(fruits))
		return paginate.Page[string]{Items: fruits[start:end], HasMore: paginate.FlagOf(end < len(fruits))}, nil
	})
	p := paginate.New(src, paginate.PageNumber(1, 3))
	for page, err := range p.Pages(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(page.Items)
	}
	// Output:
	// [apple banana cherry]
	// [damson elder fig]
	// [grape]
}

// A Token source over an API that names the next page in each response.
// (Package rest declares such sources over HTTP, with next URLs and Link
// headers.)
func ExampleToken() {
	src := paginate.SourceFunc[string](func(_ context.Context, c paginate.Cursor) (paginate.Page[string], error) {
		start, _ := strconv.Atoi(c.Token) // "" is the first page
		end := min(start+c.Limit, len(fruits))
		page := paginate.Page[string]{Items: fruits[start:end]}
		if end < len(fruits) {
			page.Next = strconv.Itoa(end)
		}
		return page, nil
	})
	for page, err := range paginate.New(src, paginate.Token().WithLimit(3)).Pages(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(page.Items, "next:", page.Next)
	}
	// Output:
	// [apple banana cherry] next: 3
	// [damson elder fig] next: 6
	// [grape] next:
}

// A page that says more follows but names no next token is an error, not
// a silent end that would drop the rest of the collection.
func ExampleErrNoNext() {
	src := paginate.SourceFunc[string](func(context.Context, paginate.Cursor) (paginate.Page[string], error) {
		return paginate.Page[string]{Items: []string{"apple"}, HasMore: paginate.Yes}, nil
	})
	for item, err := range paginate.New(src, paginate.Token()).All(context.Background()) {
		if errors.Is(err, paginate.ErrNoNext) {
			fmt.Println("stopped:", err)
			return
		}
		fmt.Println(item)
	}
	// Output:
	// apple
	// stopped: paginate: page 2 at start: paginate: more pages announced but no way to advance: page 1 says more follows but names no next token, so the token cannot advance; add StopMissingNext to the stop rules to end there
}

// From resumes a Paginator built elsewhere at a checkpointed cursor.
func ExamplePaginator_From() {
	p := paginate.New(paginate.SourceFunc[string](fruitAPI), paginate.Offset(2))
	for fruit, err := range p.From(paginate.Cursor{Offset: 5}).All(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Print(fruit, " ")
	}
	fmt.Println()
	// Output: fig grape
}

// Keyset paging asks for the items strictly after the key of the last item
// seen, so rows inserted or deleted during the run shift nothing.
func ExampleKeyset() {
	type user struct {
		UpdatedAt string
		ID        string
	}
	users := []user{{"2024-01-01", "a"}, {"2024-01-01", "b"}, {"2024-01-02", "a"}, {"2024-01-03", "c"}}
	key := func(u user) string { return u.UpdatedAt + "," + u.ID } // sorts as (updatedAt, id)
	src := paginate.SourceFunc[user](func(_ context.Context, c paginate.Cursor) (paginate.Page[user], error) {
		start := sort.Search(len(users), func(i int) bool { return key(users[i]) > c.Key })
		end := min(start+c.Limit, len(users))
		return paginate.Page[user]{Items: users[start:end]}, nil
	})
	p := paginate.New(paginate.Keyed(src, key), paginate.Keyset(2))
	for page, err := range p.Pages(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(page.Items, "after:", p.Cursor().Key)
	}
	// Output:
	// [{2024-01-01 a} {2024-01-01 b}] after: 2024-01-01,b
	// [{2024-01-02 a} {2024-01-03 c}] after: 2024-01-03,c
	// [] after: 2024-01-03,c
}

// Cursor is the resume point: checkpoint it after each page, and a new
// Paginator started from it, in this process or another, yields exactly the
// remaining items.
func ExamplePaginator_Cursor() {
	src := paginate.SourceFunc[string](fruitAPI)
	var checkpoint []byte
	p := paginate.New(src, paginate.Offset(2))
	for page, err := range p.Pages(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println("synced", page.Items)
		checkpoint, _ = json.Marshal(p.Cursor())
		if slices.Contains(page.Items, "damson") {
			break // the process stops here
		}
	}
	fmt.Println("checkpoint", string(checkpoint))

	var resume paginate.Cursor
	if err := json.Unmarshal(checkpoint, &resume); err != nil {
		fmt.Println("error:", err)
		return
	}
	for fruit, err := range paginate.New(src, paginate.Offset(2), paginate.StartAt(resume)).All(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Print(fruit, " ")
	}
	fmt.Println()
	// Output:
	// synced [apple banana]
	// synced [cherry damson]
	// checkpoint {"offset":4,"limit":2}
	// elder fig grape
}

// A token API whose tokens cycle is stopped with ErrCursorLoop instead of
// running forever.
func ExampleErrCursorLoop() {
	next := map[string]string{"": "A", "A": "B", "B": "A"}
	src := paginate.SourceFunc[string](func(_ context.Context, c paginate.Cursor) (paginate.Page[string], error) {
		name := "page " + c.Token
		if c.Token == "" {
			name = "first page"
		}
		return paginate.Page[string]{Items: []string{name}, Next: next[c.Token]}, nil
	})
	for item, err := range paginate.New(src, paginate.Token()).All(context.Background()) {
		if errors.Is(err, paginate.ErrCursorLoop) {
			fmt.Println("stopped:", err)
			return
		}
		fmt.Println(item)
	}
	// Output:
	// first page
	// page A
	// page B
	// stopped: paginate: page 4 at token="A": paginate: cursor loop: the next token after page 3 was already seen after page 1
}

func ExampleWithConcurrency() {
	p := paginate.New(paginate.SourceFunc[string](fruitAPI), paginate.Offset(2), paginate.WithConcurrency(4))
	var got []string
	for fruit, err := range p.All(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		got = append(got, fruit)
	}
	fmt.Println(got)
	// Output: [apple banana cherry damson elder fig grape]
}
