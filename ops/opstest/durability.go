package opstest

import (
	"context"
	"fmt"
	"strings"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// crashCase is a sync cut short: the operations and checkpoints of
// before, then the operations of each element of after (never
// checkpointed), each followed by a crash, or a Close, and a reopen. The
// resumed sync sends every operation of after again and checkpoints.
type crashCase struct {
	name   string
	crash  bool // Crash, else Close
	before []Step
	after  [][]Step
	batch  int // the operations per Write; 0: all of a run
}

var durabilityTables = []schema.Table{Items, Orders}

// bigItem is an item whose name is long, so that a few hundred of them
// overflow the write buffers a destination may have.
func bigItem(id int64) schema.Row {
	return Item(id, fmt.Sprintf("%d %s", id, strings.Repeat("é😀 long name ", 20)), id%7)
}

// someSteps returns a small mix of operations on both durability tables
// whose keys start at base.
func someSteps(base int64) []Step {
	return []Step{
		Upsert("items", Item(base, "x", 1)),
		Update("items", schema.Row{"id": int64(1), "qty": base}),
		Upsert("orders", Order("t", base, "1.5")),
		Delete("items", schema.Row{"id": int64(2)}),
		Upsert("items", Item(base+1, "y", 2)),
		Delete("orders", schema.Row{"tenant": "t", "id": int64(1)}),
		Truncate("orders"),
		Upsert("orders", Order("t", base+1, "2.5")),
	}
}

// manyUpserts returns n upserts of new big items and orders whose keys
// start at base.
func manyUpserts(base int64, n int) []Step {
	out := make([]Step, 0, n)
	for i := range int64(n) {
		if i%4 == 3 {
			out = append(out, Upsert("orders", Order("bulk", base+i, fmt.Sprint(i, ".25"))))
		} else {
			out = append(out, Upsert("items", bigItem(base+i)))
		}
	}
	return out
}

// firstSteps are the operations a crash case starts with: rows of both
// tables and two checkpoints.
func firstSteps() []Step {
	steps := []Step{
		Upsert("items", Item(1, "a", 1)),
		Upsert("items", Item(2, "b", 2)),
		Upsert("orders", Order("t", 1, "9.99")),
		Checkpoint(Mark("items", 1)),
	}
	steps = append(steps, manyUpserts(1000, 200)...)
	return append(steps, Update("items", schema.Row{"id": int64(1), "name": "a2"}), Checkpoint(Mark("items", 2)))
}

func durabilityChecks() []check {
	cases := []crashCase{
		{name: "CloseWithoutCheckpoint", before: firstSteps(), after: [][]Step{someSteps(100)}},
		{name: "CloseAfterLargeWrites", before: firstSteps(), after: [][]Step{manyUpserts(5000, 3000)}, batch: 100},
		{name: "CrashAfterCheckpoint", crash: true, before: firstSteps(), after: [][]Step{nil}},
		{name: "CrashMidSync", crash: true, before: firstSteps(), after: [][]Step{someSteps(100)}, batch: 3},
		{name: "CrashAfterLargeWrites", crash: true, before: firstSteps(), after: [][]Step{manyUpserts(5000, 3000)}, batch: 100},
		{name: "CrashInOneLargeWrite", crash: true, before: firstSteps(), after: [][]Step{manyUpserts(5000, 3000)}},
		{name: "CrashTwice", crash: true, before: firstSteps(), after: [][]Step{manyUpserts(5000, 1000), manyUpserts(8000, 1000)}, batch: 100},
		{name: "CrashBeforeAnyCheckpoint", crash: true, after: [][]Step{manyUpserts(5000, 1000)}, batch: 100},
		{name: "CrashAfterPrepare", crash: true, after: [][]Step{nil, nil}},
	}
	var out []check
	for _, c := range cases {
		out = append(out, check{c.name, func(e *env) { checkCrash(e, c) }})
	}
	return out
}

// lastState returns the state of the last checkpoint of steps, or
// state.New.
func lastState(steps []Step) *state.State {
	st := state.New()
	for _, s := range steps {
		if s.Kind == 0 {
			st = s.State
		}
	}
	return st
}

func checkCrash(e *env, c crashCase) {
	if c.crash && e.h.Crash == nil {
		e.r.Skip("the harness cannot simulate a crash (Harness.Crash is nil)")
	}
	tables := durabilityTables
	d, loc := e.fresh(tables...)
	var base history // the operations the destination holds for sure
	e.mustSend(d, tables, &base, c.batch, c.before...)
	st := lastState(c.before)
	var resend []Step
	for i, after := range c.after {
		var pending history
		e.mustSend(d, tables, &pending, c.batch, after...)
		resend = append(resend, after...)
		what := fmt.Sprintf("after crash %d", i+1)
		if c.crash {
			e.crash(d)
		} else {
			what = fmt.Sprintf("after Close %d", i+1)
			e.close(d)
		}
		d = e.openOnly(loc)
		// The runner loads the state before it prepares the tables.
		e.expectState(d, st, what+", the last checkpoint's state")
		if err := d.Prepare(context.Background(), tables); err != nil {
			e.r.Fatalf("%s: Prepare: %v", what, err)
		}
		for _, t := range tables {
			k, ok := e.prefix(d, t, base, pending.ofTable(t.Name))
			if !ok {
				return
			}
			base = append(base, pending.ofTable(t.Name)[:k]...)
		}
	}
	// The connector resumes from the state and sends again what followed
	// it, then checkpoints.
	done := Mark("items", 99)
	e.mustSend(d, tables, &base, c.batch, append(resend, Checkpoint(done))...)
	want := e.mustReference(tables, base)
	e.expect(d, want, "after the resumed sync", tables...)
	e.expectState(d, done, "after the resumed sync")
	e.close(d)
	d = e.openAt(loc, tables...)
	e.expect(d, want, "after the resumed sync and a reopen", tables...)
	e.expectState(d, done, "after the resumed sync and a reopen")
}

// prefix finds how many of the operations of pending, on table t, the
// destination d kept after a crash: it must hold the operations of base
// followed by a prefix of pending. It reports a failure and returns false
// if it holds anything else.
func (e *env) prefix(d ops.Destination, t schema.Table, base, pending history) (int, bool) {
	e.r.Helper()
	got := e.rows(d, t.Name)
	tables := durabilityTables
	try := func(k int) string {
		ref := e.mustReference(tables, append(append(history(nil), base...), pending[:k]...))
		return e.diff(t, ref.Rows(t.Name), got)
	}
	if len(pending) > 40 {
		// Upserts of new keys: the prefix is as long as the new rows
		// present.
		c, err := t.Compile()
		if err != nil {
			e.r.Fatalf("%v", err)
		}
		present := make(map[string]bool, len(got))
		for _, row := range got {
			present[keyText(c, row)] = true
		}
		k := 0
		for k < len(pending) && present[keyText(c, pending[k].step.Row)] {
			k++
		}
		if diff := try(k); diff != "" {
			e.r.Errorf("rows of %q after a crash are not those the state covers followed by a prefix of the later operations (%d of %d kept; -want +got):\n%s", t.Name, k, len(pending), diff)
			return 0, false
		}
		return k, true
	}
	for k := len(pending); k >= 0; k-- {
		if try(k) == "" {
			return k, true
		}
	}
	e.r.Errorf("rows of %q after a crash are not those the state covers followed by a prefix of the %d later operations; against the state's alone (-want +got):\n%s", t.Name, len(pending), try(0))
	return 0, false
}

// checkResume closes a destination between two syncs.
func checkResume(e *env) {
	tables := durabilityTables
	d, loc := e.fresh(tables...)
	var hist history
	e.mustSend(d, tables, &hist, 10, firstSteps()...)
	e.close(d)
	d = e.openAt(loc, tables...)
	want := e.mustReference(tables, hist)
	e.expect(d, want, "after a reopen", tables...)
	e.expectState(d, Mark("items", 2), "after a reopen")
	e.mustSend(d, tables, &hist, 4, append(someSteps(100), Checkpoint(Mark("items", 3)))...)
	e.expect(d, e.mustReference(tables, hist), "after the second sync", tables...)
	e.close(d)
	d = e.openAt(loc, tables...)
	e.expect(d, e.mustReference(tables, hist), "after the second sync and a reopen", tables...)
	e.expectState(d, Mark("items", 3), "after the second sync and a reopen")
}
