package state_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/state"
)

// entries returns the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// checkOnly fails unless dir holds exactly names: no temporary file left.
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	if diff := cmp.Diff(names, entries(t, dir)); diff != "" {
		t.Errorf("files in %s mismatch (-want +got):\n%s", dir, diff)
	}
}

func TestFileMissing(t *testing.T) {
	dir := t.TempDir()
	f := state.NewFile(filepath.Join(dir, "state.json"))
	got, err := f.Load(context.Background())
	if err != nil {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if diff := cmp.Diff(state.New(), got); diff != "" {
		t.Errorf("Load of a missing file mismatch (-want +got):\n%s", diff)
	}
	checkOnly(t, dir)
}

func TestFileSaveLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	f := state.NewFile(path)
	if got := f.Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
	s := sample()
	if err := f.Save(ctx, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	s.Table("orders").Mark.ID = state.String("changed after save")
	checkOnly(t, dir, "state.json")

	// A new store, as in the next run.
	got, err := state.NewFile(path).Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(sample(), got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := sample().Encode()
	if !bytes.Equal(data, want) {
		t.Errorf("file content = %s, want %s", data, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("file mode = %v, want %v", got, want)
	}

	// Overwrite with a smaller state: no leftover of the larger one.
	small := state.New()
	if err := f.Save(ctx, small); err != nil {
		t.Fatalf("second Save: %v", err)
	}
	got, err = f.Load(ctx)
	if err != nil {
		t.Fatalf("Load after second Save: %v", err)
	}
	if diff := cmp.Diff(small, got); diff != "" {
		t.Errorf("Load after second Save mismatch (-want +got):\n%s", diff)
	}
	checkOnly(t, dir, "state.json")
}

func TestFileCorrupt(t *testing.T) {
	const garbage = `{"version":1,"tables":{"orders":{"mark":` // truncated by hand
	for _, loadFirst := range []bool{true, false} {
		t.Run(fmt.Sprint("loadFirst=", loadFirst), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if err := os.WriteFile(path, []byte(garbage), 0o600); err != nil {
				t.Fatal(err)
			}
			f := state.NewFile(path)
			if loadFirst {
				s, err := f.Load(ctx)
				if err == nil {
					t.Fatalf("Load of a corrupt file = %+v, want an error", s)
				}
				if !errors.Is(err, state.ErrCorrupt) {
					t.Errorf("Load error %q does not wrap ErrCorrupt", err)
				}
				if want := "state: loading " + path + ": corrupt state: "; !strings.HasPrefix(err.Error(), want) {
					t.Errorf("Load error = %q, want prefix %q", err, want)
				}
			}
			for range 2 {
				err := f.Save(ctx, sample())
				if !errors.Is(err, state.ErrCorrupt) {
					t.Fatalf("Save over a corrupt file: error %v, want one wrapping ErrCorrupt", err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("Save error %q does not name the path", err)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != garbage {
				t.Errorf("the corrupt file was changed to %q", data)
			}
			checkOnly(t, dir, "state.json")

			// Once the user removes the file, saving works again.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := f.Save(ctx, sample()); err != nil {
				t.Fatalf("Save after removing the corrupt file: %v", err)
			}
			if _, err := f.Load(ctx); err != nil {
				t.Errorf("Load after Save: %v", err)
			}
		})
	}
}

func TestFileFixedByHand(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"version":9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := state.NewFile(path)
	if err := f.Save(ctx, sample()); !errors.Is(err, state.ErrCorrupt) {
		t.Fatalf("Save over a newer-version file: error %v, want one wrapping ErrCorrupt", err)
	}
	if err := os.WriteFile(path, []byte(`{"version":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(ctx, sample()); err != nil {
		t.Fatalf("Save after the file was fixed: %v", err)
	}
}

func TestFileUnreadable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	// A directory where the file should be: unreadable as a file, even
	// for root.
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	f := state.NewFile(path)
	_, err := f.Load(ctx)
	if err == nil {
		t.Fatal("Load of a directory succeeded, want an error")
	}
	if errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Load error %q wraps ErrCorrupt, but the content is unread, not corrupt", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("Load error %q does not name the path", err)
	}
	if err := f.Save(ctx, sample()); err == nil {
		t.Error("Save over an unreadable path succeeded, want an error")
	}
	checkOnly(t, dir, "state.json")
}

// TestFileFailedRename makes the final rename fail (the path became a
// directory after the store checked it) and checks that no temporary file
// is left behind.
func TestFileFailedRename(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	f := state.NewFile(path)
	if _, err := f.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "child"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := f.Save(ctx, sample())
	if err == nil {
		t.Fatal("Save with a directory in the way succeeded, want an error")
	}
	if !strings.HasPrefix(err.Error(), "state: saving "+path+": ") {
		t.Errorf("Save error = %q, want it to name the path", err)
	}
	checkOnly(t, dir, "state.json")
}

func TestFileReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: a read-only directory does not stop writes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	f := state.NewFile(path)
	if err := f.Save(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if err := f.Save(ctx, state.New()); err == nil {
		t.Fatal("Save into a read-only directory succeeded, want an error")
	}
	got, err := f.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample(), got); diff != "" {
		t.Errorf("a failed Save changed the file (-want +got):\n%s", diff)
	}
	checkOnly(t, dir, "state.json")
}

func TestFileWarnSize(t *testing.T) {
	ctx := context.Background()
	big := state.New()
	for i := range 50 {
		big.Table(fmt.Sprint("table", i)).Mark.ID = state.String(strings.Repeat("x", 20))
	}
	data, _ := big.Encode()

	for _, tc := range []struct {
		name     string
		warnSize int
		warnings int
	}{
		{"below the limit", len(data), 0},
		{"above the limit", len(data) - 1, 1},
		{"default", 0, 0},
		{"disabled", -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			path := filepath.Join(t.TempDir(), "state.json")
			f := state.NewFile(path)
			f.WarnSize = tc.warnSize
			f.Logger = slog.New(slog.NewTextHandler(&buf, nil))
			for range 3 {
				if err := f.Save(ctx, big); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.Load(ctx); err != nil {
				t.Fatal(err)
			}
			log := buf.String()
			if got := strings.Count(log, "level=WARN"); got != tc.warnings {
				t.Errorf("%d warnings, want %d; log:\n%s", got, tc.warnings, log)
			}
			if tc.warnings > 0 {
				for _, want := range []string{"path=" + path, fmt.Sprint("size=", len(data))} {
					if !strings.Contains(log, want) {
						t.Errorf("warning %q does not contain %q", log, want)
					}
				}
			}
		})
	}
}

func TestFileWarnOnLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := state.NewFile(path).Save(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	f := state.NewFile(path)
	f.WarnSize = 10
	f.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	if _, err := f.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "level=WARN"); got != 1 {
		t.Errorf("%d warnings on loading a large state, want 1; log:\n%s", got, buf.String())
	}
}

// TestFileConcurrent saves from several goroutines while others read the
// file directly: every read sees a complete document.
func TestFileConcurrent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	f := state.NewFile(path)
	if err := f.Save(ctx, state.New()); err != nil {
		t.Fatal(err)
	}
	const writers, saves = 4, 5
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("reading during saves: %v", err)
					return
				}
				if _, err := state.Decode(data); err != nil {
					t.Errorf("a reader saw a partial file: %v", err)
					return
				}
			}
		})
	}
	var saved sync.WaitGroup
	for w := range writers {
		saved.Go(func() {
			s := sample()
			for i := range saves {
				s.Table(fmt.Sprint("writer", w)).Mark.ID = state.String(strings.Repeat("y", 100*i))
				if err := f.Save(ctx, s); err != nil {
					t.Errorf("Save: %v", err)
				}
			}
		})
	}
	saved.Wait()
	close(done)
	wg.Wait()
	if _, err := f.Load(ctx); err != nil {
		t.Errorf("Load after concurrent saves: %v", err)
	}
	checkOnly(t, dir, "state.json")
}

func TestFileContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	f := state.NewFile(filepath.Join(dir, "state.json"))
	if err := f.Save(ctx, state.New()); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context: error %v, want context.Canceled", err)
	}
	if _, err := f.Load(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context: error %v, want context.Canceled", err)
	}
	if err := f.Save(context.Background(), nil); err == nil {
		t.Error("Save(nil) succeeded, want an error")
	}
	checkOnly(t, dir)
}
