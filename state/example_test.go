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
	st.Table("orders").Mark = state.Mark{Cursor: state.Time(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)), ID: state.Int(42)}
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
	// next run: 2024-05-01T10:00:00Z id=42
}

func ExampleMark_Compare() {
	t := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	// Numeric ids compare as numbers...
	a := state.Mark{Cursor: state.Time(t), ID: state.Int(999999999)}
	b := state.Mark{Cursor: state.Time(t), ID: state.Int(1000000000)}
	fmt.Println(a.Compare(b), a.Before(b))
	// ...and string ids byte by byte.
	c := state.Mark{Cursor: state.Time(t), ID: state.String("999999999")}
	d := state.Mark{Cursor: state.Time(t), ID: state.String("1000000000")}
	fmt.Println(c.Compare(d), c.Before(d))
	// Output:
	// -1 true
	// 1 false
}

func ExampleMark_As() {
	// A mark checkpointed with a string id, read by a stream whose ids
	// are integers.
	old := state.Mark{Cursor: state.Int(1714557600), ID: state.String("1000000000")}
	m, err := old.As(state.TypeInt, state.TypeInt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m)
	_, err = state.Mark{ID: state.String("cus_9")}.As(0, state.TypeInt)
	fmt.Println(err)
	// Output:
	// 1714557600 id=1000000000
	// state: mark id: state: value of another type: "cus_9" cannot be read as int
}
