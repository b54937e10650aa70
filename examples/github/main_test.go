package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/rest"
)

func TestDefaultRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-issues", "400", "-page-size", "30", "-progress=-1s"}, &stdout, &stderr); err != nil {
		t.Fatalf("run() = %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "The database matches the source") {
		t.Errorf("output lacks the final check:\n%s", stdout.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-page-size", "101"}, {"-issues", "-1"}, {"-recent", "0s"}, {"-nope"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

// failing answers its at-th request with a 401, which is not retried:
// the sync stops there, as if the process had been stopped.
type failing struct {
	base http.RoundTripper
	n    atomic.Int64
	at   atomic.Int64
}

func (f *failing) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.n.Add(1) == f.at.Load() {
		return &http.Response{StatusCode: http.StatusUnauthorized, Status: "401 Unauthorized", Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"message":"injected"}`)), Request: r}, nil
	}
	return f.base.RoundTrip(r)
}

// TestCrashAtEveryPage interrupts the first sync at each of its pages,
// resumes it in a new database handle (as a new process would), then
// changes the source (labels removed and added, issues closed and
// opened), interrupts the next sync too, and resumes: both tables must
// equal the source.
func TestCrashAtEveryPage(t *testing.T) {
	pages := 14 // 400 issues, 30 a page: 14 pages and more (windows, probes)
	for at := 1; at <= pages; at++ {
		t.Run(fmt.Sprint("request ", at), func(t *testing.T) {
			mock := mockapi.NewServer(mockapi.Options{Issues: 400, Seed: int64(at)})
			defer mock.Close()
			path := filepath.Join(t.TempDir(), "issues.db")
			quiet := slog.New(slog.DiscardHandler)
			hook := &failing{base: mock.Client().Transport}
			api := &API{Client: &rest.Client{Logger: quiet, HTTP: &http.Client{Transport: hook}}, BaseURL: mock.URL, Repo: mockapi.DefaultRepo, PageSize: 30, Recent: 2 * time.Minute}
			c, err := api.Connector()
			if err != nil {
				t.Fatal(err)
			}
			o := connector.Options{Logger: quiet, Progress: -1, Now: mock.Now, Checkpoint: connector.CheckpointPolicy{EveryRecords: 1}}
			sync := func(failAfter int) error {
				db, err := sqldest.Open(context.Background(), path, sqldest.Options{Logger: quiet})
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				hook.n.Store(0)
				hook.at.Store(int64(failAfter))
				_, err = c.Run(context.Background(), db, o)
				return err
			}
			if err := sync(at); err == nil {
				t.Fatalf("the sync with request %d failing succeeded: the test no longer interrupts it", at)
			}
			if err := sync(0); err != nil {
				t.Fatalf("resumed sync: %v", err)
			}
			change(mock, 25, int64(at))
			if err := sync(1); err == nil {
				t.Fatalf("the sync after changes with its first request failing succeeded")
			}
			if err := sync(0); err != nil {
				t.Fatalf("sync after changes: %v", err)
			}
			db, err := sqldest.Open(context.Background(), path, sqldest.Options{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			wantIssues, wantLabels, err := expected(mock)
			if err != nil {
				t.Fatal(err)
			}
			for table, want := range map[string]any{"issue": wantIssues, "issue_label": wantLabels} {
				got, err := db.Live(context.Background(), table)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, any(got)); diff != "" {
					t.Errorf("table %s mismatch (-source +destination):\n%s", table, diff)
				}
			}
		})
	}
}
