package main

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/schema"
)

// The trials run the users connector many times against the mock API with
// seeded randomness: faults, crashes and live changes. Each compares the
// final destination with the source. -short runs a tenth of them, and a
// build with the race detector a quarter.

func trialCount(t *testing.T) int {
	switch {
	case testing.Short():
		return 20
	case raceEnabled:
		return 50
	}
	return 200
}

var quietLogger = slog.New(slog.DiscardHandler)

// hookTransport calls before for each request, then sends it, and counts
// the answers that were not a 200 (5xx, 429, resets).
type hookTransport struct {
	base   http.RoundTripper
	n      atomic.Int64
	faults atomic.Int64
	before func(n int64, r *http.Request) error
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	n := h.n.Add(1)
	if h.before != nil {
		if err := h.before(n, r); err != nil {
			return nil, err
		}
	}
	resp, err := h.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.faults.Add(1)
	}
	return resp, err
}

// trialAPI is the users connector's API over mock, with fast retries and a
// transport hook.
func trialAPI(mock *mockapi.Server, rnd *rand.Rand, strategy string, hook *hookTransport) *API {
	hook.base = mock.Client().Transport
	return &API{
		Client: &rest.Client{
			HTTP:   &http.Client{Transport: hook},
			Retry:  rest.RetryPolicy{MaxAttempts: 12, Base: time.Millisecond, Max: 4 * time.Millisecond, MaxRetryAfter: 4 * time.Millisecond},
			Logger: quietLogger,
		},
		BaseURL:     mock.URL,
		PageSize:    5 + rnd.IntN(40),
		Concurrency: 1 + rnd.IntN(4),
		Strategy:    strategy,
		Logger:      quietLogger,
	}
}

func runOpts() connector.Options { return connector.Options{Logger: quietLogger, Progress: -1} }

// diffRows returns how many rows of the source the destination lacks or
// holds in another version, and how many deleted users it holds as live.
func diffRows(mock *mockapi.Server, live map[string]schema.Row) (lost, stale int, diff string) {
	want := make(map[string]schema.Row)
	for _, mu := range mock.Users() {
		if u := User(mu); checkUser(u) == nil {
			want[u.ID] = users.Row(&u).Map()
		}
	}
	for id, row := range want {
		got, ok := live[id]
		switch {
		case !ok:
			lost++
		case !cmp.Equal(row, got):
			lost++
		}
	}
	for id := range live {
		if _, ok := want[id]; !ok {
			stale++
		}
	}
	if lost+stale > 0 {
		diff = cmp.Diff(want, live)
	}
	return lost, stale, diff
}

// syncUntilDone runs c until a run succeeds, at most tries times, and
// returns the errors of the runs that failed.
func syncUntilDone(ctx context.Context, c *connector.Connector, dest ops.Destination, tries int) (failed []error) {
	for range tries {
		_, err := c.Run(ctx, dest, runOpts())
		if err == nil {
			return failed
		}
		failed = append(failed, err)
	}
	return failed
}

func TestTrialsFaults(t *testing.T) {
	defer goleak.VerifyNone(t)
	n := trialCount(t)
	var lostRows, failedRuns, requests, faults int
	for trial := range n {
		rnd := rand.New(rand.NewPCG(uint64(trial), 1))
		strategy := []string{"offset", "keyset"}[rnd.IntN(2)]
		mock := mockapi.NewServer(mockapi.Options{Users: 50 + rnd.IntN(250), Seed: int64(trial) + 1, Faults: mockapi.Faults{
			ErrorRate:      rnd.Float64() * 0.1,
			RateLimitRate:  rnd.Float64() * 0.05,
			RetryAfterDate: rnd.IntN(2) == 0,
			ResetRate:      rnd.Float64() * 0.05,
			MalformedRate:  rnd.Float64() * 0.03,
			Latency:        time.Duration(rnd.IntN(300)) * time.Microsecond,
		}})
		hook := &hookTransport{}
		api := trialAPI(mock, rnd, strategy, hook)
		dest := ops.NewMemory()
		failed := syncUntilDone(context.Background(), api.Connector(), dest, 5)
		faults += int(hook.faults.Load())
		failedRuns += len(failed)
		requests += int(mock.Requests())
		lost, stale, diff := diffRows(mock, dest.Live("user"))
		lostRows += lost + stale
		if lost+stale > 0 || len(failed) == 5 {
			t.Errorf("trial %d (%s, page %d, concurrency %d): %d rows lost or wrong, %d stale, runs failed %v\n%s",
				trial, strategy, api.PageSize, api.Concurrency, lost, stale, failed, diff)
		}
		mock.Close()
	}
	t.Logf("faults: %d trials, %d requests, %d answered with a 5xx, a 429 or a reset (malformed bodies besides), %d runs that gave up and were resumed, %d rows lost or wrong",
		n, requests, faults, failedRuns, lostRows)
}

// failingDest fails the batch that holds its failAt-th row operation,
// as a destination whose disk or connection fails mid-write.
type failingDest struct {
	ops.StateLoader
	n, failAt atomic.Int64
}

func (f *failingDest) Write(ctx context.Context, batch []ops.Op) error {
	n := f.n.Add(int64(len(batch)))
	if at := f.failAt.Load(); at > n-int64(len(batch)) && at <= n {
		return errors.New("injected destination failure")
	}
	return f.StateLoader.Write(ctx, batch)
}

func TestTrialsCrashAndResume(t *testing.T) {
	defer goleak.VerifyNone(t)
	n := trialCount(t)
	var lostRows, crashed int
	kinds := map[string]int{}
	for trial := range n {
		rnd := rand.New(rand.NewPCG(uint64(trial), 2))
		strategy := []string{"offset", "keyset"}[rnd.IntN(2)]
		mock := mockapi.NewServer(mockapi.Options{Users: 50 + rnd.IntN(250), Seed: int64(trial) + 1})
		hook := &hookTransport{}
		api := trialAPI(mock, rnd, strategy, hook)
		c := api.Connector()
		pages := mock.Len()/api.PageSize + 1
		crashAt := 1 + rnd.Int64N(int64(pages))
		kind := []string{"source error", "cancelled context", "destination failure", "directory destination crash"}[rnd.IntN(4)]
		kinds[kind]++

		ctx, cancel := context.WithCancel(context.Background())
		var dir string
		var dest ops.Destination
		mem := ops.NewMemory()
		dest = mem
		switch kind {
		case "source error":
			hook.before = func(n int64, _ *http.Request) error {
				if n == crashAt {
					return errors.New("injected source failure") // a transport error after the retries
				}
				return nil
			}
			api.Client.Retry.MaxAttempts = 1
		case "cancelled context":
			hook.before = func(n int64, _ *http.Request) error {
				if n == crashAt {
					cancel()
				}
				return nil
			}
		case "destination failure":
			dest = &failingDest{StateLoader: mem}
			dest.(*failingDest).failAt.Store(crashAt * int64(api.PageSize) / 2)
		case "directory destination crash":
			dir = filepath.Join(t.TempDir(), "out")
			d, err := ops.OpenDir(dir, ops.DirOptions{Logger: quietLogger})
			if err != nil {
				t.Fatal(err)
			}
			fd := &failingDest{StateLoader: d}
			fd.failAt.Store(crashAt * int64(api.PageSize) / 2)
			dest = fd
		}
		_, err := c.Run(ctx, dest, runOpts())
		cancel()
		if err != nil {
			crashed++
		}

		// Resume with a healthy source and destination.
		hook.before = nil
		api.Client.Retry.MaxAttempts = 0
		var live map[string]schema.Row
		if dir != "" {
			// The process died: nothing buffered survives. Reopen.
			dest.(*failingDest).StateLoader.(*ops.Dir).Abandon()
			d, err := ops.OpenDir(dir, ops.DirOptions{Logger: quietLogger})
			if err != nil {
				t.Fatalf("trial %d: reopening the directory: %v", trial, err)
			}
			if _, err := c.Run(context.Background(), d, runOpts()); err != nil {
				t.Fatalf("trial %d: resumed run: %v", trial, err)
			}
			d.Close()
			snap, err := ops.ReadDir(dir)
			if err != nil {
				t.Fatalf("trial %d: reading the directory: %v", trial, err)
			}
			live = snap.Live("user")
		} else {
			if _, err := c.Run(context.Background(), mem, runOpts()); err != nil {
				t.Fatalf("trial %d: resumed run: %v", trial, err)
			}
			live = mem.Live("user")
		}
		lost, stale, diff := diffRows(mock, live)
		lostRows += lost + stale
		if lost+stale > 0 {
			t.Errorf("trial %d (%s at %d, %s, page %d): %d rows lost or wrong, %d stale\n%s",
				trial, kind, crashAt, strategy, api.PageSize, lost, stale, diff)
		}
		mock.Close()
	}
	t.Logf("crash and resume: %d trials (%v), %d crashed before the end, %d rows lost or wrong", n, kinds, crashed, lostRows)
}

// liveTrial syncs while the mock changes between requests, then syncs once
// more, and returns the rows lost or wrong.
func liveTrial(t *testing.T, trial int, strategy string) (lost int, changes int) {
	rnd := rand.New(rand.NewPCG(uint64(trial), 3))
	mock := mockapi.NewServer(mockapi.Options{Users: 100 + rnd.IntN(200), Seed: int64(trial) + 1})
	defer mock.Close()
	var mu sync.Mutex
	mutating := true
	hook := &hookTransport{}
	hook.before = func(int64, *http.Request) error {
		mu.Lock()
		defer mu.Unlock()
		if !mutating {
			return nil
		}
		for range rnd.IntN(4) {
			// Each change gets a later timestamp than any row before it,
			// as a database's commit time would.
			mock.Advance(time.Millisecond)
			id := mock.UserAt(rnd.IntN(mock.Len())).ID
			switch rnd.IntN(6) {
			case 0:
				mock.Insert()
			case 1:
				mock.Delete(id)
			default:
				mock.Update(id)
			}
			changes++
		}
		return nil
	}
	api := trialAPI(mock, rnd, strategy, hook)
	dest := ops.NewMemory()
	c := api.Connector()
	if _, err := c.Run(context.Background(), dest, runOpts()); err != nil {
		t.Fatalf("trial %d: sync under change: %v", trial, err)
	}
	mu.Lock()
	mutating = false
	mu.Unlock()
	if _, err := c.Run(context.Background(), dest, runOpts()); err != nil {
		t.Fatalf("trial %d: final sync: %v", trial, err)
	}
	l, stale, diff := diffRows(mock, dest.Live("user"))
	if strategy == "keyset" && l+stale > 0 {
		t.Errorf("trial %d (keyset, page %d, concurrency %d): %d rows lost or wrong, %d deleted rows live\n%s", trial, api.PageSize, api.Concurrency, l, stale, diff)
	}
	// Deleted users that reached the destination are marked deleted.
	rows := map[string]bool{}
	for _, r := range dest.Rows("user") {
		rows[r["id"].(string)] = r[ops.DeletedColumn].(bool)
	}
	for _, id := range mock.Deleted() {
		if deleted, ok := rows[id]; ok && !deleted && strategy == "keyset" {
			t.Errorf("trial %d: user %s was deleted at the source but is live in the destination", trial, id)
		}
	}
	return l + stale, changes
}

func TestTrialsLiveChangeKeyset(t *testing.T) {
	defer goleak.VerifyNone(t)
	n := trialCount(t)
	var lost, changes int
	for trial := range n {
		l, c := liveTrial(t, trial, "keyset")
		lost += l
		changes += c
	}
	t.Logf("keyset under live change: %d trials, %d changes during the syncs, %d rows lost or wrong", n, changes, lost)
}

func TestTrialsLiveChangeOffset(t *testing.T) {
	defer goleak.VerifyNone(t)
	n := trialCount(t)
	var lost, changes, lossy int
	for trial := range n {
		l, c := liveTrial(t, trial, "offset")
		lost += l
		changes += c
		if l > 0 {
			lossy++
		}
	}
	// Offset paging is not loss-free under change; the figure is the
	// measurement the README reports, not a pass/fail threshold.
	t.Logf("offset under live change: %d trials, %d changes during the syncs, %d trials lost rows (%.0f%%), %d rows lost or wrong in all",
		n, changes, lossy, 100*float64(lossy)/float64(n), lost)
	if lossy == 0 {
		t.Errorf("offset under live change lost no rows in %d trials: the trial no longer exercises offset drift", n)
	}
}
