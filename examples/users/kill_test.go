package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/schema"
)

// killTrials is the number of kill -9 trials per destination: a few in
// every go test, more with CONNECTOR_KILL_TRIALS=50 (the trial mode the
// README's figures come from).
func killTrials(t *testing.T) int {
	if v := os.Getenv("CONNECTOR_KILL_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("CONNECTOR_KILL_TRIALS=%q: want a count", v)
		}
		return n
	}
	if testing.Short() {
		return 2
	}
	return 5
}

// TestKillTrials runs this command as a real process syncing from a mock
// API into a directory or a SQLite database, kills it with SIGKILL at a
// random moment, changes the source, and runs it again (killing it again
// now and then) until one run completes: the destination must then hold
// exactly the source.
func TestKillTrials(t *testing.T) {
	n := killTrials(t)
	if n == 0 {
		t.Skip("CONNECTOR_KILL_TRIALS=0")
	}
	bin := filepath.Join(t.TempDir(), "users")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the command: %v\n%s", err, out)
	}
	for _, kind := range []string{"dir", "sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var lost, kills int
			for trial := range n {
				rnd := rand.New(rand.NewPCG(uint64(trial), 9))
				mock := mockapi.NewServer(mockapi.Options{Users: 3000 + rnd.IntN(3000), Seed: int64(trial) + 1})
				loc := filepath.Join(t.TempDir(), "dest")
				args := []string{"-url", mock.URL, "-page-size", strconv.Itoa(20 + rnd.IntN(80)), "-progress=-1s"}
				switch kind {
				case "dir":
					args = append(args, "-out", loc)
				case "sqlite":
					args = append(args, "-db", loc)
				case "postgres":
					loc = pgtest.Database(t)
					args = append(args, "-pg", loc)
				}
				for attempt := 0; ; attempt++ {
					cmd := exec.Command(bin, args...)
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					kill := attempt < 3 && (attempt == 0 || rnd.IntN(2) == 0)
					done := make(chan error, 1)
					go func() { done <- cmd.Wait() }()
					var err error
					if kill {
						select {
						case err = <-done: // finished before the kill
						case <-time.After(time.Duration(rnd.IntN(400)) * time.Millisecond):
							_ = cmd.Process.Signal(syscall.SIGKILL)
							err = <-done
							kills++
						}
					} else {
						err = <-done
					}
					if err == nil {
						break
					}
					if !kill {
						t.Fatalf("trial %d: run %d failed without a kill: %v", trial, attempt, err)
					}
					// The source changes between the crash and the resume.
					for range rnd.IntN(20) {
						id := mock.UserAt(rnd.IntN(mock.Len())).ID
						switch rnd.IntN(5) {
						case 0:
							mock.Insert()
						case 1:
							mock.Delete(id)
						default:
							mock.Update(id)
						}
					}
					mock.Advance(time.Second)
				}
				live := readUsers(t, kind, loc)
				l, stale, diff := diffRows(mock, live)
				if l+stale > 0 {
					t.Errorf("trial %d: %d rows lost or wrong, %d stale after the kills\n%s", trial, l, stale, diff)
				}
				lost += l + stale
				mock.Close()
			}
			t.Logf("kill -9 trials into %s: %d trials, %d processes killed mid-sync, %d rows lost or wrong", kind, n, kills, lost)
		})
	}
}

// readUsers returns the live users a destination holds.
func readUsers(t *testing.T, kind, loc string) map[string]schema.Row {
	t.Helper()
	switch kind {
	case "dir":
		snap, err := ops.ReadDir(loc)
		if err != nil {
			t.Fatalf("reading %s: %v", loc, err)
		}
		return snap.Live("user")
	case "postgres":
		db, err := pgdest.Open(context.Background(), loc, pgdest.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("opening %s: %v", loc, err)
		}
		defer db.Close()
		if err := db.Prepare(context.Background(), []schema.Table{users.Table()}); err != nil {
			t.Fatal(err)
		}
		live, err := db.Live(context.Background(), "user")
		if err != nil {
			t.Fatalf("reading %s: %v", loc, err)
		}
		return live
	}
	db, err := sqldest.Open(context.Background(), loc, sqldest.Options{})
	if err != nil {
		t.Fatalf("opening %s: %v", loc, err)
	}
	defer db.Close()
	live, err := db.Live(context.Background(), "user")
	if err != nil {
		t.Fatalf("reading %s: %v", loc, err)
	}
	return live
}
