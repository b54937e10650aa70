package opstest

import (
	"fmt"
	"strings"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

func typesChecks() []check {
	var out []check
	for _, typ := range schema.Types() {
		out = append(out, check{typ.String(), func(e *env) { checkType(e, typ) }})
	}
	return append(out,
		check{"NUL", checkNUL},
		check{"Realistic", checkRealistic},
		check{"Keys", checkKeys},
	)
}

// column returns the name of the column of type typ in Types.
func column(typ schema.Type) string { return strings.ToLower(typ.String()) }

// roundTrip sends steps to a new destination holding tables, then
// compares its rows with the reference after a checkpoint and again after
// a reopen.
func roundTrip(e *env, tables []schema.Table, steps []Step) {
	e.r.Helper()
	d, loc := e.fresh(tables...)
	var hist history
	e.mustSend(d, tables, &hist, 7, append(steps, Checkpoint(Mark(tables[0].Name, 1)))...)
	want := e.mustReference(tables, hist)
	e.expect(d, want, "after a checkpoint", tables...)
	e.close(d)
	d = e.openAt(loc, tables...)
	e.expect(d, want, "after a reopen", tables...)
}

// checkType writes each edge value of typ, NULL, realistic values and
// updates of them, in the column of that type of Types.
func checkType(e *env, typ schema.Type) {
	col := column(typ)
	var steps []Step
	for i, v := range EdgeValues(typ) {
		steps = append(steps, Upsert("types", schema.Row{"id": int64(i), col: v}))
	}
	steps = append(steps,
		Upsert("types", schema.Row{"id": int64(-1), col: nil}),
		Upsert("types", TypesRow(100)),
		Upsert("types", TypesRow(101)),
		Update("types", schema.Row{"id": int64(100), col: nil}),
		Update("types", schema.Row{"id": int64(101), col: EdgeValues(typ)[0]}),
		Update("types", schema.Row{"id": int64(0), col: Value(typ, 3)}),
	)
	roundTrip(e, []schema.Table{Types}, steps)
}

// checkNUL writes text holding U+0000, which some databases cannot
// store.
func checkNUL(e *env) {
	roundTrip(e, []schema.Table{Types}, []Step{
		Upsert("types", schema.Row{"id": int64(1), "string": "nul\x00inside", "xml": "<a>\x00</a>"}),
		Upsert("types", schema.Row{"id": int64(2), "string": "\x00"}),
	})
}

// checkRealistic writes full rows of every type, then updates and
// deletes some.
func checkRealistic(e *env) {
	var steps []Step
	for i := range 40 {
		steps = append(steps, Upsert("types", TypesRow(i)))
	}
	for i := 0; i < 40; i += 3 {
		steps = append(steps, Update("types", schema.Row{"id": int64(i), "string": fmt.Sprint("updated ", i), "json": nil}))
	}
	for i := 1; i < 40; i += 5 {
		steps = append(steps, Delete("types", schema.Row{"id": int64(i)}))
	}
	roundTrip(e, []schema.Table{Types}, steps)
}

// checkKeys uses the edge values of each type that can be a key as
// primary keys, alone and with a second key column.
func checkKeys(e *env) {
	var tables []schema.Table
	var steps []Step
	for _, typ := range schema.Types() {
		if typ == schema.Binary || typ == schema.JSON {
			continue
		}
		name := "key_" + column(typ)
		tables = append(tables, schema.Table{
			Name:       name,
			PrimaryKey: []string{"k", "n"},
			Columns:    []schema.Column{{Name: "k", Type: typ}, {Name: "n", Type: schema.Long}, {Name: "v", Type: schema.String}},
		})
		for i, v := range EdgeValues(typ) {
			if s, ok := v.(string); ok && len(s) > 200 {
				continue // longer than the keys of some databases' indexes
			}
			steps = append(steps,
				Upsert(name, schema.Row{"k": v, "n": int64(1), "v": fmt.Sprint("first ", i)}),
				Upsert(name, schema.Row{"k": v, "n": int64(2), "v": fmt.Sprint("second ", i)}),
			)
		}
		// Write every key again, then delete one row of each value.
		for i, v := range EdgeValues(typ) {
			if s, ok := v.(string); ok && len(s) > 200 {
				continue
			}
			steps = append(steps,
				Update(name, schema.Row{"k": v, "n": int64(1), "v": fmt.Sprint("updated ", i)}),
				Delete(name, schema.Row{"k": v, "n": int64(2)}),
			)
		}
	}
	roundTrip(e, tables, steps)
}

// checkSystemColumns checks the system columns by name and type, on live
// and deleted rows.
func checkSystemColumns(e *env) {
	d, _ := e.fresh(Items)
	e.mustSend(d, []schema.Table{Items}, nil, 1,
		Upsert("items", Item(1, "a", 1)),
		Upsert("items", Item(2, "b", 2)),
		Delete("items", schema.Row{"id": int64(2)}),
		Checkpoint(Mark("items", 1)),
	)
	rows := e.rows(d, "items")
	if len(rows) != 2 {
		e.r.Fatalf("Rows after 2 upserts and a delete: %d rows, want 2 (a deleted row stays, marked)", len(rows))
	}
	for _, row := range rows {
		id := row["id"]
		wantSynced, wantDeleted := At(1), false
		if id == int64(2) {
			wantSynced, wantDeleted = At(3), true
		}
		synced, ok := row[ops.SyncedColumn]
		if !ok {
			e.r.Errorf("row %v has no %s column", id, ops.SyncedColumn)
		} else if got, ok := synced.(time.Time); !ok || !got.Equal(wantSynced) {
			e.r.Errorf("row %v: %s = %v (%T), want %v, the time of its last Write, as a time.Time", id, ops.SyncedColumn, synced, synced, wantSynced)
		}
		deleted, ok := row[ops.DeletedColumn]
		if !ok {
			e.r.Errorf("row %v has no %s column", id, ops.DeletedColumn)
		} else if deleted != wantDeleted {
			e.r.Errorf("row %v: %s = %v (%T), want %v", id, ops.DeletedColumn, deleted, deleted, wantDeleted)
		}
	}
}
