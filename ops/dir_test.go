package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// openDir opens and prepares a Dir at path with the given options.
func openDir(t *testing.T, path string, opts ops.DirOptions, tables ...schema.Table) *ops.Dir {
	t.Helper()
	d, err := ops.OpenDir(path, opts)
	if err != nil {
		t.Fatalf("OpenDir: %v", err)
	}
	if err := d.Prepare(context.Background(), tables); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return d
}

func readDir(t *testing.T, path string) *ops.Snapshot {
	t.Helper()
	snap, err := ops.ReadDir(path)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	return snap
}

func closeDir(t *testing.T, d *ops.Dir) {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// checkpointAt returns the state the "checkpoint" op of run writes for op
// index i on table.
func checkpointAt(table string, i int) *state.State {
	st := state.New()
	st.Table(table).Mark = state.Mark{UpdatedAt: t0, ID: fmt.Sprint(i)}
	return st
}

// allTypes is a sequence on users and orders using every column type
// and every operation.
func allTypes() []op {
	var seq []op
	for i := range 8 {
		seq = append(seq, op{"upsert", "users", user(i)})
	}
	seq = append(seq,
		op{"upsert", "users", schema.Row{"id": int64(100)}}, // every other column NULL
		op{"update", "users", schema.Row{"id": int64(2), "name": "renamed", "meta": json.RawMessage(`[1,2.5,"x",null,true]`)}},
		op{"update", "users", schema.Row{"id": int64(50), "score": 1.5}},
		op{"delete", "users", schema.Row{"id": int64(3)}},
		op{"delete", "users", schema.Row{"id": int64(42)}},
		op{"checkpoint", "users", nil},
		op{"upsert", "orders", schema.Row{"tenant": "a|b", "id": int64(1), "total": "10.00"}},
		op{"upsert", "orders", schema.Row{"tenant": "a", "id": int64(1), "total": "-0.5"}},
		op{"truncate", "orders", nil},
		op{"upsert", "orders", schema.Row{"tenant": "a", "id": int64(1), "total": "99999999999999999999.99"}},
		op{"upsert", "users", user(3)},
	)
	return seq
}

func TestDirEqualsMemory(t *testing.T) {
	ctx := context.Background()
	m := ops.NewMemory()
	m.Now = clock()
	if err := m.Prepare(ctx, []schema.Table{users, orders}); err != nil {
		t.Fatal(err)
	}
	run(t, m, allTypes())

	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{Now: clock()}, users, orders)
	run(t, d, allTypes())
	closeDir(t, d)

	snap := readDir(t, path)
	for _, table := range []string{"users", "orders"} {
		if diff := cmp.Diff(m.Rows(table), snap.Rows(table)); diff != "" {
			t.Errorf("%s: Dir rows differ from Memory (-memory +dir):\n%s", table, diff)
		}
		if diff := cmp.Diff(m.Live(table), snap.Live(table)); diff != "" {
			t.Errorf("%s: Dir live rows differ from Memory (-memory +dir):\n%s", table, diff)
		}
	}
	if got, want := len(snap.Rows("users")), 10; got != want {
		t.Errorf("users has %d rows, want %d", got, want)
	}
	if diff := cmp.Diff(checkpointAt("users", 13), snap.State); diff != "" {
		t.Errorf("State mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]schema.Table{orders, users}, snap.Tables); diff != "" {
		t.Errorf("Tables mismatch (-want +got):\n%s", diff)
	}
	if snap.Torn != nil {
		t.Errorf("Torn = %v, want none", snap.Torn)
	}
	if got, want := snap.Operations, len(allTypes())-1; got != want {
		t.Errorf("Operations = %d, want %d", got, want)
	}
}

func TestDirLineFormat(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{Now: clock()}, users, orders)
	run(t, d, []op{
		{"upsert", "users", user(1)},
		{"update", "users", schema.Row{"id": int64(1), "name": nil}},
		{"delete", "users", schema.Row{"id": int64(1)}},
		{"truncate", "users", nil},
	})
	closeDir(t, d)
	data, err := os.ReadFile(filepath.Join(path, "users.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":1,"name":"user \"1\" <b>&\n\t\u2028é😀","active":false,"small":-32767,"medium":2147483646,"ratio":0.1,"score":1e-7,"price":"1.50","born":"1991-02-28","local":"2024-05-01T10:00:01.123456789","updated":"2024-05-01T10:00:00.000000001Z","avatar":"AAH/Cg==","meta":{"tags":["a","b"],"n":1,"html":"<&>"},"bio":"<bio>x</bio>"}}
{"op":"update","at":"2024-05-01T10:00:01Z","row":{"id":1,"name":null}}
{"op":"delete","at":"2024-05-01T10:00:02Z","row":{"id":1}}
{"op":"truncate","at":"2024-05-01T10:00:03Z"}
`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("users.jsonl mismatch (-want +got):\n%s", diff)
	}
	for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("line %d is not valid JSON: %s", i+1, l)
		}
	}

	// schema.json holds the declared tables.
	data, err = os.ReadFile(filepath.Join(path, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int            `json:"version"`
		Tables  []schema.Table `json:"tables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	if diff := cmp.Diff([]schema.Table{orders, users}, doc.Tables); diff != "" || doc.Version != 1 {
		t.Errorf("schema.json version %d, tables mismatch (-want +got):\n%s", doc.Version, diff)
	}
}

// TestDirNoCheckpointCrash loses the operations after the last checkpoint
// as a crash would (the Dir is dropped without Close, its buffers unwritten
// or half written): state.json is the last checkpoint's, and the log holds
// a prefix of the operations, possibly ending in a torn line, never a
// corrupt one.
func TestDirNoCheckpointCrash(t *testing.T) {
	for _, bufSize := range []int{16, 100, 4096} {
		t.Run(fmt.Sprint("buffer=", bufSize), func(t *testing.T) {
			ctx := context.Background()
			path := t.TempDir()
			d := openDir(t, path, ops.DirOptions{BufferSize: bufSize}, items)
			for i := range 5 {
				if err := d.Upsert(ctx, "items", item(int64(i), "before", 1)); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Checkpoint(ctx, checkpointAt("items", 1)); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if err := d.Upsert(ctx, "items", item(int64(100+i), "after", 2)); err != nil {
					t.Fatal(err)
				}
			}
			// Crash: d is dropped without Close or Checkpoint.

			snap := readDir(t, path)
			if diff := cmp.Diff(checkpointAt("items", 1), snap.State); diff != "" {
				t.Errorf("State is not the last checkpoint's (-want +got):\n%s", diff)
			}
			live := snap.Live("items")
			for i := range 5 {
				if live[fmt.Sprint(i)] == nil {
					t.Errorf("row %d, written before the checkpoint, is missing", i)
				}
			}
			// The rows after the checkpoint are a prefix of those written.
			n := len(live) - 5
			for i := range 10 {
				if got, want := live[fmt.Sprint(100+i)] != nil, i < n; got != want {
					t.Errorf("row %d present = %t, want %t (a prefix of %d rows)", 100+i, got, want, n)
				}
			}
			if bufSize == 4096 && n != 0 {
				t.Errorf("%d rows after the checkpoint reached the file through a large buffer, want 0", n)
			}

			// The next run repairs the log and goes on.
			var logBuf bytes.Buffer
			d2 := openDir(t, path, ops.DirOptions{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))}, items)
			if got, want := strings.Contains(logBuf.String(), "torn"), len(snap.Torn) > 0; got != want {
				t.Errorf("warning about a torn line logged = %t, want %t; log: %s", got, want, logBuf.String())
			}
			if err := d2.Upsert(ctx, "items", item(999, "next run", 3)); err != nil {
				t.Fatal(err)
			}
			closeDir(t, d2)
			snap2 := readDir(t, path)
			if snap2.Torn != nil {
				t.Errorf("Torn after the repair = %v, want none", snap2.Torn)
			}
			if got, want := len(snap2.Live("items")), len(live)+1; got != want {
				t.Errorf("%d rows after the next run, want %d", got, want)
			}
		})
	}
}

func TestDirTornLastLine(t *testing.T) {
	for _, garbage := range []string{
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":7`,                      // cut short
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":7,"name":"x","qty":1}}`, // cut before "\n"
		"\x00\x00\x00\x00",         // zeros of a lost block
		"{\"op\":\"upsert\",\"x\n", // invalid, with a newline
	} {
		t.Run(fmt.Sprintf("%.20q", garbage), func(t *testing.T) {
			path := t.TempDir()
			logPath := filepath.Join(path, "items.jsonl")
			d := openDir(t, path, ops.DirOptions{}, items)
			run(t, d, []op{{"upsert", "items", item(1, "a", 1)}, {"upsert", "items", item(2, "b", 2)}, {"checkpoint", "items", nil}})
			closeDir(t, d)
			intact, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			appendFile(t, logPath, garbage)

			snap := readDir(t, path)
			if diff := cmp.Diff([]string{"items"}, snap.Torn); diff != "" {
				t.Errorf("Torn mismatch (-want +got):\n%s", diff)
			}
			if got, want := len(snap.Live("items")), 2; got != want {
				t.Errorf("%d live rows with a torn line, want %d", got, want)
			}

			var logBuf bytes.Buffer
			d = openDir(t, path, ops.DirOptions{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))}, items)
			if log := logBuf.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, logPath) {
				t.Errorf("no warning naming %s; log: %s", logPath, log)
			}
			data, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, intact) {
				t.Errorf("after the repair the log is\n%q\nwant the lines before the torn one:\n%q", data, intact)
			}
			run(t, d, []op{{"upsert", "items", item(3, "c", 3)}})
			closeDir(t, d)
			snap = readDir(t, path)
			if snap.Torn != nil {
				t.Errorf("Torn = %v after the repair, want none", snap.Torn)
			}
			want := map[string]schema.Row{"1": item(1, "a", 1), "2": item(2, "b", 2), "3": item(3, "c", 3)}
			if diff := cmp.Diff(want, snap.Live("items")); diff != "" {
				t.Errorf("Live mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDirCorruptLine(t *testing.T) {
	for _, tc := range []struct {
		name, line string
	}{
		{"invalid JSON", `{"op":"upsert","at":`},
		{"unknown op", `{"op":"merge","at":"2024-05-01T10:00:00Z","row":{"id":1}}`},
		{"missing row", `{"op":"upsert","at":"2024-05-01T10:00:00Z"}`},
		{"bad time", `{"op":"truncate","at":"yesterday"}`},
		{"unknown field", `{"op":"truncate","at":"2024-05-01T10:00:00Z","by":"me"}`},
		{"row of the wrong type", `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":"one"}}`},
		{"row without key", `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"name":"x"}}`},
		{"unknown column", `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":1,"color":"red"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir()
			logPath := filepath.Join(path, "items.jsonl")
			d := openDir(t, path, ops.DirOptions{}, items)
			run(t, d, []op{{"upsert", "items", item(1, "a", 1)}})
			closeDir(t, d)
			appendFile(t, logPath, tc.line+"\n"+`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":3}}`+"\n")
			before, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			// Reopening checks only the last line, which is valid, and
			// appends after it.
			d = openDir(t, path, ops.DirOptions{}, items)
			run(t, d, []op{{"upsert", "items", item(4, "d", 4)}})
			closeDir(t, d)
			after, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(after, before) {
				t.Errorf("reopening changed the lines before the last:\n%s\nwant a continuation of\n%s", after, before)
			}

			_, err = ops.ReadDir(path)
			if !errors.Is(err, ops.ErrCorrupt) {
				t.Fatalf("ReadDir: error %v, want one wrapping ErrCorrupt", err)
			}
			if want := logPath + " line 2: "; !strings.Contains(err.Error(), want) {
				t.Errorf("ReadDir error = %q, want it to contain %q", err, want)
			}
		})
	}
}

// TestDirCrashBeforeState has the operations after a checkpoint reach the
// log but not the state (the crash is between them): the connector
// resumes from the older state and sends them again, and the tables end
// the same as if they were sent once.
func TestDirCrashBeforeState(t *testing.T) {
	ctx := context.Background()
	first := []op{
		{"upsert", "items", item(1, "a", 1)},
		{"upsert", "items", item(2, "b", 2)},
		{"checkpoint", "items", nil},
	}
	second := []op{
		{"update", "items", schema.Row{"id": int64(1), "qty": int64(10)}},
		{"delete", "items", schema.Row{"id": int64(2)}},
		{"upsert", "items", item(3, "c", 3)},
		{"truncate", "items", nil},
		{"upsert", "items", item(4, "d", 4)},
		{"update", "items", schema.Row{"id": int64(4), "name": "d2"}},
	}
	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{}, items)
	run(t, d, first)
	run(t, d, second)
	closeDir(t, d) // the logs are flushed, the state is not written

	snap := readDir(t, path)
	if diff := cmp.Diff(checkpointAt("items", 2), snap.State); diff != "" {
		t.Errorf("State mismatch (-want +got):\n%s", diff)
	}

	// The connector resumes from the state and sends the second batch
	// again, then checkpoints.
	d = openDir(t, path, ops.DirOptions{}, items)
	st, err := d.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(checkpointAt("items", 2), st); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	run(t, d, second)
	run(t, d, []op{{"checkpoint", "items", nil}})
	closeDir(t, d)

	m := ops.NewMemory()
	if err := m.Prepare(ctx, []schema.Table{items}); err != nil {
		t.Fatal(err)
	}
	run(t, m, first)
	run(t, m, second)
	snap = readDir(t, path)
	if diff := cmp.Diff(m.Live("items"), snap.Live("items")); diff != "" {
		t.Errorf("tables after re-sending differ from sending once (-once +twice):\n%s", diff)
	}
	if got, want := snap.Operations, len(first)-1+2*len(second); got != want {
		t.Errorf("Operations = %d, want %d", got, want)
	}
}

func TestDirCheckpointFlushes(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{}, items, orders)
	defer d.Close()
	run(t, d, []op{{"upsert", "items", item(1, "a", 1)}, {"upsert", "orders", schema.Row{"tenant": "t", "id": 1}}})
	if got := len(readDir(t, path).Live("items")); got != 0 {
		t.Errorf("%d rows visible before a checkpoint through a 64 KiB buffer, want 0", got)
	}
	if err := d.Checkpoint(ctx, checkpointAt("items", 1)); err != nil {
		t.Fatal(err)
	}
	snap := readDir(t, path)
	if len(snap.Live("items")) != 1 || len(snap.Live("orders")) != 1 {
		t.Errorf("after a checkpoint: items %v, orders %v; want one row each", snap.Live("items"), snap.Live("orders"))
	}
	if diff := cmp.Diff(checkpointAt("items", 1), snap.State); diff != "" {
		t.Errorf("State mismatch (-want +got):\n%s", diff)
	}
	// Save also flushes first, but is not counted.
	run(t, d, []op{{"upsert", "items", item(2, "b", 2)}})
	if err := d.Save(ctx, checkpointAt("items", 2)); err != nil {
		t.Fatal(err)
	}
	snap = readDir(t, path)
	if got := len(snap.Live("items")); got != 2 {
		t.Errorf("%d rows after Save, want 2", got)
	}
	if diff := cmp.Diff(checkpointAt("items", 2), snap.State); diff != "" {
		t.Errorf("State after Save mismatch (-want +got):\n%s", diff)
	}
	if got := d.Summary()[""].Checkpoints; got != 1 {
		t.Errorf("Checkpoints = %d, want 1", got)
	}
}

func TestDirCorruptState(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir()
	statePath := filepath.Join(path, "state.json")
	const garbage = `{"version":1,"tables":{`
	if err := os.WriteFile(statePath, []byte(garbage), 0o600); err != nil {
		t.Fatal(err)
	}
	d := openDir(t, path, ops.DirOptions{}, items)
	defer d.Close()
	if _, err := d.Load(ctx); !errors.Is(err, state.ErrCorrupt) || !strings.Contains(err.Error(), statePath) {
		t.Errorf("Load: error %v, want one wrapping state.ErrCorrupt naming %s", err, statePath)
	}
	run(t, d, []op{{"upsert", "items", item(1, "a", 1)}})
	if err := d.Checkpoint(ctx, state.New()); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Checkpoint: error %v, want one wrapping state.ErrCorrupt", err)
	}
	if data, _ := os.ReadFile(statePath); string(data) != garbage {
		t.Errorf("the corrupt state.json was overwritten with %q", data)
	}
	if _, err := ops.ReadDir(path); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("ReadDir: error %v, want one wrapping state.ErrCorrupt", err)
	}
	// The Dir is still usable: the failure was in the state, not a log.
	if err := d.Upsert(ctx, "items", item(2, "b", 2)); err != nil {
		t.Errorf("Upsert after a failed checkpoint: %v", err)
	}
}

func TestDirCorruptSchema(t *testing.T) {
	for _, doc := range []string{
		`{"version":1,"tables":[`,
		`{"version":2,"tables":[]}`,
		`{"version":1,"tables":[{"name":"a/b","primary_key":["id"],"columns":[{"name":"id","type":"LONG"}]}]}`,
		`{"version":1,"tables":[{"name":"t","primary_key":[],"columns":[]}]}`,
		`{"version":1,"tables":[],"extra":1}`,
	} {
		path := t.TempDir()
		if err := os.WriteFile(filepath.Join(path, "schema.json"), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ops.OpenDir(path, ops.DirOptions{}); !errors.Is(err, ops.ErrCorrupt) {
			t.Errorf("OpenDir with schema.json %s: error %v, want one wrapping ErrCorrupt", doc, err)
		}
		if _, err := ops.ReadDir(path); !errors.Is(err, ops.ErrCorrupt) {
			t.Errorf("ReadDir with schema.json %s: error %v, want one wrapping ErrCorrupt", doc, err)
		}
	}
}

func TestReadDirMissing(t *testing.T) {
	for _, path := range []string{filepath.Join(t.TempDir(), "none"), t.TempDir()} {
		if _, err := ops.ReadDir(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("ReadDir(%s): error %v, want one wrapping os.ErrNotExist", path, err)
		}
	}
}

func TestDirReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b") // created with its parents
	d := openDir(t, path, ops.DirOptions{}, items)
	run(t, d, []op{{"upsert", "items", item(1, "a", 1)}, {"checkpoint", "items", nil}})
	closeDir(t, d)
	schemaBefore, err := os.Stat(filepath.Join(path, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}

	// The next run declares the same table (schema.json is not
	// rewritten), then a wider one with a new table.
	d = openDir(t, path, ops.DirOptions{}, items)
	schemaAfter, err := os.Stat(filepath.Join(path, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(schemaBefore, schemaAfter) {
		t.Error("schema.json was rewritten though unchanged")
	}
	wider := items
	wider.Columns = append(append([]schema.Column(nil), items.Columns...), schema.Column{Name: "color", Type: schema.String})
	if err := d.Prepare(ctx, []schema.Table{wider, orders}); err != nil {
		t.Fatal(err)
	}
	run(t, d, []op{
		{"upsert", "items", schema.Row{"id": int64(2), "color": "red"}},
		{"upsert", "orders", schema.Row{"tenant": "x", "id": int64(1)}},
		{"checkpoint", "orders", nil},
	})
	closeDir(t, d)

	// A third run that declares only orders cannot drop items' column.
	d = openDir(t, path, ops.DirOptions{}, orders)
	if err := d.Prepare(ctx, []schema.Table{items}); !errors.Is(err, ops.ErrSchemaChange) {
		t.Errorf("Prepare dropping a column declared in the directory: error %v, want ErrSchemaChange", err)
	}
	if err := d.Upsert(ctx, "items", item(3, "c", 3)); !errors.Is(err, schema.ErrUnknownTable) {
		t.Errorf("Upsert into a table not prepared by this Dir: error %v, want ErrUnknownTable", err)
	}
	closeDir(t, d)

	snap := readDir(t, path)
	want := map[string]schema.Row{
		"1": {"id": int64(1), "name": "a", "qty": int64(1), "color": nil},
		"2": {"id": int64(2), "name": nil, "qty": nil, "color": "red"},
	}
	if diff := cmp.Diff(want, snap.Live("items")); diff != "" {
		t.Errorf("Live mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]schema.Table{wider, orders}, snap.Tables); diff != "" {
		t.Errorf("Tables mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(checkpointAt("orders", 2), snap.State); diff != "" {
		t.Errorf("State mismatch (-want +got):\n%s", diff)
	}
}

func TestDirClosed(t *testing.T) {
	ctx := context.Background()
	d := openDir(t, t.TempDir(), ops.DirOptions{}, items)
	closeDir(t, d)
	closeDir(t, d) // again: nothing
	for name, err := range map[string]error{
		"Upsert":     d.Upsert(ctx, "items", item(1, "a", 1)),
		"Truncate":   d.Truncate(ctx, "items"),
		"Checkpoint": d.Checkpoint(ctx, state.New()),
		"Prepare":    d.Prepare(ctx, []schema.Table{items}),
	} {
		if err == nil {
			t.Errorf("%s after Close succeeded, want an error", name)
		}
	}
}

func TestDirTableNames(t *testing.T) {
	ctx := context.Background()
	table := func(name string) schema.Table {
		return schema.Table{Name: name, PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}}}
	}
	for _, name := range []string{
		"", ".", "..", "a/b", `a\b`, "../x", ".hidden", "a:b", "a*", "a?", `a"b`, "a<b", "a|b",
		"a\x00b", "tab\tname", "trailing.", "trailing ", "bad\xffutf8", strings.Repeat("x", 201),
	} {
		d, err := ops.OpenDir(t.TempDir(), ops.DirOptions{})
		if err != nil {
			t.Fatal(err)
		}
		err = d.Prepare(ctx, []schema.Table{table(name)})
		if err == nil {
			t.Errorf("Prepare of table %q succeeded, want an error", name)
		} else if !strings.HasPrefix(err.Error(), "ops: preparing table ") {
			t.Errorf("Prepare of table %q: error %q does not say what was being done", name, err)
		}
		d.Close()
	}
	for _, names := range [][]string{
		{"users", "orders_2024", "Ünïcödé", "with space", "a.b-c", strings.Repeat("x", 200)},
	} {
		d, err := ops.OpenDir(t.TempDir(), ops.DirOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var tables []schema.Table
		for _, n := range names {
			tables = append(tables, table(n))
		}
		if err := d.Prepare(ctx, tables); err != nil {
			t.Errorf("Prepare(%q): %v", names, err)
		}
		d.Close()
	}

	// Names that differ only in case would share a file on macOS or
	// Windows.
	d, err := ops.OpenDir(t.TempDir(), ops.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Prepare(ctx, []schema.Table{table("Users"), table("users")}); err == nil {
		t.Error("Prepare of Users and users succeeded, want an error")
	}
}
