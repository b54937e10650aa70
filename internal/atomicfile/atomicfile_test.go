package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/connectkit/connector/internal/atomicfile"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, content := range []string{"first, longer content", "second"} {
		if err := atomicfile.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatalf("WriteFile: %v", err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("content = %q, want %q", got, content)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o640); got != want {
			t.Errorf("mode = %v, want %v", got, want)
		}
		if got := names(t, dir); len(got) != 1 || got[0] != "f.json" {
			t.Errorf("directory holds %q, want only f.json", got)
		}
	}
}

func TestWriteFileFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	// A non-empty directory in the way makes the rename fail, even for
	// root.
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(path, []byte("data"), 0o600); err == nil {
		t.Fatal("WriteFile over a directory succeeded, want an error")
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "f.json" {
		t.Errorf("directory holds %q after a failure, want only f.json (no temporary file)", got)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "missing", "f"), nil, 0o600); err == nil {
		t.Error("WriteFile into a missing directory succeeded, want an error")
	}
}

func TestSyncDir(t *testing.T) {
	if err := atomicfile.SyncDir(t.TempDir()); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
	if err := atomicfile.SyncDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("SyncDir of a missing directory succeeded, want an error")
	}
}

func TestRemoveTemp(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".f.json.tmp-123", ".f.json.tmp-", ".g.json.tmp-1", "f.json", ".f.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := atomicfile.RemoveTemp(dir, "f.json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(removed), "[.f.json.tmp- .f.json.tmp-123]"; got != want {
		t.Errorf("RemoveTemp removed %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(names(t, dir)), "[.f.json .g.json.tmp-1 f.json]"; got != want {
		t.Errorf("left %s, want %s", got, want)
	}
}
