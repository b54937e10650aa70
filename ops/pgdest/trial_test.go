package pgdest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/schema"
)

// The kill-and-resume trials run this test binary as a writer process
// (TestMain sees childEnv), kill it with SIGKILL at random moments, run it
// again until it finishes, and compare the tables with the source. The
// writer syncs a deterministic source page by page, resuming from the
// state it loads from the destination, as a connector process would;
// once the runner can drive a connector process against pgdest
// (examples/users -pg), the same harness runs that command instead.
const (
	childEnv     = "PGDEST_TRIAL_CHILD" // the DSN, in the writer process
	childSchema  = "PGDEST_TRIAL_SCHEMA"
	trialPages   = 40
	trialPerPage = 100
	// EnvKillTrials names the environment variable with the number of
	// kill trials; 20 by default.
	EnvKillTrials = "CONNECTOR_PG_KILL_TRIALS"
)

// sourcePage returns the operations of page p of the trial source: pure
// upserts of new items for the first pages (a load without the primary
// key), then upserts of existing items, updates, deletes and the labels
// of items replaced.
func sourcePage(p int) []op {
	r := rand.New(rand.NewPCG(uint64(p), 7))
	var out []op
	for i := range trialPerPage {
		if p < 10 {
			id := int64(p*trialPerPage + i)
			out = append(out, op{kind: ops.OpUpsert, table: "items", row: item(id, fmt.Sprint("n", id), int64(p))})
			continue
		}
		id := int64(r.IntN(10 * trialPerPage))
		switch x := r.IntN(10); {
		case x < 5:
			out = append(out, op{kind: ops.OpUpsert, table: "items", row: item(id, fmt.Sprint("p", p), int64(i))})
		case x < 7:
			out = append(out, op{kind: ops.OpUpdate, table: "items", row: schema.Row{"id": id, "qty": int64(-p)}})
		case x < 8:
			out = append(out, op{kind: ops.OpDelete, table: "items", row: schema.Row{"id": id}})
		default:
			out = append(out, op{kind: ops.OpDeleteChildren, table: "labels", row: schema.Row{"item": id}})
			for l := range r.IntN(3) {
				out = append(out, op{kind: ops.OpUpsert, table: "labels", row: schema.Row{"item": id, "label": fmt.Sprint("l", l+r.IntN(2)), "color": fmt.Sprint(p)}})
			}
		}
	}
	return out
}

// trialChild is the writer process: it syncs the source into the schema
// of childSchema from where the stored state says, then exits 0.
func trialChild() int {
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "trial writer:", err)
		return 1
	}
	db, err := pgdest.Open(ctx, os.Getenv(childEnv), pgdest.Options{Schema: os.Getenv(childSchema), Logger: quiet, RetryBackoff: 50 * time.Millisecond})
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	st, err := db.LoadState(ctx)
	if err != nil {
		return fail(err)
	}
	if err := db.Prepare(ctx, []schema.Table{items, labels}); err != nil {
		return fail(err)
	}
	next, _ := strconv.Atoi(st.Table("items").Values["page"])
	for p := next; p < trialPages; p++ {
		var batch []ops.Op
		for _, o := range sourcePage(p) {
			n, err := o.kind.Normalize(compiled[o.table], o.row)
			if err != nil {
				return fail(err)
			}
			batch = append(batch, n)
		}
		// Two Writes per page, as a connector writing as it reads.
		half := len(batch) / 2
		if err := db.Write(ctx, batch[:half]); err != nil {
			return fail(err)
		}
		if err := db.Write(ctx, batch[half:]); err != nil {
			return fail(err)
		}
		st.Table("items").Values = map[string]string{"page": strconv.Itoa(p + 1)}
		if err := db.Checkpoint(ctx, st); err != nil {
			return fail(err)
		}
	}
	if err := db.Close(); err != nil {
		return fail(err)
	}
	return 0
}

// runWriter starts the writer process; kill, if positive, kills it with
// SIGKILL after that long. It reports whether the writer finished.
func runWriter(t *testing.T, dsn, schemaName string, kill time.Duration, during func()) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dsn, childSchema+"="+schemaName)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if during != nil {
		during()
	}
	if kill > 0 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
			return true
		case <-time.After(kill):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return false
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("writer: %v", err)
	}
	return true
}

// want returns the live rows the source ends with.
func want(t *testing.T) (map[string]schema.Row, map[string]schema.Row) {
	t.Helper()
	mem := ops.NewMemory()
	ctx := context.Background()
	if err := mem.Prepare(ctx, []schema.Table{items, labels}); err != nil {
		t.Fatal(err)
	}
	for p := range trialPages {
		apply(t, mem, sourcePage(p), 0)
	}
	return mem.Live("items"), mem.Live("labels")
}

// checkTrial compares the tables of schemaName with the source, and
// checks that a reopened DB finds what it recorded (row counts and the
// state of the last page).
func checkTrial(t *testing.T, dsn, schemaName string, wantItems, wantLabels map[string]schema.Row) {
	t.Helper()
	db := reopen(t, dsn, pgdest.Options{Schema: schemaName})
	st := load(t, db)
	if err := db.Prepare(context.Background(), []schema.Table{items, labels}); err != nil {
		t.Fatalf("Prepare after the trial: %v", err)
	}
	if got := st.Table("items").Values["page"]; got != strconv.Itoa(trialPages) {
		t.Errorf("state after the trial: page %q, want %d", got, trialPages)
	}
	if diff := cmp.Diff(wantItems, live(t, db, "items")); diff != "" {
		t.Errorf("items (-source +destination):\n%s", diff)
	}
	if diff := cmp.Diff(wantLabels, live(t, db, "labels")); diff != "" {
		t.Errorf("labels (-source +destination):\n%s", diff)
	}
	db.Close()
}

// TestKillAndResume kills the writer process with SIGKILL at random
// moments, 1 to 3 times per trial, then lets it finish: the tables end
// equal to the source, with no row lost or held twice.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("kill trials: not with -short")
	}
	trials := 20
	if s := os.Getenv(EnvKillTrials); s != "" {
		trials, _ = strconv.Atoi(s)
	}
	wantItems, wantLabels := want(t)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for trial := range trials {
		dsn, name := pgtest.Schema(t)
		for k := 1 + r.IntN(3); k > 0; k-- {
			if runWriter(t, dsn, name, time.Duration(50+r.IntN(700))*time.Millisecond, nil) {
				break
			}
			kills++
		}
		runWriter(t, dsn, name, 0, nil)
		checkTrial(t, dsn, name, wantItems, wantLabels)
		if t.Failed() {
			t.Fatalf("trial %d failed", trial)
		}
	}
	t.Logf("%d trials, %d kills: every table equal to the source", trials, kills)
}

// TestRestartMidSync restarts the server while the writer runs: its
// retries carry it through, and the tables end equal to the source.
func TestRestartMidSync(t *testing.T) {
	s := pgtest.Managed(t)
	wantItems, wantLabels := want(t)
	for trial := range 3 {
		dsn, name := pgtest.Schema(t)
		runWriter(t, dsn, name, 0, func() {
			time.Sleep(time.Duration(200+300*trial) * time.Millisecond)
			if err := s.Restart(context.Background()); err != nil {
				t.Error(err)
			}
		})
		checkTrial(t, dsn, name, wantItems, wantLabels)
	}
}
