package opstest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// checkConcurrent writes three tables from two goroutines each, on keys
// of their own, while another goroutine checkpoints.
func checkConcurrent(e *env) {
	tables := []schema.Table{Items, Orders, Labels}
	d, loc := e.fresh(tables...)
	e.clock.set(At(1000)) // one time for every Write: their order is not known
	var hist history
	var plans [][]Step
	for g := range 6 {
		var steps []Step
		base := int64(g * 10000)
		for i := range int64(300) {
			id := base + i
			switch g % 3 {
			case 0:
				steps = append(steps, Upsert("items", Item(id, fmt.Sprint("g", g), i)))
				if i%3 == 0 {
					steps = append(steps, Update("items", schema.Row{"id": id, "qty": int64(-1)}))
				}
				if i%7 == 0 {
					steps = append(steps, Delete("items", schema.Row{"id": id}))
				}
			case 1:
				steps = append(steps, Upsert("orders", Order(fmt.Sprint("g", g), id, "1.5")))
				if i%5 == 0 {
					steps = append(steps, Delete("orders", schema.Row{"tenant": fmt.Sprint("g", g), "id": id}))
				}
			case 2:
				parent := base + i/4
				if i%4 == 0 {
					steps = append(steps, DeleteChildren("issue_labels", schema.Row{"issue_id": parent}))
				}
				steps = append(steps, Upsert("issue_labels", Label(parent, fmt.Sprint("l", i%4), "red")))
			}
		}
		plans = append(plans, steps)
		for _, s := range steps {
			hist = append(hist, timed{s, At(1000)})
		}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, len(plans)+1)
	for _, steps := range plans {
		wg.Go(func() {
			s, err := newSender(tables)
			if err != nil {
				errs <- err
				return
			}
			for chunk := range slices.Chunk(steps, 10) {
				if err := s.write(ctx, d, chunk); err != nil {
					errs <- fmt.Errorf("writing: %w", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			if err := d.Checkpoint(ctx, Mark("items", i)); err != nil {
				errs <- fmt.Errorf("checkpointing during the Writes: %w", err)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		e.r.Errorf("%v", err)
	}
	if err := d.Checkpoint(ctx, Mark("items", 100)); err != nil {
		e.r.Fatalf("Checkpoint: %v", err)
	}
	want := e.mustReference(tables, hist)
	e.expect(d, want, "after concurrent Writes", tables...)
	e.expectState(d, Mark("items", 100), "after concurrent Writes")
	e.close(d)
	d = e.openAt(loc, tables...)
	e.expect(d, want, "after concurrent Writes and a reopen", tables...)
}

// wider is Items with a column inserted in the middle and one at the
// end.
var wider = schema.Table{
	Name:       "items",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.Long},
		{Name: "name", Type: schema.String},
		{Name: "color", Type: schema.String},
		{Name: "qty", Type: schema.Long},
		{Name: "weight", Type: schema.Double},
	},
}

func checkColumnAdded(e *env, reopen bool) {
	d, loc := e.fresh(Items)
	var hist history
	e.mustSend(d, []schema.Table{Items}, &hist, 0,
		Upsert("items", Item(1, "a", 1)),
		Upsert("items", Item(2, "b", 2)),
		Checkpoint(Mark("items", 1)),
	)
	if reopen {
		e.close(d)
		d = e.openOnly(loc)
	}
	if err := d.Prepare(context.Background(), []schema.Table{wider}); err != nil {
		e.r.Fatalf("Prepare with columns added: %v", err)
	}
	tables := []schema.Table{wider}
	e.mustSend(d, tables, &hist, 0,
		Upsert("items", schema.Row{"id": int64(3), "name": "c", "color": "red", "qty": int64(3), "weight": 1.5}),
		Update("items", schema.Row{"id": int64(1), "color": "blue"}),
		Upsert("items", schema.Row{"id": int64(4), "weight": 2.5}),
		Checkpoint(Mark("items", 2)),
	)
	want := e.mustReference(tables, hist)
	e.expect(d, want, "after columns were added", tables...)
	e.close(d)
	d = e.openAt(loc, wider)
	e.expect(d, want, "after columns were added and a reopen", tables...)
}

func checkTableAdded(e *env) {
	d, loc := e.fresh(Items)
	var hist history
	e.mustSend(d, []schema.Table{Items}, &hist, 0, Upsert("items", Item(1, "a", 1)), Checkpoint(Mark("items", 1)))
	tables := []schema.Table{Items, Orders}
	if err := d.Prepare(context.Background(), tables); err != nil {
		e.r.Fatalf("Prepare with a table added: %v", err)
	}
	e.mustSend(d, tables, &hist, 0, Upsert("orders", Order("t", 1, "1")), Upsert("items", Item(2, "b", 2)), Checkpoint(Mark("items", 2)))
	want := e.mustReference(tables, hist)
	e.expect(d, want, "after a table was added", tables...)
	e.close(d)
	// A run that declares only one of the tables leaves the other be.
	d = e.openAt(loc, Orders)
	e.mustSend(d, []schema.Table{Orders}, &hist, 0, Upsert("orders", Order("t", 2, "2")), Checkpoint(Mark("orders", 3)))
	e.close(d)
	d = e.openAt(loc, tables...)
	e.expect(d, e.mustReference(tables, hist), "after a run that declared one table", tables...)
}

func checkTypeChanged(e *env) {
	changed := Items
	changed.Columns = []schema.Column{{Name: "id", Type: schema.Long}, {Name: "name", Type: schema.String}, {Name: "qty", Type: schema.String}}
	ctx := context.Background()
	d, loc := e.fresh(Items)
	var hist history
	e.mustSend(d, []schema.Table{Items}, &hist, 0, Upsert("items", Item(1, "a", 1)), Checkpoint(Mark("items", 1)))
	if err := d.Prepare(ctx, []schema.Table{changed}); !errors.Is(err, ops.ErrSchemaChange) {
		e.r.Errorf("Prepare with a column's type changed: error %v, want one wrapping ops.ErrSchemaChange", err)
	}
	// The table is still the old one.
	e.mustSend(d, []schema.Table{Items}, &hist, 0, Upsert("items", Item(2, "b", 2)), Checkpoint(Mark("items", 2)))
	e.close(d)
	d = e.openOnly(loc)
	if err := d.Prepare(ctx, []schema.Table{changed}); !errors.Is(err, ops.ErrSchemaChange) {
		e.r.Errorf("Prepare after a reopen with a column's type changed: error %v, want one wrapping ops.ErrSchemaChange", err)
	}
	if err := d.Prepare(ctx, []schema.Table{Items}); err != nil {
		e.r.Fatalf("Prepare with the table as it was: %v", err)
	}
	e.expect(d, e.mustReference([]schema.Table{Items}, hist), "after a refused type change", Items)
}

// checkUnknownTable writes to a table Prepare did not declare.
func checkUnknownTable(e *env) {
	d, _ := e.fresh(Items)
	ctx := context.Background()
	err := d.Write(ctx, []ops.Op{{Kind: ops.OpUpsert, Table: "nope", Row: []any{int64(1), "a", int64(1)}}})
	if !errors.Is(err, schema.ErrUnknownTable) {
		e.r.Errorf("Write to an undeclared table: error %v, want one wrapping schema.ErrUnknownTable", err)
	}
	err = d.Write(ctx, []ops.Op{{Kind: ops.OpTruncate, Table: "orders"}})
	if !errors.Is(err, schema.ErrUnknownTable) {
		e.r.Errorf("Truncate of an undeclared table: error %v, want one wrapping schema.ErrUnknownTable", err)
	}
}

// checkCancelled calls every method with a cancelled context.
func checkCancelled(e *env) {
	d, _ := e.fresh(Items)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _ := newSender([]schema.Table{Items})
	calls := map[string]func() error{
		"Prepare":    func() error { return d.Prepare(ctx, []schema.Table{Items}) },
		"Write":      func() error { return s.write(ctx, d, []Step{Upsert("items", Item(1, "a", 1))}) },
		"Checkpoint": func() error { return d.Checkpoint(ctx, state.New()) },
	}
	if l, ok := d.(ops.StateLoader); ok {
		calls["LoadState"] = func() error { _, err := l.LoadState(ctx); return err }
	}
	for _, name := range sortedKeys(calls) {
		if err := calls[name](); !errors.Is(err, context.Canceled) {
			e.r.Errorf("%s with a cancelled context: error %v, want one wrapping context.Canceled", name, err)
		}
	}
}

func checkInvalidTable(e *env) {
	d, _ := e.fresh(Items)
	bad := schema.Table{Name: "bad", Columns: []schema.Column{{Name: "id", Type: schema.Long}}}
	if err := d.Prepare(context.Background(), []schema.Table{bad}); !errors.Is(err, schema.ErrInvalidTable) {
		e.r.Errorf("Prepare of a table without a primary key: error %v, want one wrapping schema.ErrInvalidTable", err)
	}
}

// checkInvalidUTF8 declares names that are not valid UTF-8, which two
// destinations would store differently (replaced, refused, kept).
func checkInvalidUTF8(e *env) {
	d, _ := e.fresh(Items)
	ctx := context.Background()
	badTable := schema.Table{Name: "t\xff", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}}}
	if err := d.Prepare(ctx, []schema.Table{badTable}); err == nil {
		e.r.Errorf("Prepare of a table named %q succeeded, want an error", badTable.Name)
	}
	badColumn := schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}, {Name: "c\xfe", Type: schema.String}}}
	if err := d.Prepare(ctx, []schema.Table{badColumn}); err == nil {
		e.r.Errorf("Prepare of a column named %q succeeded, want an error", "c\xfe")
	}
	var hist history
	e.mustSend(d, []schema.Table{Items}, &hist, 0, Upsert("items", Item(1, "a", 1)), Checkpoint(Mark("items", 1)))
	e.expect(d, e.mustReference([]schema.Table{Items}, hist), "after refused names", Items)
}

func checkNilState(e *env) {
	d, _ := e.fresh(Items)
	if err := d.Checkpoint(context.Background(), nil); err == nil {
		e.r.Errorf("Checkpoint(nil) succeeded, want an error")
	}
}

// checkClockOnce counts the clock reads of a Write of many rows.
func checkClockOnce(e *env) {
	d, _ := e.fresh(Items, Orders)
	var steps []Step
	for i := range int64(100) {
		steps = append(steps, Upsert("items", Item(i, "a", i)), Upsert("orders", Order("t", i, "1")))
	}
	s, err := newSender([]schema.Table{Items, Orders})
	if err != nil {
		e.r.Fatalf("%v", err)
	}
	e.clock.take()
	if err := s.write(context.Background(), d, steps); err != nil {
		e.r.Fatalf("Write: %v", err)
	}
	if n := e.clock.take(); n > 1 {
		e.r.Errorf("a Write of %d operations read the clock %d times, want at most once", len(steps), n)
	}
}

// checkRandom sends a random sequence in random batches, comparing the
// destination with the reference at checkpoints and after reopens.
func checkRandom(e *env, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x6f7073))
	n := e.o.RandomSteps
	if n == 0 {
		n = 400
	}
	steps := RandomSteps(r, n)
	tables := []schema.Table{Wide}
	d, loc := e.fresh(tables...)
	var hist history
	inc, err := newIncremental(tables)
	if err != nil {
		e.r.Fatalf("%v", err)
	}
	ref := func() *ops.Memory {
		m, err := inc.update(hist)
		if err != nil {
			e.r.Fatalf("%v", err)
		}
		return m
	}
	for i := 0; i < len(steps); {
		j := min(len(steps), i+1+r.IntN(20))
		for k := i; k < j; k++ {
			if steps[k].Kind == 0 {
				j = k + 1 // compare at each checkpoint
				break
			}
		}
		e.mustSend(d, tables, &hist, 0, steps[i:j]...)
		if last := steps[j-1]; last.Kind == 0 && r.IntN(3) == 0 {
			what := fmt.Sprintf("seed %d, after step %d", seed, j-1)
			e.expect(d, ref(), what, tables...)
			if r.IntN(6) == 0 {
				e.close(d)
				d = e.openAt(loc, tables...)
				e.expect(d, ref(), what+" and a reopen", tables...)
				e.expectState(d, last.State, what+" and a reopen")
			}
		}
		i = j
	}
	e.mustSend(d, tables, &hist, 0, Checkpoint(Mark("wide", n)))
	e.close(d)
	d = e.openAt(loc, tables...)
	e.expect(d, ref(), fmt.Sprintf("seed %d, at the end", seed), tables...)
}
