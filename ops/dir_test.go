package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

var (
	items  = opstest.Items
	orders = opstest.Orders
	labels = opstest.Labels
)

func TestDirLineFormat(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{Now: opstest.Clock()}, opstest.Types, labels)
	tables := []schema.Table{opstest.Types, labels}
	for _, steps := range [][]opstest.Step{
		{opstest.Upsert("types", opstest.TypesRow(1))},
		{opstest.Update("types", schema.Row{"id": int64(1), "string": nil}), opstest.Delete("types", schema.Row{"id": int64(1)})},
		{opstest.Truncate("types")},
		{opstest.Upsert("issue_labels", opstest.Label(7, "bug", "red")), opstest.DeleteChildren("issue_labels", schema.Row{"issue_id": int64(7)})},
	} {
		apply(t, d, tables, steps...) // one Write each: one time each
	}
	closeDir(t, d)
	want := map[string]string{
		"types.jsonl": `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":1,"string":"user \"1\" <b>&\n\t\u2028é😀","boolean":false,"short":-32767,"int":2147483646,"long":1000000007,"float":-2.5,"double":1e-7,"decimal":"1.50","naive_date":"1991-02-28","naive_datetime":"2024-05-01T10:00:01.123456789","utc_datetime":"2024-05-01T11:00:00.000000001Z","binary":"AAH/Cg==","json":{"tags":["a","b"],"n":1,"html":"<&>","nested":{"x":[1,2.5,null,true]}},"xml":"<bio n=\"1\">x &amp; y</bio>"}}
{"op":"update","at":"2024-05-01T10:00:01Z","row":{"id":1,"string":null}}
{"op":"delete","at":"2024-05-01T10:00:01Z","row":{"id":1}}
{"op":"truncate","at":"2024-05-01T10:00:02Z"}
`,
		"issue_labels.jsonl": `{"op":"upsert","at":"2024-05-01T10:00:03Z","row":{"issue_id":7,"label":"bug","color":"red"}}
{"op":"delete_children","at":"2024-05-01T10:00:03Z","row":{"issue_id":7}}
`,
	}
	for name, want := range want {
		data, err := os.ReadFile(filepath.Join(path, name))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(data)); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
		}
		for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if !json.Valid([]byte(l)) {
				t.Errorf("%s line %d is not valid JSON: %s", name, i+1, l)
			}
		}
	}

	// schema.json holds the declared tables.
	data, err := os.ReadFile(filepath.Join(path, "schema.json"))
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
	if diff := cmp.Diff([]schema.Table{labels, opstest.Types}, doc.Tables); diff != "" || doc.Version != 1 {
		t.Errorf("schema.json version %d, tables mismatch (-want +got):\n%s", doc.Version, diff)
	}
}

func TestDirJournalFormat(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{Now: opstest.Clock()}, items)
	apply(t, d, []schema.Table{items},
		opstest.Upsert("items", opstest.Item(1, "a", 1)), opstest.Checkpoint(opstest.Mark("items", 1)),
		opstest.Upsert("items", opstest.Item(2, "b", 2)), opstest.Checkpoint(opstest.Mark("items", 2)),
	)
	closeDir(t, d)
	data, err := os.ReadFile(filepath.Join(path, "checkpoints.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("checkpoints.jsonl has %d lines, want 2:\n%s", len(lines), data)
	}
	log, err := os.ReadFile(filepath.Join(path, "items.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Seq  int64
		Logs map[string]struct {
			Bytes, Lines int64
			CRC          string `json:"crc32c"`
		}
		State json.RawMessage
	}
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatalf("last checkpoint %s: %v", lines[1], err)
	}
	if m := rec.Logs["items"]; rec.Seq != 2 || m.Bytes != int64(len(log)) || m.Lines != 2 || len(m.CRC) != 8 {
		t.Errorf("last checkpoint = seq %d, items %+v; want seq 2, %d bytes, 2 lines, an 8-digit CRC", rec.Seq, m, len(log))
	}
	st, err := state.Decode(rec.State)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(encode(t, opstest.Mark("items", 2)), encode(t, st)); diff != "" {
		t.Errorf("state in the journal mismatch (-want +got):\n%s", diff)
	}
}

func encode(t testing.TB, st *state.State) string {
	t.Helper()
	b, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDirCheckpointFlushes(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{}, items, orders)
	apply(t, d, []schema.Table{items, orders}, opstest.Upsert("items", opstest.Item(1, "a", 1)), opstest.Upsert("orders", opstest.Order("t", 1, "1")))
	if got := len(readDir(t, path).Live("items")); got != 0 {
		t.Errorf("%d rows visible before a checkpoint through a 64 KiB buffer, want 0", got)
	}
	if err := d.Checkpoint(ctx, opstest.Mark("items", 1)); err != nil {
		t.Fatal(err)
	}
	snap := readDir(t, path)
	if len(snap.Live("items")) != 1 || len(snap.Live("orders")) != 1 {
		t.Errorf("after a checkpoint: items %v, orders %v; want one row each", snap.Live("items"), snap.Live("orders"))
	}
	if diff := cmp.Diff(encode(t, opstest.Mark("items", 1)), encode(t, snap.State)); diff != "" {
		t.Errorf("State mismatch (-want +got):\n%s", diff)
	}
	if snap.Pending != 0 || snap.Operations != 2 {
		t.Errorf("Operations %d, Pending %d; want 2 and 0", snap.Operations, snap.Pending)
	}
	if got := d.Summary()[""].Checkpoints; got != 1 {
		t.Errorf("Checkpoints = %d, want 1", got)
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
	apply(t, d, []schema.Table{items}, opstest.Upsert("items", opstest.Item(1, "a", 1)), opstest.Checkpoint(opstest.Mark("items", 1)))
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
	apply(t, d, []schema.Table{wider, orders},
		opstest.Upsert("items", schema.Row{"id": int64(2), "color": "red"}),
		opstest.Upsert("orders", schema.Row{"tenant": "x", "id": int64(1)}),
		opstest.Checkpoint(opstest.Mark("orders", 2)),
	)
	closeDir(t, d)

	// A third run that declares only orders cannot drop items' column.
	d = openDir(t, path, ops.DirOptions{}, orders)
	if err := d.Prepare(ctx, []schema.Table{items}); !errors.Is(err, ops.ErrSchemaChange) {
		t.Errorf("Prepare dropping a column declared in the directory: error %v, want ErrSchemaChange", err)
	}
	err = d.Write(ctx, []ops.Op{{Kind: ops.OpTruncate, Table: "items"}})
	if !errors.Is(err, schema.ErrUnknownTable) {
		t.Errorf("Write into a table not prepared by this Dir: error %v, want ErrUnknownTable", err)
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
}

func TestDirClosed(t *testing.T) {
	ctx := context.Background()
	d := openDir(t, t.TempDir(), ops.DirOptions{}, items)
	closeDir(t, d)
	closeDir(t, d) // again: nothing
	for name, err := range map[string]error{
		"Write":      d.Write(ctx, []ops.Op{{Kind: ops.OpTruncate, Table: "items"}}),
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
		"", ".", "..", "a/b", `a\b`, "../x", ".hidden", ".lock", "a:b", "a*", "a?", `a"b`, "a<b", "a|b",
		"a\x00b", "tab\tname", "trailing.", "trailing ", "bad\xffutf8", strings.Repeat("x", 201),
	} {
		d := openDir(t, t.TempDir(), ops.DirOptions{})
		err := d.Prepare(ctx, []schema.Table{table(name)})
		if err == nil {
			t.Errorf("Prepare of table %q succeeded, want an error", name)
		} else if !strings.HasPrefix(err.Error(), "ops: preparing table ") {
			t.Errorf("Prepare of table %q: error %q does not say what was being done", name, err)
		}
	}
	d := openDir(t, t.TempDir(), ops.DirOptions{})
	var tables []schema.Table
	for _, n := range []string{"users", "orders_2024", "Ünïcödé", "with space", "a.b-c", "checkpoints", "schema", strings.Repeat("x", 200)} {
		tables = append(tables, table(n))
	}
	if err := d.Prepare(ctx, tables); err != nil {
		t.Errorf("Prepare: %v", err)
	}

	// Names that differ only in case would share a file on macOS or
	// Windows.
	d = openDir(t, t.TempDir(), ops.DirOptions{})
	if err := d.Prepare(ctx, []schema.Table{table("Users"), table("users")}); err == nil {
		t.Error("Prepare of Users and users succeeded, want an error")
	}
}

// Column names that are not valid UTF-8 would be written as U+FFFD in
// the lines, then not match the declaration when read back.
func TestDirInvalidUTF8ColumnName(t *testing.T) {
	d := openDir(t, t.TempDir(), ops.DirOptions{})
	bad := schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Long}, {Name: "c\xfe", Type: schema.String}}}
	if err := d.Prepare(context.Background(), []schema.Table{bad}); err == nil {
		t.Errorf("Prepare of a column named %q succeeded, want an error", "c\xfe")
	}
}

// checkpointed returns a directory holding rows of items and a
// checkpoint covering them, and its items log.
func checkpointed(t *testing.T) (path, log string) {
	t.Helper()
	path = t.TempDir()
	d := openDir(t, path, ops.DirOptions{}, items)
	apply(t, d, []schema.Table{items},
		opstest.Upsert("items", opstest.Item(1, "a", 1)),
		opstest.Upsert("items", opstest.Item(2, "b", 2)),
		opstest.Upsert("items", opstest.Item(3, "c", 3)),
		opstest.Checkpoint(opstest.Mark("items", 1)),
	)
	closeDir(t, d)
	return path, filepath.Join(path, "items.jsonl")
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

// openAndPrepare opens the Dir at path and prepares items, returning the
// first error.
func openAndPrepare(path string) error {
	d, err := ops.OpenDir(path, ops.DirOptions{Logger: quiet})
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Prepare(context.Background(), []schema.Table{items})
}

// A crash can leave a last line without its "\n" after the checkpoint:
// that line is cut, and nothing else.
func TestDirTornLastLine(t *testing.T) {
	for _, garbage := range []string{
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":7`,                      // cut short
		`{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":7,"name":"x","qty":1}}`, // cut before "\n"
		"\x00\x00\x00\x00", // zeros of a lost block
	} {
		t.Run(fmt.Sprintf("%.20q", garbage), func(t *testing.T) {
			path, log := checkpointed(t)
			// A valid line after the checkpoint stays: an operation
			// written after it.
			appendFile(t, log, `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":4,"name":"d","qty":4}}`+"\n")
			intact, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			appendFile(t, log, garbage)

			snap := readDir(t, path)
			if diff := cmp.Diff([]string{"items"}, snap.Torn); diff != "" {
				t.Errorf("Torn mismatch (-want +got):\n%s", diff)
			}
			if got, want := len(snap.Live("items")), 4; got != want {
				t.Errorf("%d live rows with a torn line, want %d", got, want)
			}
			if snap.Pending != 1 {
				t.Errorf("Pending = %d, want the 1 line after the checkpoint", snap.Pending)
			}

			var logBuf bytes.Buffer
			d := openDir(t, path, ops.DirOptions{Logger: textLogger(&logBuf)}, items)
			if l := logBuf.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, log) {
				t.Errorf("no warning naming %s; log: %s", log, l)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, intact) {
				t.Errorf("after the repair the log is\n%q\nwant the lines before the torn one:\n%q", data, intact)
			}
			apply(t, d, []schema.Table{items}, opstest.Upsert("items", opstest.Item(5, "e", 5)), opstest.Checkpoint(opstest.Mark("items", 2)))
			closeDir(t, d)
			snap = readDir(t, path)
			if snap.Torn != nil || len(snap.Live("items")) != 5 {
				t.Errorf("after the repair: Torn %v, %d live rows; want none and 5", snap.Torn, len(snap.Live("items")))
			}
		})
	}
}

// Issue 15 (4): lines a crash cannot leave, and lines the checkpoint
// covers, are corruption: reported, never cut.
func TestDirCorruptionIsReportedNotCut(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, log string)
	}{
		{"invalid line with its newline after the checkpoint", func(t *testing.T, log string) {
			appendFile(t, log, `{"op":"upsert","at":`+"\n")
		}},
		{"valid JSON of an unknown op after the checkpoint", func(t *testing.T, log string) {
			appendFile(t, log, `{"op":"merge","at":"2024-05-01T10:00:00Z","row":{"id":1}}`+"\n")
		}},
		{"row of the wrong type after the checkpoint", func(t *testing.T, log string) {
			appendFile(t, log, `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":"one"}}`+"\n")
		}},
		{"a byte of the last covered line changed", func(t *testing.T, log string) {
			replaceInFile(t, log, `"name":"c"`, `"name":"C"`)
		}},
		{"the last covered line made unreadable", func(t *testing.T, log string) {
			replaceInFile(t, log, `"name":"c"`, `"name":[[]`)
		}},
		{"the last covered line cut, newline kept", func(t *testing.T, log string) {
			replaceInFile(t, log, `,"qty":3}}`, "")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, log := checkpointed(t)
			tc.damage(t, log)
			before, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			err = openAndPrepare(path)
			if !errors.Is(err, ops.ErrCorrupt) || !strings.Contains(err.Error(), log) {
				t.Errorf("OpenDir and Prepare: error %v, want one wrapping ErrCorrupt naming %s", err, log)
			}
			if after, _ := os.ReadFile(log); !bytes.Equal(before, after) {
				t.Errorf("the damaged log was changed:\n%q\nwant it kept:\n%q", after, before)
			}
			if _, err := ops.ReadDir(path); !errors.Is(err, ops.ErrCorrupt) {
				t.Errorf("ReadDir: error %v, want one wrapping ErrCorrupt", err)
			}
		})
	}
}

func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(data, []byte(old))
	if i < 0 {
		t.Fatalf("%s does not hold %q", path, old)
	}
	data = append(data[:i:i], append([]byte(new), data[i+len(old):]...)...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Issue 15 (4): a destination knows what it holds. A log that is
// missing, emptied, truncated or written by someone else is detected and
// reported, never recreated empty.
func TestDirDamagedLogIsDetected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, log string)
	}{
		{"deleted", func(t *testing.T, log string) {
			if err := os.Remove(log); err != nil {
				t.Fatal(err)
			}
		}},
		{"emptied", func(t *testing.T, log string) {
			if err := os.Truncate(log, 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated at a line end", func(t *testing.T, log string) {
			data, _ := os.ReadFile(log)
			if err := os.Truncate(log, int64(bytes.IndexByte(data, '\n')+1)); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by another valid log of the same size", func(t *testing.T, log string) {
			replaceInFile(t, log, `"qty":1`, `"qty":9`)
		}},
		{"replaced by another valid log, longer", func(t *testing.T, log string) {
			replaceInFile(t, log, `"name":"a"`, `"name":"another"`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, log := checkpointed(t)
			tc.damage(t, log)
			err := openAndPrepare(path)
			if !errors.Is(err, ops.ErrCorrupt) || !strings.Contains(err.Error(), log) {
				t.Errorf("OpenDir and Prepare: error %v, want one wrapping ErrCorrupt naming %s", err, log)
			}
			if _, err := ops.ReadDir(path); !errors.Is(err, ops.ErrCorrupt) {
				t.Errorf("ReadDir: error %v, want one wrapping ErrCorrupt", err)
			}
			if _, err := os.Stat(log); tc.name == "deleted" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the deleted log was recreated")
			}
		})
	}
}

// Issue 15 (7): temporary files of atomic writes that a killed process
// left are removed when the directory is opened.
func TestDirRemovesOrphanedTempFiles(t *testing.T) {
	path, _ := checkpointed(t)
	orphans := []string{".state.json.tmp-123", ".schema.json.tmp-4567", ".checkpoints.jsonl.tmp-89"}
	for _, name := range orphans {
		if err := os.WriteFile(filepath.Join(path, name), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := openAndPrepare(path); err != nil {
		t.Fatal(err)
	}
	for _, name := range orphans {
		if _, err := os.Stat(filepath.Join(path, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after OpenDir (%v)", name, err)
		}
	}
}

// Issue 15 (2): files holding state or rows are 0600, the directory
// 0700.
func TestDirFileModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dest")
	d := openDir(t, path, ops.DirOptions{}, items)
	apply(t, d, []schema.Table{items}, opstest.Upsert("items", opstest.Item(1, "a", 1)), opstest.Checkpoint(opstest.Mark("items", 1)))
	closeDir(t, d)
	des, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %v, want 0600", de.Name(), got)
		}
	}
	if diff := cmp.Diff([]string{".lock", "checkpoints.jsonl", "items.jsonl", "schema.json"}, names); diff != "" {
		t.Errorf("files mismatch (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("the directory has mode %v, want 0700", got)
	}
}

// A checkpoint cut short leaves a torn line in the journal: the one
// before it holds.
func TestDirTornJournalLine(t *testing.T) {
	path, _ := checkpointed(t)
	journal := filepath.Join(path, "checkpoints.jsonl")
	intact, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	appendFile(t, journal, `{"seq":2,"at":"2024-05-01T10:00:00Z","logs":{"items":{"by`)
	if snap := readDir(t, path); encode(t, snap.State) != encode(t, opstest.Mark("items", 1)) {
		t.Errorf("ReadDir state = %s, want the last complete checkpoint's", encode(t, snap.State))
	}
	d := openDir(t, path, ops.DirOptions{}, items)
	if got := opstest.LoadState(t, d); encode(t, got) != encode(t, opstest.Mark("items", 1)) {
		t.Errorf("LoadState = %s, want the last complete checkpoint's", encode(t, got))
	}
	if data, _ := os.ReadFile(journal); !bytes.Equal(data, intact) {
		t.Errorf("the torn checkpoint was not cut:\n%s", data)
	}
	apply(t, d, []schema.Table{items}, opstest.Checkpoint(opstest.Mark("items", 2)))
	closeDir(t, d)
	if snap := readDir(t, path); encode(t, snap.State) != encode(t, opstest.Mark("items", 2)) {
		t.Errorf("state after the next checkpoint = %s", encode(t, snap.State))
	}
}

func TestDirCorruptJournal(t *testing.T) {
	for _, line := range []string{
		"{\n",
		`{"seq":5,"at":"2024-05-01T10:00:00Z","logs":{},"state":{"version":2}}` + "\n",                                                 // seq gap
		`{"seq":2,"at":"2024-05-01T10:00:00Z","logs":{},"state":{"version":2},"x":1}` + "\n",                                           // unknown field
		`{"seq":2,"at":"2024-05-01T10:00:00Z","logs":{"nope":{"bytes":0,"lines":0,"crc32c":"00000000"}},"state":{"version":2}}` + "\n", // undeclared table
	} {
		path, _ := checkpointed(t)
		journal := filepath.Join(path, "checkpoints.jsonl")
		appendFile(t, journal, line)
		before, _ := os.ReadFile(journal)
		if err := openAndPrepare(path); !errors.Is(err, ops.ErrCorrupt) {
			t.Errorf("OpenDir with a journal line %q: error %v, want one wrapping ErrCorrupt", line, err)
		}
		if _, err := ops.ReadDir(path); !errors.Is(err, ops.ErrCorrupt) {
			t.Errorf("ReadDir with a journal line %q: error %v, want one wrapping ErrCorrupt", line, err)
		}
		if after, _ := os.ReadFile(journal); !bytes.Equal(before, after) {
			t.Errorf("the corrupt journal was changed")
		}
	}
}

// A checkpointed state that cannot be decoded is an error of LoadState,
// and is never overwritten; the rows stay writable.
func TestDirCorruptState(t *testing.T) {
	ctx := context.Background()
	path, _ := checkpointed(t)
	journal := filepath.Join(path, "checkpoints.jsonl")
	replaceInFile(t, journal, `"state":{"version":2`, `"state":{"version":99`)
	garbage, _ := os.ReadFile(journal)
	d := openDir(t, path, ops.DirOptions{}, items)
	if _, err := d.LoadState(ctx); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("LoadState: error %v, want one wrapping state.ErrCorrupt", err)
	}
	apply(t, d, []schema.Table{items}, opstest.Upsert("items", opstest.Item(9, "z", 9)))
	if err := d.Checkpoint(ctx, state.New()); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Checkpoint: error %v, want one wrapping state.ErrCorrupt", err)
	}
	if data, _ := os.ReadFile(journal); !bytes.Equal(data, garbage) {
		t.Errorf("the journal with a corrupt state was overwritten with %q", data)
	}
	if _, err := ops.ReadDir(path); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("ReadDir: error %v, want one wrapping state.ErrCorrupt", err)
	}
}

// A directory written before the journal, with its state in state.json,
// opens; the first checkpoint moves the state to the journal.
func TestDirLegacyStateFile(t *testing.T) {
	path := t.TempDir()
	schemaDoc := `{"version":1,"tables":[{"name":"items","primary_key":["id"],"columns":[{"name":"id","type":"LONG"},{"name":"name","type":"STRING"},{"name":"qty","type":"LONG"}]}]}`
	log := `{"op":"upsert","at":"2024-05-01T10:00:00Z","row":{"id":1,"name":"a","qty":1}}` + "\n" +
		`{"op":"upsert","at":"2024-05-01T10:00:01Z","row":{"id":2`
	legacy := `{"version":1,"tables":{"items":{"mark":{"updatedAt":"2024-05-01T10:00:00Z","id":"1"}}}}`
	for name, content := range map[string]string{"schema.json": schemaDoc, "items.jsonl": log, "state.json": legacy} {
		if err := os.WriteFile(filepath.Join(path, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := state.Decode([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	if snap := readDir(t, path); encode(t, snap.State) != encode(t, want) || len(snap.Live("items")) != 1 {
		t.Errorf("ReadDir of the old layout: state %s, rows %v", encode(t, snap.State), snap.Live("items"))
	}
	d := openDir(t, path, ops.DirOptions{}, items)
	if got := opstest.LoadState(t, d); encode(t, got) != encode(t, want) {
		t.Errorf("LoadState = %s, want the state.json's", encode(t, got))
	}
	apply(t, d, []schema.Table{items}, opstest.Upsert("items", opstest.Item(2, "b", 2)), opstest.Checkpoint(opstest.Mark("items", 1)))
	closeDir(t, d)
	if _, err := os.Stat(filepath.Join(path, "state.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state.json is still there after a checkpoint (%v)", err)
	}
	snap := readDir(t, path)
	if encode(t, snap.State) != encode(t, opstest.Mark("items", 1)) || len(snap.Live("items")) != 2 {
		t.Errorf("after the first checkpoint: state %s, rows %v", encode(t, snap.State), snap.Live("items"))
	}
}

// The journal is compacted to its last line once it grows.
func TestDirJournalCompaction(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{}, items)
	big := opstest.Mark("items", 0)
	big.Table("items").Values = map[string]string{"pad": strings.Repeat("x", 100<<10)}
	for i := range 30 {
		big.Table("items").Values["n"] = fmt.Sprint(i)
		apply(t, d, []schema.Table{items}, opstest.Upsert("items", opstest.Item(int64(i), "a", 1)), opstest.Checkpoint(big))
	}
	closeDir(t, d)
	fi, err := os.Stat(filepath.Join(path, "checkpoints.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 1<<20+200<<10 {
		t.Errorf("the journal is %d bytes after 30 checkpoints of 100 KiB, want it compacted", fi.Size())
	}
	snap := readDir(t, path)
	if got := snap.State.Table("items").Values["n"]; got != "29" || len(snap.Live("items")) != 30 {
		t.Errorf("after compaction: state n=%s, %d rows; want 29 and 30", got, len(snap.Live("items")))
	}
}
