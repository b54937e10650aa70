package rest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sleeper records the waits a Client asks for instead of sleeping. Its
// hook, when set, runs at each wait (to change faults, cancel, ...), and
// its result is returned.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
	hook  func(ctx context.Context, n int, d time.Duration) error
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	n := len(s.waits)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		return hook(ctx, n, d)
	}
	return ctx.Err()
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// testClient returns a Client using hc with tiny backoffs, an injected
// sleeper and a logger that writes into the returned buffer.
func testClient(hc *http.Client) (*Client, *sleeper, *syncBuffer) {
	sl := &sleeper{}
	logs := &syncBuffer{}
	c := &Client{
		HTTP:   hc,
		Retry:  RetryPolicy{Base: time.Millisecond, Max: 10 * time.Millisecond},
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		sleep:  sl.sleep,
	}
	return c, sl, logs
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// script is a handler that answers request i (0-based) with steps[i], and
// with the last step after that. It counts the requests.
type script struct {
	steps []http.HandlerFunc
	n     atomic.Int64
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	s.steps[min(i, len(s.steps)-1)](w, r)
}

func (s *script) hits() int { return int(s.n.Load()) }

// reply answers with status, the headers given as name, value pairs, and
// body.
func reply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// ok answers 200 with a small JSON object.
var ok = reply(http.StatusOK, `{"id":7,"name":"ok"}`, "Content-Type", "application/json")

type item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// countingLimiter counts its calls and returns err.
type countingLimiter struct {
	n   atomic.Int64
	err error
}

func (l *countingLimiter) Wait(context.Context) error {
	l.n.Add(1)
	return l.err
}
