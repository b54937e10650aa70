package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
	_ "modernc.org/sqlite"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/schema"
)

// runMain runs the command with args and returns what it printed.
func runMain(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"-progress=-1s"}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("run(%q) = %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// upserts returns the upserts column of each summary in out.
func upserts(t *testing.T, out string) []int {
	t.Helper()
	var got []int
	for _, m := range regexp.MustCompile(`(?m)^\s+user\s+(\d+)`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		got = append(got, n)
	}
	if len(got) != 2 {
		t.Fatalf("output has %d summaries, want 2:\n%s", len(got), out)
	}
	return got
}

func TestDefaultRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, strategy := range []string{"offset", "keyset"} {
		t.Run(strategy, func(t *testing.T) {
			out := runMain(t, "-users", "500", "-page-size", "40", "-changes", "12", "-strategy", strategy, "-concurrency", "3")
			got := upserts(t, out)
			if got[0] != 500 {
				t.Errorf("initial sync upserts = %d, want 500\n%s", got[0], out)
			}
			// 12 changes: 8 updates, 2 inserts, 2 deletes; deletes are not upserts.
			if got[1] > 10 || got[1] < 9 {
				t.Errorf("incremental sync upserts = %d, want the 8 updated (or fewer, when a user was picked twice) and 2 inserted users\n%s", got[1], out)
			}
			if !strings.Contains(out, "The destination matches the source") {
				t.Errorf("output lacks the final check:\n%s", out)
			}
		})
	}
}

func TestStateFileResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first := upserts(t, runMain(t, "-users", "300", "-changes", "6", "-state", path))
	second := upserts(t, runMain(t, "-users", "300", "-changes", "6", "-state", path))
	if first[0] != 300 {
		t.Errorf("first run's initial sync upserts = %d, want 300", first[0])
	}
	if second[0] != 0 {
		t.Errorf("second run's initial sync upserts = %d, want 0: the state file says all is synced", second[0])
	}
	if second[1] == 0 || second[1] > 5 {
		t.Errorf("second run's incremental upserts = %d, want the few changed users", second[1])
	}
}

func TestDirectoryDestination(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	runMain(t, "-users", "200", "-changes", "6", "-out", dir)
	snap, err := ops.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(snap.Live("user")); n != 200 { // 4 updated, 1 inserted, 1 deleted
		t.Errorf("live users in %s = %d, want 200", dir, n)
	}
	if snap.State == nil || snap.State.Tables["user"].Mark.IsZero() {
		t.Errorf("state.json has no mark: %+v", snap.State)
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestPostgresDestination(t *testing.T) {
	dsn := pgtest.Database(t)
	runMain(t, "-users", "200", "-changes", "6", "-pg", dsn)
	db, err := pgdest.Open(context.Background(), dsn, pgdest.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Prepare(context.Background(), []schema.Table{users.Table()}); err != nil {
		t.Fatal(err)
	}
	live, err := db.Live(context.Background(), "user")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 200 { // 4 updated, 1 inserted, 1 deleted
		t.Errorf("live users in Postgres = %d, want 200", len(live))
	}
	second := upserts(t, runMain(t, "-users", "200", "-changes", "6", "-pg", dsn))
	if second[0] != 0 {
		t.Errorf("second run's initial sync upserts = %d, want 0: the database holds the state", second[0])
	}
}

func TestSQLiteDestination(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warehouse.db")
	runMain(t, "-users", "200", "-changes", "6", "-db", path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var all, live int
	if err := db.QueryRow(`select count(*), sum(_connector_deleted = 0) from "user"`).Scan(&all, &live); err != nil {
		t.Fatal(err)
	}
	if all != 201 || live != 200 {
		t.Errorf("rows in the database = %d, %d live; want 201 users synced (1 inserted), 200 live (1 deleted)", all, live)
	}
	second := upserts(t, runMain(t, "-users", "200", "-changes", "6", "-db", path))
	if second[0] != 0 {
		t.Errorf("second run's initial sync upserts = %d, want 0: the database holds the state", second[0])
	}
}

func TestExternalServer(t *testing.T) {
	srv := mockapi.NewServer(mockapi.Options{Users: 150})
	defer srv.Close()
	got := upserts(t, runMain(t, "-url", srv.URL, "-page-size", "25"))
	if got[0] != 150 || got[1] != 0 {
		t.Errorf("syncs from -url upserts = %v, want [150 0]", got)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-strategy", "cursor"}, {"-page-size", "0"}, {"-users", "-1"}, {"-out", "a", "-db", "b"}, {"-nope"},
		{"-db", "b", "-pg", "postgres://x"}, {"-state", "s.json", "-pg", "postgres://x"},
		{"-state", "s.json", "-out", "a"}, {"-state", "s.json", "-db", "b"},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

func TestInvalidRecordsAreSkippedAndCounted(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, strategy := range []string{"offset", "keyset"} {
		t.Run(strategy, func(t *testing.T) {
			srv := mockapi.NewServer(mockapi.Options{Users: 400, Faults: mockapi.Faults{MissingFieldRate: 0.1}})
			defer srv.Close()
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			api := &API{Client: &rest.Client{Logger: logger}, BaseURL: srv.URL, PageSize: 30, Strategy: strategy, Logger: logger}
			dest := ops.NewMemory()
			sum, err := api.Connector().Run(context.Background(), dest, connector.Options{Logger: logger, Progress: -1})
			if err != nil {
				t.Fatal(err)
			}
			ts, _ := sum.Table("user")
			// Keyset paging reads a record without its key again at the
			// start of the next page, so it may be skipped twice.
			if all := ts.Skipped + ts.Upserts; ts.Skipped == 0 || all < 400 || strategy == "offset" && all != 400 {
				t.Errorf("summary = %d upserts, %d skipped; want some skipped and 400 in all", ts.Upserts, ts.Skipped)
			}
			// The first ten skips are logged one by one, the rest summed up.
			if got := int64(strings.Count(logs.String(), "skipped a record")); got != min(ts.Skipped, 10) {
				t.Errorf("skip warnings logged = %d, want %d", got, min(ts.Skipped, 10))
			}
			if ts.Skipped > 10 && !strings.Contains(logs.String(), "skipped="+strconv.FormatInt(ts.Skipped, 10)) {
				t.Errorf("the log lacks the total of %d skipped records", ts.Skipped)
			}
			if n := int64(len(dest.Live("user"))); n != ts.Upserts {
				t.Errorf("rows in the destination = %d, want the %d valid users", n, ts.Upserts)
			}
		})
	}
}
