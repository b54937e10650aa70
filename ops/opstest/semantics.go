package opstest

import (
	"maps"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// semanticsCase is a sequence of operations with the rows it must leave,
// when each operation is its own Write (Write n at At(n)).
type semanticsCase struct {
	name   string
	tables []schema.Table
	steps  []Step
	want   map[string][]schema.Row // by table; with system columns
}

// sys returns row with the system columns of a row written by Write n.
func sys(row schema.Row, n int, deleted bool) schema.Row {
	out := maps.Clone(row)
	out[ops.SyncedColumn] = At(n)
	out[ops.DeletedColumn] = deleted
	return out
}

func item(id int64, name, qty any) schema.Row { return schema.Row{"id": id, "name": name, "qty": qty} }

func label(issue int64, l string, color any) schema.Row {
	return schema.Row{"issue_id": issue, "label": l, "color": color}
}

func semanticsCases() []semanticsCase {
	items := []schema.Table{Items}
	labels := []schema.Table{Labels}
	wide := func(tenant string, id int64, day int, s any) schema.Row {
		row := schema.Row{"tenant": tenant, "id": id, "day": T0.AddDate(0, 0, day).Truncate(24 * 60 * 60 * 1e9), "s": s}
		for _, c := range Wide.Columns[4:] {
			row[c.Name] = nil
		}
		return row
	}
	wkey := func(tenant string, id int64, day int) schema.Row {
		return schema.Row{"tenant": tenant, "id": id, "day": T0.AddDate(0, 0, day).Truncate(24 * 60 * 60 * 1e9)}
	}
	return []semanticsCase{
		{
			name: "UpsertInserts", tables: items,
			steps: []Step{Upsert("items", Item(1, "a", 1))},
			want:  map[string][]schema.Row{"items": {sys(item(1, "a", int64(1)), 1, false)}},
		},
		{
			name: "UpsertReplacesTheWholeRow", tables: items,
			steps: []Step{Upsert("items", Item(1, "a", 1)), Upsert("items", schema.Row{"id": int64(1), "name": "b"})},
			want:  map[string][]schema.Row{"items": {sys(item(1, "b", nil), 2, false)}},
		},
		{
			name: "UpdateMergesColumns", tables: items,
			steps: []Step{Upsert("items", Item(1, "a", 1)), Update("items", schema.Row{"id": int64(1), "qty": int64(5)})},
			want:  map[string][]schema.Row{"items": {sys(item(1, "a", int64(5)), 2, false)}},
		},
		{
			name: "UpdateSetsNULL", tables: items,
			steps: []Step{Upsert("items", Item(1, "a", 1)), Update("items", schema.Row{"id": int64(1), "name": nil})},
			want:  map[string][]schema.Row{"items": {sys(item(1, nil, int64(1)), 2, false)}},
		},
		{
			name: "UpdateOfEveryColumn", tables: items,
			steps: []Step{Upsert("items", Item(1, "a", 1)), UpdateAll("items", schema.Row{"id": int64(1), "name": "b"})},
			want:  map[string][]schema.Row{"items": {sys(item(1, "b", nil), 2, false)}},
		},
		{
			name: "UpdateOfAMissingRowInsertsIt", tables: items,
			steps: []Step{Update("items", schema.Row{"id": int64(2), "name": "x"})},
			want:  map[string][]schema.Row{"items": {sys(item(2, "x", nil), 1, false)}},
		},
		{
			name: "UpdateOfADeletedRowStartsAfresh", tables: items,
			steps: []Step{
				Upsert("items", Item(1, "a", 1)),
				Delete("items", schema.Row{"id": int64(1)}),
				Update("items", schema.Row{"id": int64(1), "qty": int64(2)}),
			},
			want: map[string][]schema.Row{"items": {sys(item(1, nil, int64(2)), 3, false)}},
		},
		{
			name: "DeleteMarksTheRowDeleted", tables: items,
			steps: []Step{
				Upsert("items", Item(1, "a", 1)),
				Upsert("items", Item(2, "b", 2)),
				Delete("items", schema.Row{"id": int64(1), "name": "ignored"}),
			},
			want: map[string][]schema.Row{"items": {sys(item(1, "a", int64(1)), 3, true), sys(item(2, "b", int64(2)), 2, false)}},
		},
		{
			name: "DeleteOfAMissingRowDoesNothing", tables: items,
			steps: []Step{Delete("items", schema.Row{"id": int64(3)})},
			want:  map[string][]schema.Row{"items": {}},
		},
		{
			name: "DeleteOfADeletedRowKeepsItsTime", tables: items,
			steps: []Step{
				Upsert("items", Item(1, "a", 1)),
				Delete("items", schema.Row{"id": int64(1)}),
				Delete("items", schema.Row{"id": int64(1)}),
			},
			want: map[string][]schema.Row{"items": {sys(item(1, "a", int64(1)), 2, true)}},
		},
		{
			name: "UpsertRevivesADeletedRow", tables: items,
			steps: []Step{
				Upsert("items", Item(1, "a", 1)),
				Delete("items", schema.Row{"id": int64(1)}),
				Upsert("items", Item(1, "c", 3)),
			},
			want: map[string][]schema.Row{"items": {sys(item(1, "c", int64(3)), 3, false)}},
		},
		{
			name: "TruncateThenUpsert", tables: items,
			steps: []Step{
				Upsert("items", Item(1, "a", 1)),
				Upsert("items", Item(2, "b", 2)),
				Truncate("items"),
				Upsert("items", Item(2, "b2", 20)),
				Upsert("items", Item(3, "c", 30)),
				Truncate("items"),
				Upsert("items", Item(3, "c2", 31)),
			},
			want: map[string][]schema.Row{"items": {
				sys(item(1, "a", int64(1)), 3, true),
				sys(item(2, "b2", int64(20)), 6, true),
				sys(item(3, "c2", int64(31)), 7, false),
			}},
		},
		{
			name: "TruncateOfAnEmptyTable", tables: items,
			steps: []Step{Truncate("items"), Truncate("items")},
			want:  map[string][]schema.Row{"items": {}},
		},
		{
			name: "UpdateOfATruncatedRowStartsAfresh", tables: items,
			steps: []Step{Upsert("items", Item(1, "a", 1)), Truncate("items"), Update("items", schema.Row{"id": int64(1), "name": "z"})},
			want:  map[string][]schema.Row{"items": {sys(item(1, "z", nil), 3, false)}},
		},
		{
			name: "ValuesAreNormalized", tables: items,
			steps: []Step{Upsert("items", schema.Row{"id": 7, "name": "n", "qty": int32(3)})},
			want:  map[string][]schema.Row{"items": {sys(item(7, "n", int64(3)), 1, false)}},
		},
		{
			name: "CompositeKeysAreDistinct", tables: []schema.Table{Orders},
			steps: []Step{
				Upsert("orders", Order("a|b", 1, "10.00")),
				Upsert("orders", Order("a", 1, "-0.5")),
				Upsert("orders", Order("a", 11, "1")),
				Upsert("orders", Order("a1", 1, "2")),
				Delete("orders", schema.Row{"tenant": "a", "id": int64(1)}),
			},
			want: map[string][]schema.Row{"orders": {
				sys(Order("a|b", 1, "10.00"), 1, false),
				sys(Order("a", 1, "-0.5"), 5, true),
				sys(Order("a", 11, "1"), 3, false),
				sys(Order("a1", 1, "2"), 4, false),
			}},
		},
		{
			name: "DeleteChildrenOfOneParent", tables: labels,
			steps: []Step{
				Upsert("issue_labels", Label(1, "bug", "red")),
				Upsert("issue_labels", Label(1, "ui", "blue")),
				Upsert("issue_labels", Label(2, "bug", "red")),
				Upsert("issue_labels", Label(11, "bug", "red")),
				DeleteChildren("issue_labels", schema.Row{"issue_id": int64(1)}),
				Upsert("issue_labels", Label(1, "ui", "green")),
			},
			want: map[string][]schema.Row{"issue_labels": {
				sys(label(1, "bug", "red"), 5, true),
				sys(label(1, "ui", "green"), 6, false),
				sys(label(2, "bug", "red"), 3, false),
				sys(label(11, "bug", "red"), 4, false),
			}},
		},
		{
			name: "DeleteChildrenKeepsDeletedTimes", tables: labels,
			steps: []Step{
				Upsert("issue_labels", Label(1, "bug", "red")),
				Upsert("issue_labels", Label(1, "ui", "blue")),
				Delete("issue_labels", schema.Row{"issue_id": int64(1), "label": "ui"}),
				DeleteChildren("issue_labels", schema.Row{"issue_id": int64(1)}),
				DeleteChildren("issue_labels", schema.Row{"issue_id": int64(1)}),
			},
			want: map[string][]schema.Row{"issue_labels": {
				sys(label(1, "bug", "red"), 4, true),
				sys(label(1, "ui", "blue"), 3, true),
			}},
		},
		{
			name: "DeleteChildrenOfAParentWithNone", tables: labels,
			steps: []Step{
				Upsert("issue_labels", Label(2, "bug", "red")),
				DeleteChildren("issue_labels", schema.Row{"issue_id": int64(1)}),
				Upsert("issue_labels", label(1, "new", nil)),
			},
			want: map[string][]schema.Row{"issue_labels": {
				sys(label(1, "new", nil), 3, false),
				sys(label(2, "bug", "red"), 1, false),
			}},
		},
		{
			name: "DeleteChildrenByLeadingColumns", tables: []schema.Table{Wide},
			steps: []Step{
				Upsert("wide", wide("a", 1, 0, "a1")),
				Upsert("wide", wide("a", 1, 1, "a1+")),
				Upsert("wide", wide("a", 2, 0, "a2")),
				Upsert("wide", wide("ab", 1, 0, "ab1")),
				Upsert("wide", wide("b", 1, 0, "b1")),
				DeleteChildren("wide", schema.Row{"tenant": "a", "id": int64(1)}),
				Upsert("wide", wide("a", 1, 1, "back")),
				DeleteChildren("wide", schema.Row{"tenant": "a"}),
				Update("wide", schema.Row{"tenant": "a", "id": int64(2), "day": wkey("a", 2, 0)["day"], "b": true}),
			},
			want: map[string][]schema.Row{"wide": {
				sys(wide("a", 1, 0, "a1"), 6, true),
				sys(wide("a", 1, 1, "back"), 8, true),
				sys(func() schema.Row { r := wide("a", 2, 0, nil); r["b"] = true; return r }(), 9, false),
				sys(wide("ab", 1, 0, "ab1"), 4, false),
				sys(wide("b", 1, 0, "b1"), 5, false),
			}},
		},
		{
			name: "TablesAreIndependent", tables: []schema.Table{Items, Orders},
			steps: []Step{
				Upsert("items", Item(1, "a", 1)),
				Upsert("orders", Order("t", 1, "1")),
				Truncate("orders"),
				Upsert("items", Item(2, "b", 2)),
			},
			want: map[string][]schema.Row{
				"items":  {sys(item(1, "a", int64(1)), 1, false), sys(item(2, "b", int64(2)), 4, false)},
				"orders": {sys(Order("t", 1, "1"), 3, true)},
			},
		},
	}
}

func semanticsChecks() []check {
	var out []check
	for _, c := range semanticsCases() {
		out = append(out, check{c.name, func(e *env) { checkSemantics(e, c) }})
	}
	return out
}

// checkSemantics sends the case one operation per Write and compares the
// rows with the case's, then sends it in one Write to a new destination
// and compares with the reference.
func checkSemantics(e *env, c semanticsCase) {
	d, _ := e.fresh(c.tables...)
	steps := append(c.steps, Checkpoint(Mark(c.tables[0].Name, 1)))
	e.mustSend(d, c.tables, nil, 1, steps...)
	for _, t := range c.tables {
		if diff := e.diff(t, c.want[t.Name], e.rows(d, t.Name)); diff != "" {
			e.r.Errorf("one operation per Write: rows of %q mismatch (-want +got):\n%s", t.Name, diff)
		}
	}

	d, _ = e.fresh(c.tables...)
	var hist history
	e.mustSend(d, c.tables, &hist, 0, steps...)
	e.expect(d, e.mustReference(c.tables, hist), "all operations in one Write", c.tables...)
}
