package temporal_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/temporal"
)

// failOnce fails, with a 400, the request number failAt of the first
// history partition (told apart by its updated_before) and counts the
// partition's requests before and after the failure.
type failOnce struct {
	mu            sync.Mutex
	failAt        int
	target        string
	before, after int
	failed        bool
}

func (f *failOnce) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		until := r.URL.Query().Get("updated_before")
		f.mu.Lock()
		if f.target == "" && until != "" {
			f.target = until
		}
		fail := false
		if until != "" && until == f.target {
			if f.failed {
				f.after++
				if os.Getenv("CONNECTOR_TEMPORAL_TEST_LOG") == "debug" {
					fmt.Fprintln(os.Stderr, "after:", r.URL.RawQuery)
				}
			} else {
				f.before++
				fail = f.before == f.failAt
				f.failed = fail
			}
		}
		f.mu.Unlock()
		if fail {
			http.Error(w, `{"error":"injected failure"}`, http.StatusBadRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TestRetryResumes fails a partition's fifth page once: Temporal retries
// the part, which resumes after its last checkpoint instead of reading
// the partition again.
func TestRetryResumes(t *testing.T) {
	ts := temporalDev(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the other cleanups: the worker and the mock stopped
	const pageSize, perPart = 20, 200                  // 10 pages a partition
	fo := &failOnce{failAt: 5}
	f := newWrappedFixture(t, 17*perPart, pageSize, 0, fo.wrap)
	queue := newQueue(t)
	c := ts.GetDefaultClient()
	inProcessWorker(t, c, queue, f.dsn)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, temporal.WorkflowName, f.input(4))
	if err != nil {
		t.Fatal(err)
	}
	var res temporal.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	fo.mu.Lock()
	defer fo.mu.Unlock()
	t.Logf("partition until %s: %d requests before the failure (the last failed), %d after", fo.target, fo.before, fo.after)
	if !fo.failed || res.Retried != 1 {
		t.Fatalf("failed = %v, Result.Retried = %d; want the partition failed and retried once", fo.failed, res.Retried)
	}
	pages := perPart / pageSize
	// The retry reads the pages after the last checkpoint (four pages
	// were checkpointed, one per page), and at most the end-of-data page.
	if want := pages - (fo.failAt - 1) + 1; fo.after > want || fo.after >= pages {
		t.Errorf("the retry read %d pages of a partition of %d, want at most %d", fo.after, pages, want)
	}
	f.checkTable(t)
}
