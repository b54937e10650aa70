package ops_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/opstest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// Issue 15 (5): two writers on one directory. The second Dir, in this
// process or another, is refused while the first is open.
func TestDirLocked(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path, ops.DirOptions{}, items)
	_, err := ops.OpenDir(path, ops.DirOptions{Logger: quiet})
	if !errors.Is(err, ops.ErrLocked) || !strings.Contains(err.Error(), "in use by another sync") {
		t.Errorf("second OpenDir: error %v, want one wrapping ErrLocked", err)
	}
	// ReadDir reads without the lock.
	readDir(t, path)
	closeDir(t, d)
	d = openDir(t, path, ops.DirOptions{}, items)
	if err := ops.Crash(d); err != nil {
		t.Fatal(err)
	}
	// A crashed holder's lock goes with it.
	openDir(t, path, ops.DirOptions{}, items)
}

// helperEnv names the directory a helper process works in.
const helperEnv = "OPS_TEST_HELPER_DIR"

// TestHelperHoldDir is not a test: run by TestDirLockedAcrossProcesses in
// a process of its own, it opens a Dir, says so, and holds it until its
// standard input closes.
func TestHelperHoldDir(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("a helper process")
	}
	d, err := ops.OpenDir(path, ops.DirOptions{Logger: quiet})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("open")
	io.Copy(io.Discard, os.Stdin)
	d.Close()
	os.Exit(0)
}

func TestDirLockedAcrossProcesses(t *testing.T) {
	path := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldDir$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "open\n" {
		t.Fatalf("helper process said %q, %v; want open", line, err)
	}
	if _, err := ops.OpenDir(path, ops.DirOptions{Logger: quiet}); !errors.Is(err, ops.ErrLocked) {
		t.Errorf("OpenDir while another process holds the directory: error %v, want one wrapping ErrLocked", err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}
	d := openDir(t, path, ops.DirOptions{}, items)
	closeDir(t, d)
}

// TestHelperSync is not a test: run by TestDirKilled in a process of its
// own, it syncs numbered items into a Dir forever, from where its state
// says, checkpointing every 50, until it is killed.
func TestHelperSync(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("a helper process")
	}
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	d, err := ops.OpenDir(path, ops.DirOptions{Logger: quiet, BufferSize: 4096})
	if err != nil {
		fail(err)
	}
	tables := []schema.Table{items}
	st, err := d.LoadState(ctx)
	if err != nil {
		fail(err)
	}
	if err := d.Prepare(ctx, tables); err != nil {
		fail(err)
	}
	next := st.Table("items").Mark.ID.Int() + 1
	fmt.Println("from", next)
	for i := next; ; i++ {
		name := strings.Repeat("é😀 item ", int(i%13))
		if err := opstest.Apply(ctx, d, tables, opstest.Upsert("items", opstest.Item(i, name, i))); err != nil {
			fail(err)
		}
		if i%50 == 0 {
			st := state.New()
			st.Table("items").Mark = state.Mark{Cursor: state.Int(i), ID: state.Int(i)}
			if err := d.Checkpoint(ctx, st); err != nil {
				fail(err)
			}
		}
	}
}

// TestDirKilled kills a process syncing into a Dir with SIGKILL at
// random points, several times, and checks after each kill that the
// directory opens and holds every row its state covers, and that the
// next run resumes. OPS_KILL_TRIALS sets the number of kills (default
// 3).
func TestDirKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	trials := 3
	if s := os.Getenv("OPS_KILL_TRIALS"); s != "" {
		var err error
		if trials, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	path := t.TempDir()
	for trial := range trials {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSync$")
		cmd.Env = append(os.Environ(), helperEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.HasPrefix(line, "from ") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("trial %d: helper process said %q, %v", trial, line, err)
		}
		time.Sleep(time.Duration(50+trial*37%100) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		snap, err := ops.ReadDir(path)
		if err != nil {
			t.Fatalf("trial %d: ReadDir after a kill: %v", trial, err)
		}
		upTo := snap.State.Table("items").Mark.ID.Int()
		live := snap.Live("items")
		for i := int64(1); i <= upTo; i++ {
			if live[fmt.Sprint(i)] == nil {
				t.Fatalf("trial %d: row %d is missing, though the state covers rows up to %d", trial, i, upTo)
			}
		}
		t.Logf("trial %d: state covers %d rows, %d rows present, %d operations pending, torn %v", trial, upTo, len(live), snap.Pending, snap.Torn)
	}
}
