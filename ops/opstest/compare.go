package opstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// timed is a row operation as it was sent, with the time of its Write.
type timed struct {
	step Step
	at   time.Time
}

// history is the row operations sent to a destination, in order.
type history []timed

// ofTable returns the operations of h on table.
func (h history) ofTable(table string) history {
	var out history
	for _, t := range h {
		if t.step.Table == table {
			out = append(out, t)
		}
	}
	return out
}

// send sends steps to d as Apply does, at most max row operations per
// Write (0: no limit), each Write at the next tick of the check's clock,
// and appends the row operations to hist.
func (e *env) send(d ops.Destination, tables []schema.Table, hist *history, max int, steps ...Step) error {
	s, err := newSender(tables)
	if err != nil {
		return err
	}
	s.before = func([]ops.Op) {
		e.mu.Lock()
		e.writes++
		at := At(e.writes)
		e.mu.Unlock()
		e.clock.set(at)
		e.clock.take()
		e.pending = at
	}
	i := 0
	for i < len(steps) {
		j := i
		if steps[i].Kind == 0 {
			j++
		} else {
			for j < len(steps) && steps[j].Kind != 0 && (max == 0 || j-i < max) {
				j++
			}
		}
		if err := s.send(context.Background(), d, steps[i:j], 0); err != nil {
			return fmt.Errorf("steps %d to %d: %w", i, j-1, err)
		}
		if steps[i].Kind != 0 && hist != nil {
			for _, st := range steps[i:j] {
				*hist = append(*hist, timed{st, e.pending})
			}
		}
		i = j
	}
	return nil
}

// mustSend is send failing the check on an error.
func (e *env) mustSend(d ops.Destination, tables []schema.Table, hist *history, max int, steps ...Step) {
	e.r.Helper()
	if err := e.send(d, tables, hist, max, steps...); err != nil {
		e.r.Fatalf("sending: %v", err)
	}
}

// reference returns a Memory holding the result of the operations of
// hist, each at its time, with tables declared.
func reference(tables []schema.Table, hist history) (*ops.Memory, error) {
	m := ops.NewMemory()
	var at time.Time
	m.Now = func() time.Time { return at }
	ctx := context.Background()
	if err := m.Prepare(ctx, tables); err != nil {
		return nil, err
	}
	s, err := newSender(tables)
	if err != nil {
		return nil, err
	}
	for _, t := range hist {
		at = t.at
		if err := s.write(ctx, m, []Step{t.step}); err != nil {
			return nil, fmt.Errorf("opstest: reference: %w", err)
		}
	}
	return m, nil
}

// incremental is a reference kept up to date with a growing history.
type incremental struct {
	m    *ops.Memory
	s    *sender
	at   time.Time
	done int // the operations of the history applied
}

func newIncremental(tables []schema.Table) (*incremental, error) {
	r := &incremental{m: ops.NewMemory()}
	r.m.Now = func() time.Time { return r.at }
	if err := r.m.Prepare(context.Background(), tables); err != nil {
		return nil, err
	}
	var err error
	r.s, err = newSender(tables)
	return r, err
}

// update applies the operations of hist not applied yet and returns the
// reference.
func (r *incremental) update(hist history) (*ops.Memory, error) {
	for _, t := range hist[r.done:] {
		r.at = t.at
		if err := r.s.write(context.Background(), r.m, []Step{t.step}); err != nil {
			return nil, fmt.Errorf("opstest: reference: %w", err)
		}
		r.done++
	}
	return r.m, nil
}

// mustReference is reference failing the check on an error.
func (e *env) mustReference(tables []schema.Table, hist history) *ops.Memory {
	e.r.Helper()
	m, err := reference(tables, hist)
	if err != nil {
		e.r.Fatalf("%v", err)
	}
	return m
}

// expect reports a difference between the rows d holds and those of
// want, for each of tables.
func (e *env) expect(d ops.Destination, want *ops.Memory, what string, tables ...schema.Table) {
	e.r.Helper()
	for _, t := range tables {
		if diff := e.diff(t, want.Rows(t.Name), e.rows(d, t.Name)); diff != "" {
			e.r.Errorf("%s: rows of %q differ from the reference (-want +got):\n%s", what, t.Name, diff)
		}
	}
}

// diff compares rows of table as the suite does, with its options.
func (e *env) diff(table schema.Table, want, got []schema.Row) string {
	return diffRows(table, want, got, e.o.TimePrecision, e.o.Compare)
}

// DiffRows compares two sets of rows of table, in any order, as the
// suite does, and returns the differences (-want +got) keyed by primary
// key, or "" when they hold the same rows: the same columns, system
// columns included if present, with equal values, JSON values compared as
// [JSONText] and empty byte slices equal whether nil or not. opts add go-cmp
// options.
func DiffRows(table schema.Table, want, got []schema.Row, opts ...cmp.Option) string {
	return diffRows(table, want, got, 0, opts)
}

func diffRows(table schema.Table, want, got []schema.Row, prec time.Duration, opts []cmp.Option) string {
	c, err := table.Compile()
	if err != nil {
		return err.Error()
	}
	w, g := keyed(c, want, prec), keyed(c, got, prec)
	if len(got) != len(g) {
		return fmt.Sprintf("%d rows with %d distinct keys: a key is held twice", len(got), len(g))
	}
	if reflect.DeepEqual(w, g) || cmp.Equal(w, g, opts...) {
		return ""
	}
	return cmp.Diff(w, g, opts...)
}

// JSONText is how the suite compares JSON values: their text with the
// keys of objects sorted and no white space (numbers keep their digits),
// so that a destination may reorder keys and spacing as a Postgres jsonb
// column does. Comparisons show JSON values as JSONText.
type JSONText string

// jsonText returns the JSONText of m.
func jsonText(m []byte) JSONText {
	dec := json.NewDecoder(bytes.NewReader(m))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return JSONText(fmt.Sprintf("invalid JSON %q", m))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return JSONText(fmt.Sprintf("JSON %q: %v", m, err))
	}
	return JSONText(b)
}

// keyed returns rows by the text of their primary key, with times
// truncated to prec and empty byte slices made non-nil, so that the
// comparison ignores what a destination may not keep.
func keyed(c *schema.Compiled, rows []schema.Row, prec time.Duration) map[string]schema.Row {
	t := c.Table()
	types := make(map[string]schema.Type, len(t.Columns))
	for _, col := range t.Columns {
		types[col.Name] = col.Type
	}
	out := make(map[string]schema.Row, len(rows))
	for _, row := range rows {
		r := maps.Clone(row)
		for name, v := range r {
			switch x := v.(type) {
			case time.Time:
				typ, ok := types[name]
				if prec > 0 && (typ == schema.NaiveDateTime || typ == schema.UTCDateTime || (!ok && name == ops.SyncedColumn)) {
					x = x.Truncate(prec)
				}
				r[name] = x.UTC()
			case []byte:
				if x == nil {
					r[name] = []byte{}
				}
			case json.RawMessage:
				r[name] = jsonText(x)
			}
		}
		out[keyText(c, r)] = r
	}
	return out
}

// keyText returns the text of the primary key of row, a row by name with
// any system columns, as schema.Compiled.KeyOf writes it.
func keyText(c *schema.Compiled, row schema.Row) string {
	t := c.Table()
	key := make(schema.Row, len(t.PrimaryKey))
	for _, k := range t.PrimaryKey {
		key[k] = row[k]
	}
	vals, err := c.NormalizeKeys(key)
	if err != nil {
		return fmt.Sprintf("invalid key %v", key)
	}
	return c.KeyOf(vals)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
