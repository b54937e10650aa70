package state_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/connectkit/connector/state"
)

func ExampleFile() {
	dir, err := os.MkdirTemp("", "state-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store := state.NewFile(filepath.Join(dir, "state.json"))

	// First run: nothing saved yet, so Load gives a new state.
	st, err := store.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first run:", st.Table("orders").Mark)
	st.Table("orders").Mark = state.Mark{UpdatedAt: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), ID: "42"}
	if err := store.Save(ctx, st); err != nil {
		log.Fatal(err)
	}

	// Next run, possibly in another process.
	st, err = state.NewFile(filepath.Join(dir, "state.json")).Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("next run:", st.Table("orders").Mark)
	// Output:
	// first run: zero
	// next run: 2024-05-01T10:00:00Z id="42"
}

func ExampleMark_Compare() {
	t := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	a := state.Mark{UpdatedAt: t, ID: "9"}
	b := state.Mark{UpdatedAt: t, ID: "10"}
	fmt.Println(a.Compare(b), b.Before(a))
	// Output: 1 true
}
