package opstest_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// memories keeps one Memory per location, so that reopening a location
// finds its tables and state again, as a file or database would.
type memories struct {
	mu   sync.Mutex
	byAt map[string]*ops.Memory
}

func (ms *memories) at(loc string, now func() time.Time) *ops.Memory {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.byAt == nil {
		ms.byAt = make(map[string]*ops.Memory)
	}
	m := ms.byAt[loc]
	if m == nil {
		m = ops.NewMemory()
		ms.byAt[loc] = m
	}
	m.Now = now
	return m
}

// memoryHarness opens a Memory per location; wrap, if not nil, wraps it.
func memoryHarness(wrap func(*ops.Memory) ops.Destination) opstest.Harness {
	ms := new(memories)
	return opstest.Harness{
		Open: func(_ context.Context, loc string, now func() time.Time) (ops.Destination, error) {
			m := ms.at(loc, now)
			if wrap != nil {
				return wrap(m), nil
			}
			return m, nil
		},
		Rows: func(_ context.Context, d ops.Destination, table string) ([]schema.Row, error) {
			return memoryOf(d).Rows(table), nil
		},
		Crash: func(ops.Destination) error { return nil },
	}
}

// memoryOf returns the Memory under d.
func memoryOf(d ops.Destination) *ops.Memory {
	switch x := d.(type) {
	case *ops.Memory:
		return x
	case interface{ memory() *ops.Memory }:
		return x.memory()
	}
	panic("not a Memory")
}

func TestMemory(t *testing.T) {
	opstest.Run(t, memoryHarness(nil))
}

// wrapped is a Memory with some of its methods replaced.
type wrapped struct {
	*ops.Memory
	write      func(ctx context.Context, batch []ops.Op) error
	checkpoint func(ctx context.Context, st *state.State) error
	prepare    func(ctx context.Context, tables []schema.Table) error
}

func (w *wrapped) memory() *ops.Memory { return w.Memory }

func (w *wrapped) Write(ctx context.Context, batch []ops.Op) error {
	if w.write != nil {
		return w.write(ctx, batch)
	}
	return w.Memory.Write(ctx, batch)
}

func (w *wrapped) Checkpoint(ctx context.Context, st *state.State) error {
	if w.checkpoint != nil {
		return w.checkpoint(ctx, st)
	}
	return w.Memory.Checkpoint(ctx, st)
}

func (w *wrapped) Prepare(ctx context.Context, tables []schema.Table) error {
	if w.prepare != nil {
		return w.prepare(ctx, tables)
	}
	return w.Memory.Prepare(ctx, tables)
}

// filter returns a Write that passes each op through f.
func filter(m *ops.Memory, f func(op ops.Op) (ops.Op, bool)) func(context.Context, []ops.Op) error {
	return func(ctx context.Context, batch []ops.Op) error {
		var out []ops.Op
		for _, op := range batch {
			if op, ok := f(op); ok {
				out = append(out, op)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return m.Write(ctx, out)
	}
}

// mapValues returns a Write that changes every value with f.
func mapValues(m *ops.Memory, f func(v any) any) func(context.Context, []ops.Op) error {
	return filter(m, func(op ops.Op) (ops.Op, bool) {
		for i, v := range op.Row {
			op.Row[i] = f(v)
		}
		return op, true
	})
}

// lazy is a destination that checkpoints the state at once but applies
// rows only at the next checkpoint: a crash loses rows the state covers.
type lazy struct {
	*ops.Memory
	mu      sync.Mutex
	pending []ops.Op
}

func (l *lazy) memory() *ops.Memory { return l.Memory }

func (l *lazy) Write(_ context.Context, batch []ops.Op) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, batch...)
	return nil
}

func (l *lazy) Checkpoint(ctx context.Context, st *state.State) error {
	if err := l.Memory.Checkpoint(ctx, st); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.Memory.Write(ctx, l.pending)
	l.pending = l.pending[:0]
	return err
}

func (l *lazy) Close() error {
	return l.Checkpoint(context.Background(), state.New())
}

// The suite must catch destinations that break the contract.
func TestCatchesBrokenDestinations(t *testing.T) {
	tests := []struct {
		name string
		wrap func(m *ops.Memory) ops.Destination
		want string // in the failures
	}{
		{
			name: "ignores deletes",
			wrap: func(m *ops.Memory) ops.Destination {
				return &wrapped{Memory: m, write: filter(m, func(op ops.Op) (ops.Op, bool) { return op, op.Kind != ops.OpDelete })}
			},
			want: "Semantics/DeleteMarksTheRowDeleted",
		},
		{
			name: "ignores deletes of children",
			wrap: func(m *ops.Memory) ops.Destination {
				return &wrapped{Memory: m, write: filter(m, func(op ops.Op) (ops.Op, bool) { return op, op.Kind != ops.OpDeleteChildren })}
			},
			want: "Semantics/DeleteChildrenOfOneParent",
		},
		{
			name: "updates every column",
			wrap: func(m *ops.Memory) ops.Destination {
				return &wrapped{Memory: m, write: filter(m, func(op ops.Op) (ops.Op, bool) { op.Set = nil; return op, true })}
			},
			want: "Semantics/UpdateMergesColumns",
		},
		{
			name: "keeps the []Op slice",
			wrap: func(m *ops.Memory) ops.Destination {
				var mu sync.Mutex
				var kept [][]ops.Op
				return &wrapped{Memory: m,
					write: func(_ context.Context, batch []ops.Op) error {
						mu.Lock()
						defer mu.Unlock()
						kept = append(kept, batch)
						return nil
					},
					checkpoint: func(ctx context.Context, st *state.State) error {
						mu.Lock()
						defer mu.Unlock()
						for _, batch := range kept {
							if err := m.Write(ctx, batch); err != nil {
								return err
							}
						}
						kept = nil
						return m.Checkpoint(ctx, st)
					},
				}
			},
			want: "Semantics/UpsertInserts",
		},
		{
			name: "keeps times to the second",
			wrap: func(m *ops.Memory) ops.Destination {
				return &wrapped{Memory: m, write: mapValues(m, func(v any) any {
					if t, ok := v.(time.Time); ok {
						return t.Truncate(time.Second)
					}
					return v
				})}
			},
			want: "Types/UTC_DATETIME",
		},
		{
			name: "loses non-ASCII text",
			wrap: func(m *ops.Memory) ops.Destination {
				return &wrapped{Memory: m, write: mapValues(m, func(v any) any {
					if s, ok := v.(string); ok && !isASCII(s) {
						return strings.Map(func(r rune) rune {
							if r >= utf8.RuneSelf {
								return '?'
							}
							return r
						}, s)
					}
					return v
				})}
			},
			want: "Types/STRING",
		},
		{
			name: "stores empty bytes as NULL",
			wrap: func(m *ops.Memory) ops.Destination {
				return &wrapped{Memory: m, write: mapValues(m, func(v any) any {
					if b, ok := v.([]byte); ok && len(b) == 0 {
						return nil
					}
					return v
				})}
			},
			want: "Types/BINARY",
		},
		{
			name: "reads the clock per operation",
			wrap: func(m *ops.Memory) ops.Destination {
				return &wrapped{Memory: m, write: func(ctx context.Context, batch []ops.Op) error {
					for i := range batch {
						if err := m.Write(ctx, batch[i:i+1]); err != nil {
							return err
						}
					}
					return nil
				}}
			},
			want: "Clock/OncePerWrite",
		},
		{
			name: "keeps the checkpointed state",
			wrap: func(m *ops.Memory) ops.Destination {
				var kept *state.State
				w := &keepsState{wrapped: wrapped{Memory: m}}
				w.checkpoint = func(ctx context.Context, st *state.State) error { kept = st; return m.Checkpoint(ctx, st) }
				w.load = func() *state.State { return kept }
				return w
			},
			want: "State/Copies",
		},
		{
			name: "accepts a changed type",
			wrap: func(m *ops.Memory) ops.Destination {
				return &wrapped{Memory: m, prepare: func(ctx context.Context, tables []schema.Table) error {
					err := m.Prepare(ctx, tables)
					if err != nil && strings.Contains(err.Error(), "changed type") {
						return nil
					}
					return err
				}}
			},
			want: "SchemaEvolution/TypeChanged",
		},
		{
			name: "state ahead of its rows",
			wrap: func(m *ops.Memory) ops.Destination { return &lazy{Memory: m} },
			want: "Durability/CrashAfterCheckpoint",
		},
	}
	// The slowest checks only where a case needs them.
	o := opstest.Options{Seeds: []uint64{}, Skip: map[string]string{
		"Durability/CloseAfterLargeWrites": "", "Durability/CrashAfterLargeWrites": "",
		"Durability/CrashInOneLargeWrite": "", "Durability/CrashTwice": "", "Concurrent/Tables": "",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := opstest.Check(memoryHarness(tt.wrap), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check() = %v\nwant failures of %s", err, tt.want)
			}
		})
	}
	if err := opstest.Check(memoryHarness(nil), opstest.Options{Seeds: []uint64{1}, RandomSteps: 100}); err != nil {
		t.Errorf("Check(Memory) = %v, want nil", err)
	}
}

// keepsState is a Memory returning the state it was given, not a copy.
type keepsState struct {
	wrapped
	load func() *state.State
}

func (k *keepsState) LoadState(ctx context.Context) (*state.State, error) {
	if st := k.load(); st != nil {
		return st, nil
	}
	return k.Memory.LoadState(ctx)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func TestDiffRows(t *testing.T) {
	a := []schema.Row{{"id": int64(1), "name": "a", "qty": nil}, {"id": int64(2), "name": "b", "qty": int64(2)}}
	b := []schema.Row{{"id": int64(2), "name": "b", "qty": int64(2)}, {"id": int64(1), "name": "a", "qty": nil}}
	if diff := opstest.DiffRows(opstest.Items, a, b); diff != "" {
		t.Errorf("DiffRows of the same rows in another order = %s, want none", diff)
	}
	b[0]["qty"] = int64(3)
	if diff := opstest.DiffRows(opstest.Items, a, b); diff == "" {
		t.Error("DiffRows of different rows found no difference")
	}
	js := schema.Table{Name: "j", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}, {Name: "v", Type: schema.JSON}}}
	if diff := opstest.DiffRows(js,
		[]schema.Row{{"id": int64(1), "v": jsonText(`{"a":1,"b":[true]}`)}},
		[]schema.Row{{"id": int64(1), "v": jsonText(`{"b": [true], "a": 1}`)}}); diff != "" {
		t.Errorf("DiffRows of equal JSON values = %s, want none", diff)
	}
}

func jsonText(s string) any { return json.RawMessage(s) }

func TestName(t *testing.T) {
	a, b := opstest.Name("/tmp/TestX/001"), opstest.Name("/tmp/TestX/002")
	if a == b {
		t.Errorf("Name of two locations = %q twice", a)
	}
	for _, n := range []string{a, b} {
		if len(n) > 40 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("Name = %q, want a short lower-case identifier", n)
		}
	}
	if diff := cmp.Diff(a, opstest.Name("/tmp/TestX/001")); diff != "" {
		t.Errorf("Name is not stable (-first +second):\n%s", diff)
	}
}
