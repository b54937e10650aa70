package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/connectkit/connector/mockapi"
)

// serve starts a server running steps in order (see script), closed when
// the test ends.
func serve(t *testing.T, steps ...http.HandlerFunc) (*httptest.Server, *script) {
	t.Helper()
	sc := &script{steps: steps}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	return srv, sc
}

func TestRetryThenSuccess(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504, 429, 599} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			fail := reply(status, `{"error":"try again"}`)
			srv, sc := serve(t, fail, fail, ok)
			c, sl, logs := testClient(srv.Client())
			var got item
			resp, err := c.GetJSON(context.Background(), srv.URL+"/items/7", &got)
			if err != nil {
				t.Fatalf("GetJSON(%d, %d, 200) = %v, want success", status, status, err)
			}
			if got != (item{7, "ok"}) || resp.StatusCode != 200 {
				t.Errorf("GetJSON(%d, %d, 200) = %d %+v, want 200 {7 ok}", status, status, resp.StatusCode, got)
			}
			if sc.hits() != 3 || len(sl.recorded()) != 2 {
				t.Errorf("GetJSON(%d, %d, 200) made %d requests and %d waits, want 3 and 2", status, status, sc.hits(), len(sl.recorded()))
			}
			if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
				t.Errorf("GetJSON(%d, %d, 200) logged %d warnings, want 2:\n%s", status, status, n, logs)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	date := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	httpDate := func(d time.Duration) string { return date.Add(d).Format(http.TimeFormat) }
	const backoffMax = 10 * time.Millisecond // testClient's Retry.Max
	tests := []struct {
		name          string
		status        int
		headers       []string
		maxRetryAfter time.Duration
		lo, hi        time.Duration // bounds of the recorded wait
	}{
		{"seconds", 429, []string{"Retry-After", "7"}, 0, 7 * time.Second, 7 * time.Second},
		{"seconds on a 503", 503, []string{"Retry-After", " 2 "}, 0, 2 * time.Second, 2 * time.Second},
		{"HTTP-date relative to Date", 429, []string{"Date", httpDate(0), "Retry-After", httpDate(9 * time.Second)}, 0, 9 * time.Second, 9 * time.Second},
		{"HTTP-date relative to the local clock without Date", 429, []string{"Date", "", "Retry-After", httpDate(11 * time.Second)}, 0, 11 * time.Second, 11 * time.Second},
		{"seconds over the cap", 429, []string{"Retry-After", "3600"}, 5 * time.Second, 5 * time.Second, 5 * time.Second},
		{"seconds beyond any duration", 429, []string{"Retry-After", "99999999999999999999999"}, 0, DefaultMaxRetryAfter, DefaultMaxRetryAfter},
		{"HTTP-date over the cap", 429, []string{"Date", httpDate(0), "Retry-After", httpDate(time.Hour)}, 0, DefaultMaxRetryAfter, DefaultMaxRetryAfter},
		{"HTTP-date in the past: backoff only", 429, []string{"Date", httpDate(0), "Retry-After", httpDate(-time.Minute)}, 0, 0, backoffMax},
		{"invalid value: backoff only", 429, []string{"Retry-After", "soon"}, 0, 0, backoffMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fail := func(w http.ResponseWriter, r *http.Request) {
				for i := 0; i+1 < len(tt.headers); i += 2 {
					if tt.headers[i+1] == "" {
						w.Header()[tt.headers[i]] = nil // suppress the automatic Date
						continue
					}
					w.Header().Set(tt.headers[i], tt.headers[i+1])
				}
				w.WriteHeader(tt.status)
			}
			srv, sc := serve(t, fail, ok)
			c, sl, _ := testClient(srv.Client())
			c.Retry.MaxRetryAfter = tt.maxRetryAfter
			c.now = func() time.Time { return date }
			if _, err := c.Get(context.Background(), srv.URL); err != nil {
				t.Fatalf("Get(%v) = %v, want success", tt.headers, err)
			}
			waits := sl.recorded()
			if len(waits) != 1 || sc.hits() != 2 {
				t.Fatalf("Get(%v) waited %v over %d requests, want one wait and 2 requests", tt.headers, waits, sc.hits())
			}
			if w := waits[0]; w < tt.lo || w > tt.hi {
				t.Errorf("Get(%v) waited %v, want %v to %v", tt.headers, w, tt.lo, tt.hi)
			}
		})
	}
}

// mockapi announces Retry-After in both forms, with a Date header of its
// own clock.
func TestRetryAfterMockAPI(t *testing.T) {
	for _, asDate := range []bool{false, true} {
		t.Run(fmt.Sprintf("date=%t", asDate), func(t *testing.T) {
			faults := mockapi.Faults{RateLimitRate: 1, RetryAfter: 3 * time.Second, RetryAfterDate: asDate}
			srv := mockapi.NewServer(mockapi.Options{Users: 10, Faults: faults})
			defer srv.Close()
			c, sl, _ := testClient(srv.Client())
			sl.hook = func(ctx context.Context, _ int, _ time.Duration) error {
				srv.SetFaults(mockapi.Faults{}) // the next attempt succeeds
				return ctx.Err()
			}
			var page mockapi.OffsetResponse
			if _, err := c.GetJSON(context.Background(), srv.URL+mockapi.PathOffset, &page); err != nil {
				t.Fatalf("GetJSON(%+v) = %v, want success", faults, err)
			}
			waits := sl.recorded()
			// The date form is rounded up to a second and the Date header
			// down to one, so it may announce up to a second more.
			if len(waits) != 1 || waits[0] < 3*time.Second || waits[0] > 4*time.Second {
				t.Errorf("GetJSON(%+v) waited %v, want one wait of 3s to 4s", faults, waits)
			}
			if len(page.Data) != 10 || srv.Requests() != 2 {
				t.Errorf("GetJSON(%+v) = %d users in %d requests, want 10 in 2", faults, len(page.Data), srv.Requests())
			}
		})
	}
}

func TestNoRetry(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int  // for a *StatusError
		wantType   bool // for a *DecodeError wrapping a *json.UnmarshalTypeError
	}{
		{"400", reply(400, `{"error":"bad limit"}`), 400, false},
		{"401", reply(401, `{"error":"who are you"}`), 401, false},
		{"403", reply(403, `{"error":"no"}`), 403, false},
		{"404", reply(404, `{"error":"no such thing"}`), 404, false},
		{"409", reply(409, ``), 409, false},
		{"422", reply(422, `{}`), 422, false},
		{"304", reply(304, ``), 304, false},
		{"JSON type error", reply(200, `{"id":"seven","name":"x"}`), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sc := serve(t, tt.handler, ok)
			c, sl, logs := testClient(srv.Client())
			var got item
			resp, err := c.GetJSON(context.Background(), srv.URL, &got)
			if err == nil || resp != nil {
				t.Fatalf("GetJSON(%s) = %v, %v; want no response and an error", tt.name, resp, err)
			}
			if sc.hits() != 1 || len(sl.recorded()) != 0 || logs.String() != "" {
				t.Errorf("GetJSON(%s) made %d requests and %d waits, logged %q; want 1, 0 and nothing", tt.name, sc.hits(), len(sl.recorded()), logs)
			}
			if errors.Is(err, ErrRetriesExhausted) {
				t.Errorf("GetJSON(%s) = %v, want no ErrRetriesExhausted", tt.name, err)
			}
			var se *StatusError
			if got := errors.As(err, &se); got != (tt.wantStatus != 0) || (got && (se.StatusCode != tt.wantStatus || se.Attempts != 1)) {
				t.Errorf("GetJSON(%s) = %v; want a *StatusError %t with status %d on attempt 1", tt.name, err, tt.wantStatus != 0, tt.wantStatus)
			}
			var de *DecodeError
			var te *json.UnmarshalTypeError
			if errors.As(err, &de) != tt.wantType || errors.As(err, &te) != tt.wantType {
				t.Errorf("GetJSON(%s) = %v; want a *DecodeError and *json.UnmarshalTypeError %t", tt.name, err, tt.wantType)
			}
			if errors.Is(err, ErrMalformed) {
				t.Errorf("GetJSON(%s) = %v; want no ErrMalformed", tt.name, err)
			}
		})
	}
}

func TestMalformedRetried(t *testing.T) {
	tests := []struct{ name, body string }{
		{"truncated", `{"id":7,"na`},
		{"trailing garbage", `{"id":1,"name":"x"} <html>`},
		{"two values", `{"id":1} {"id":2}`},
		{"empty", ``},
		{"HTML", `<html><body>Bad gateway</body></html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sc := serve(t, reply(200, tt.body), ok)
			c, sl, _ := testClient(srv.Client())
			got := map[string]any{"kept": true}
			if _, err := c.GetJSON(context.Background(), srv.URL, &got); err != nil {
				t.Fatalf("GetJSON(%q, then valid) = %v, want success", tt.body, err)
			}
			// A malformed body must leave nothing behind for the retry to
			// merge with.
			want := map[string]any{"kept": true, "id": 7.0, "name": "ok"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("GetJSON(%q, then valid) = %v, want %v", tt.body, got, want)
			}
			if sc.hits() != 2 || len(sl.recorded()) != 1 {
				t.Errorf("GetJSON(%q, then valid) made %d requests and %d waits, want 2 and 1", tt.body, sc.hits(), len(sl.recorded()))
			}
		})
	}
}

func TestMalformedMockAPI(t *testing.T) {
	faults := mockapi.Faults{MalformedRequests: []int{1}}
	srv := mockapi.NewServer(mockapi.Options{Users: 20, Faults: faults})
	defer srv.Close()
	c, _, _ := testClient(srv.Client())
	var page mockapi.OffsetResponse
	if _, err := c.GetJSON(context.Background(), srv.URL+mockapi.PathOffset+"?limit=5", &page); err != nil {
		t.Fatalf("GetJSON(%+v) = %v, want success", faults, err)
	}
	if len(page.Data) != 5 || page.Total != 20 || srv.Requests() != 2 {
		t.Errorf("GetJSON(%+v) = %d users of %d in %d requests, want 5 of 20 in 2", faults, len(page.Data), page.Total, srv.Requests())
	}
}

func TestRetriesExhausted(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		handler     http.HandlerFunc
		wantStatus  int
		wantAtt     int
	}{
		{"default policy, 503", 0, reply(503, "down for maintenance"), 503, DefaultMaxAttempts},
		{"3 attempts, 500", 3, reply(500, `{"error":"boom"}`), 500, 3},
		{"no retries, 429", 1, reply(429, ""), 429, 1},
		{"malformed every time", 2, reply(200, `[1,2`), 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sc := serve(t, tt.handler)
			c, sl, _ := testClient(srv.Client())
			c.Retry.MaxAttempts = tt.maxAttempts
			var v []int
			_, err := c.GetJSON(context.Background(), srv.URL, &v)
			if !errors.Is(err, ErrRetriesExhausted) {
				t.Fatalf("GetJSON(%s) = %v, want ErrRetriesExhausted", tt.name, err)
			}
			if sc.hits() != tt.wantAtt || len(sl.recorded()) != tt.wantAtt-1 {
				t.Errorf("GetJSON(%s) made %d requests and %d waits, want %d and %d", tt.name, sc.hits(), len(sl.recorded()), tt.wantAtt, tt.wantAtt-1)
			}
			if want := fmt.Sprintf("attempt %d of %d, retries exhausted: ", tt.wantAtt, tt.wantAtt); !strings.Contains(err.Error(), want) {
				t.Errorf("GetJSON(%s) = %q, want it to contain %q", tt.name, err, want)
			}
			var se *StatusError
			if tt.wantStatus == 0 {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("GetJSON(%s) = %v, want ErrMalformed", tt.name, err)
				}
				return
			}
			if !errors.As(err, &se) || se.StatusCode != tt.wantStatus || se.Attempts != tt.wantAtt {
				t.Errorf("GetJSON(%s) = %v, want a *StatusError %d from attempt %d", tt.name, err, tt.wantStatus, tt.wantAtt)
			}
		})
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	t.Run("reset before the response (mockapi)", func(t *testing.T) {
		srv := mockapi.NewServer(mockapi.Options{Users: 3, Faults: mockapi.Faults{ResetRate: 1}})
		defer srv.Close()
		c, sl, logs := testClient(srv.Client())
		sl.hook = func(ctx context.Context, _ int, _ time.Duration) error {
			srv.SetFaults(mockapi.Faults{})
			return ctx.Err()
		}
		var page mockapi.OffsetResponse
		if _, err := c.GetJSON(context.Background(), srv.URL+mockapi.PathOffset, &page); err != nil {
			t.Fatalf("GetJSON(reset, then ok) = %v, want success", err)
		}
		if len(page.Data) != 3 || srv.Requests() != 2 {
			t.Errorf("GetJSON(reset, then ok) = %d users in %d requests, want 3 in 2", len(page.Data), srv.Requests())
		}
		if !strings.Contains(logs.String(), "attempt=1") {
			t.Errorf("GetJSON(reset, then ok) logged %q, want a retry of attempt 1", logs)
		}
	})

	t.Run("connection closed in the middle of the body", func(t *testing.T) {
		cut := func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("Hijack() = %v", err)
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":7,")
			_ = buf.Flush()
		}
		srv, sc := serve(t, cut, ok)
		c, sl, _ := testClient(srv.Client())
		var got item
		if _, err := c.GetJSON(context.Background(), srv.URL, &got); err != nil || got.ID != 7 {
			t.Fatalf("GetJSON(cut body, then ok) = %+v, %v; want {7 ok}", got, err)
		}
		if sc.hits() != 2 || len(sl.recorded()) != 1 {
			t.Errorf("GetJSON(cut body, then ok) made %d requests and %d waits, want 2 and 1", sc.hits(), len(sl.recorded()))
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		hc := &http.Client{Transport: &http.Transport{}}
		c, sl, _ := testClient(hc)
		c.Retry.MaxAttempts = 3
		_, err = c.Get(context.Background(), "http://"+addr+"/users")
		if !errors.Is(err, ErrRetriesExhausted) || len(sl.recorded()) != 2 {
			t.Errorf("Get(refused) = %v after %d waits, want ErrRetriesExhausted after 2", err, len(sl.recorded()))
		}
		var ne net.Error
		if !errors.As(err, &ne) {
			t.Errorf("Get(refused) = %v, want a net.Error inside", err)
		}
	})
}

func TestAttemptTimeout(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	srv, sc := serve(t, hang, ok)
	c, sl, _ := testClient(srv.Client())
	c.Timeout = 20 * time.Millisecond
	var got item
	if _, err := c.GetJSON(context.Background(), srv.URL, &got); err != nil || got.ID != 7 {
		t.Fatalf("GetJSON(hang, then ok) = %+v, %v; want {7 ok}", got, err)
	}
	if sc.hits() != 2 || len(sl.recorded()) != 1 {
		t.Errorf("GetJSON(hang, then ok) made %d requests and %d waits, want 2 and 1", sc.hits(), len(sl.recorded()))
	}

	// When every attempt times out, the error says so and does not claim
	// that the caller's context expired.
	srv2, _ := serve(t, hang)
	c, _, _ = testClient(srv2.Client())
	c.Timeout = time.Millisecond
	c.Retry.MaxAttempts = 2
	_, err := c.Get(context.Background(), srv2.URL)
	if !errors.Is(err, ErrRetriesExhausted) || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("Get(hang) = %v, want ErrRetriesExhausted, a timeout and no context.DeadlineExceeded", err)
	}
}

func TestContext(t *testing.T) {
	t.Run("cancelled during a backoff wait", func(t *testing.T) {
		srv, sc := serve(t, reply(503, ""))
		c, sl, _ := testClient(srv.Client())
		c.Retry = RetryPolicy{Base: time.Hour, Max: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Cancel, then wait for real: the hour-long wait must end at once.
		sl.hook = func(ctx context.Context, _ int, d time.Duration) error {
			cancel()
			return sleep(ctx, d)
		}
		_, err := c.Get(ctx, srv.URL)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrRetriesExhausted) {
			t.Errorf("Get(cancelled while waiting) = %v, want context.Canceled only", err)
		}
		if sc.hits() != 1 || !strings.Contains(err.Error(), "while waiting") {
			t.Errorf("Get(cancelled while waiting) = %q after %d requests, want 1 request and the wait named", err, sc.hits())
		}
	})

	t.Run("cancelled during an attempt", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		hang := func(w http.ResponseWriter, r *http.Request) {
			cancel()
			<-r.Context().Done()
		}
		srv, sc := serve(t, hang, ok)
		c, sl, _ := testClient(srv.Client())
		_, err := c.Get(ctx, srv.URL)
		if !errors.Is(err, context.Canceled) || sc.hits() != 1 || len(sl.recorded()) != 0 {
			t.Errorf("Get(cancelled in flight) = %v after %d requests, %d waits; want context.Canceled after 1, 0", err, sc.hits(), len(sl.recorded()))
		}
	})

	t.Run("done before the call", func(t *testing.T) {
		srv, sc := serve(t, ok)
		c, _, _ := testClient(srv.Client())
		ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
		defer cancel()
		_, err := c.Get(ctx, srv.URL)
		if !errors.Is(err, context.DeadlineExceeded) || sc.hits() != 0 {
			t.Errorf("Get(expired ctx) = %v after %d requests, want context.DeadlineExceeded after 0", err, sc.hits())
		}
	})

	t.Run("cause kept", func(t *testing.T) {
		srv, _ := serve(t, ok)
		c, _, _ := testClient(srv.Client())
		cause := errors.New("shutting down")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		_, err := c.Get(ctx, srv.URL)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Errorf("Get(cancelled with cause) = %v, want context.Canceled and the cause", err)
		}
	})
}

func TestBodyTooLarge(t *testing.T) {
	chunked := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			half := len(body) / 2
			_, _ = io.WriteString(w, body[:half])
			http.NewResponseController(w).Flush() // no Content-Length from here on
			_, _ = io.WriteString(w, body[half:])
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantErr bool
	}{
		{"Content-Length over", reply(200, strings.Repeat("a", 17)), true},
		{"chunked over", chunked(strings.Repeat("a", 17)), true},
		{"exactly the limit", reply(200, strings.Repeat("a", 16)), false},
		{"chunked at the limit", chunked(strings.Repeat("a", 16)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sc := serve(t, tt.handler)
			c, _, _ := testClient(srv.Client())
			c.MaxBody = 16
			resp, err := c.Get(context.Background(), srv.URL)
			if tt.wantErr {
				if !errors.Is(err, ErrBodyTooLarge) || errors.Is(err, ErrRetriesExhausted) || sc.hits() != 1 {
					t.Errorf("Get(%s) = %v after %d requests, want ErrBodyTooLarge after 1", tt.name, err, sc.hits())
				}
				return
			}
			if err != nil || len(resp.Body) != 16 {
				t.Errorf("Get(%s) = %v, want a body of 16 bytes", tt.name, err)
			}
		})
	}
}

// No error message and no log record may show the api_key of the URL or
// a header value.
func TestRedaction(t *testing.T) {
	const key, token = "s3cr3t-k3y", "t0k3n-v4lue"
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	tests := []struct {
		name    string
		handler http.HandlerFunc
		setup   func(c *Client)
		ctx     func() context.Context
		url     func(srvURL string) string
	}{
		{name: "retries exhausted", handler: reply(503, "down")},
		{name: "404", handler: reply(404, `{"error":"no such thing"}`)},
		{name: "malformed", handler: reply(200, `{"id":`)},
		{name: "type error", handler: reply(200, `{"id":"x"}`)},
		{name: "too large", handler: reply(200, strings.Repeat("x", 64)), setup: func(c *Client) { c.MaxBody = 8 }},
		{name: "timeout", handler: hang, setup: func(c *Client) { c.Timeout = time.Millisecond }},
		{name: "cancelled", handler: ok, ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
		{name: "redirect loop", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.String(), http.StatusFound)
		}},
		{name: "connection refused", url: func(string) string {
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			l.Close()
			return "http://" + l.Addr().String() + "/users?api_key=" + key
		}},
		{name: "invalid URL", url: func(srvURL string) string { return srvURL + "/%zz?api_key=" + key }},
		{name: "not http", url: func(string) string { return "ftp://user:" + key + "@host/x?api_key=" + key }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.handler
			if h == nil {
				h = ok
			}
			srv, _ := serve(t, h)
			c, _, logs := testClient(srv.Client())
			c.Retry.MaxAttempts = 2
			c.Header = http.Header{"Authorization": {"Bearer " + token}, "X-Api-Key": {key}}
			if tt.setup != nil {
				tt.setup(c)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			u := srv.URL + "/users?limit=10&api_key=" + key
			if tt.url != nil {
				u = tt.url(srv.URL)
			}
			var got item
			_, err := c.GetJSON(ctx, u, &got)
			if err == nil {
				t.Fatalf("GetJSON(%s) = nil error, want one", tt.name)
			}
			t.Logf("error: %v", err)
			for what, text := range map[string]string{"error": err.Error(), "log": logs.String()} {
				if strings.Contains(text, key) || strings.Contains(text, token) {
					t.Errorf("GetJSON(%s): %s %q shows a secret", tt.name, what, text)
				}
			}
			if !strings.HasPrefix(err.Error(), "rest: GET ") {
				t.Errorf("GetJSON(%s) = %q, want it to start with %q", tt.name, err, "rest: GET ")
			}
		})
	}
}

func TestLogs(t *testing.T) {
	srv, _ := serve(t, reply(503, "busy"), reply(500, "oops"), ok)
	c, _, logs := testClient(srv.Client())
	c.Header = http.Header{"Authorization": {"Bearer hunter2"}}
	if _, err := c.Get(context.Background(), srv.URL+"/users?api_key=hunter3&limit=5"); err != nil {
		t.Fatalf("Get(503, 500, 200) = %v, want success", err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("Get(503, 500, 200) logged %d records, want 2:\n%s", len(lines), logs)
	}
	for i, want := range [][]string{
		{"level=WARN", "attempt=1", "max_attempts=5", "status=503", "wait=", "api_key=REDACTED", "busy"},
		{"level=WARN", "attempt=2", "status=500", "wait=", "oops"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("log record %d = %q, want it to contain %q", i+1, lines[i], w)
			}
		}
		if strings.Contains(lines[i], "hunter") {
			t.Errorf("log record %d = %q shows a secret", i+1, lines[i])
		}
	}
}

func TestLimiter(t *testing.T) {
	srv, sc := serve(t, reply(503, ""), reply(429, ""), ok)
	c, _, _ := testClient(srv.Client())
	lim := &countingLimiter{}
	c.Limiter = lim
	if _, err := c.Get(context.Background(), srv.URL); err != nil {
		t.Fatalf("Get(503, 429, 200) = %v, want success", err)
	}
	if lim.n.Load() != 3 || sc.hits() != 3 {
		t.Errorf("Get(503, 429, 200) waited on the limiter %d times for %d requests, want 3 and 3", lim.n.Load(), sc.hits())
	}

	// A limiter that refuses stops the call before any request.
	refusing := &countingLimiter{err: errors.New("rate: Wait(n=1) would exceed context deadline")}
	c.Limiter = refusing
	_, err := c.Get(context.Background(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "rate limiter") || sc.hits() != 3 {
		t.Errorf("Get(refusing limiter) = %v after %d requests, want a rate limiter error and no request", err, sc.hits()-3)
	}
}

func TestRateLimit(t *testing.T) {
	tests := []struct {
		perSecond float64
		burst     int
		wantLimit rate.Limit
		wantBurst int
	}{
		{10, 5, 10, 5},
		{0.5, 0, 0.5, 1},
		{0, 3, rate.Inf, 3},
		{-1, 1, rate.Inf, 1},
	}
	for _, tt := range tests {
		l := RateLimit(tt.perSecond, tt.burst)
		if l.Limit() != tt.wantLimit || l.Burst() != tt.wantBurst {
			t.Errorf("RateLimit(%v, %d) = limit %v burst %d, want %v and %d", tt.perSecond, tt.burst, l.Limit(), l.Burst(), tt.wantLimit, tt.wantBurst)
		}
		if err := l.Wait(context.Background()); err != nil {
			t.Errorf("RateLimit(%v, %d).Wait() = %v, want nil", tt.perSecond, tt.burst, err)
		}
	}
	var _ Limiter = RateLimit(1, 1)
}

func TestHeaders(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	record := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		ok(w, r)
	}
	srv, _ := serve(t, reply(503, ""), record)
	c, _, _ := testClient(srv.Client())
	c.Header = http.Header{"authorization": {"Bearer x"}, "X-Trace": {"a", "b"}}
	c.UserAgent = "connector-test/1"
	var v item
	if _, err := c.GetJSON(context.Background(), srv.URL, &v); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	c.Header.Set("Accept", "application/vnd.api+json")
	if _, err := c.GetJSON(context.Background(), srv.URL, &v); err != nil {
		t.Fatal(err)
	}
	want := []struct{ accept string }{{"application/json"}, {""}, {"application/vnd.api+json"}}
	for i, h := range got {
		if h.Get("Authorization") != "Bearer x" || strings.Join(h.Values("X-Trace"), ",") != "a,b" || h.Get("User-Agent") != "connector-test/1" || h.Get("Accept") != want[i].accept {
			t.Errorf("request %d headers = %v, want Authorization, X-Trace a,b, User-Agent and Accept %q", i+1, h, want[i].accept)
		}
	}
	if len(c.Header) != 3 || c.Header.Get("User-Agent") != "" {
		t.Errorf("Client.Header = %v after use, want it unchanged", c.Header)
	}
}

func TestResponse(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/v2/items?page=2", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/v2/items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<?page=3>; rel="next"`)
		ok(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, _, _ := testClient(srv.Client())
	var v item
	resp, err := c.GetJSON(context.Background(), srv.URL+"/old", &v)
	if err != nil {
		t.Fatal(err)
	}
	next, err := NextLink(resp.Header, resp.URL)
	if want := srv.URL + "/v2/items?page=3"; err != nil || next != want {
		t.Errorf("NextLink(GetJSON(/old)) = %q, %v; want %q", next, err, want)
	}
	if string(resp.Body) != `{"id":7,"name":"ok"}` || resp.StatusCode != 200 || v.Name != "ok" {
		t.Errorf("GetJSON(/old) = %d %q %+v, want 200 and the body", resp.StatusCode, resp.Body, v)
	}

	// 204: no body to decode, no error.
	srv2, _ := serve(t, reply(http.StatusNoContent, ""))
	v = item{ID: 1}
	if resp, err := c.GetJSON(context.Background(), srv2.URL, &v); err != nil || resp.StatusCode != 204 || v.ID != 1 {
		t.Errorf("GetJSON(204) = %v, %v, v %+v; want 204, no error and v untouched", resp, err, v)
	}
}

func TestBadInput(t *testing.T) {
	srv, sc := serve(t, ok)
	c, _, _ := testClient(srv.Client())
	var v item
	tests := []struct {
		name string
		url  string
		v    any
	}{
		{"empty URL", "", &v},
		{"unparsable", "http://x/%zz", &v},
		{"relative", "/users", &v},
		{"no host", "http://", &v},
		{"not http", "ftp://example.com/x", &v},
		{"nil target", srv.URL, nil},
		{"non-pointer target", srv.URL, v},
		{"nil pointer target", srv.URL, (*item)(nil)},
	}
	for _, tt := range tests {
		if _, err := c.GetJSON(context.Background(), tt.url, tt.v); err == nil {
			t.Errorf("GetJSON(%s) = nil error, want one", tt.name)
		}
	}
	if sc.hits() != 0 {
		t.Errorf("bad input made %d requests, want 0", sc.hits())
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name  string
		steps []http.HandlerFunc
		want  string // with URL for the server URL
	}{
		{"404", []http.HandlerFunc{reply(404, "\n {\"error\":\"no such thing\"}\n")},
			`rest: GET URL/users?api_key=REDACTED: 404 Not Found: {"error":"no such thing"}`},
		{"404 after a 503", []http.HandlerFunc{reply(503, ""), reply(404, "gone")},
			`rest: GET URL/users?api_key=REDACTED: attempt 2 of 3: 404 Not Found: gone`},
		{"exhausted", []http.HandlerFunc{reply(503, "down")},
			`rest: GET URL/users?api_key=REDACTED: attempt 3 of 3, retries exhausted: 503 Service Unavailable: down`},
		{"unknown status", []http.HandlerFunc{reply(499, "")},
			`rest: GET URL/users?api_key=REDACTED: 499`},
		{"malformed", []http.HandlerFunc{reply(200, `[1,2`)},
			`rest: GET URL/users?api_key=REDACTED: attempt 3 of 3, retries exhausted: decoding JSON body: unexpected end of JSON input near "[1,2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, tt.steps...)
			c, _, _ := testClient(srv.Client())
			c.Retry.MaxAttempts = 3
			var v any
			_, err := c.GetJSON(context.Background(), srv.URL+"/users?api_key=k", &v)
			if got := strings.ReplaceAll(fmt.Sprint(err), srv.URL, "URL"); got != tt.want {
				t.Errorf("GetJSON(%s) error = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	defer goleak.VerifyNone(t)
	const users, pages, workers = 200, 8, 8
	srv := mockapi.NewServer(mockapi.Options{Users: users, Faults: mockapi.Faults{ErrorRate: 0.2, MalformedRate: 0.1}})
	defer srv.Close()
	c, _, _ := testClient(srv.Client())
	c.Retry.MaxAttempts = 20
	c.Limiter = RateLimit(0, 1)
	var wg sync.WaitGroup
	errs := make(chan error, workers*pages)
	for w := range workers {
		wg.Go(func() {
			for p := range pages {
				off := (w*pages + p) % (users / 25) * 25
				var page mockapi.OffsetResponse
				if _, err := c.GetJSON(context.Background(), fmt.Sprintf("%s%s?offset=%d&limit=25", srv.URL, mockapi.PathOffset, off), &page); err != nil {
					errs <- err
					continue
				}
				if len(page.Data) != 25 || page.Offset != off {
					errs <- fmt.Errorf("offset %d: got %d users at offset %d", off, len(page.Data), page.Offset)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent GetJSON: %v", err)
	}
}

func TestZeroClient(t *testing.T) {
	t.Cleanup(sharedHTTP().CloseIdleConnections)
	srv, _ := serve(t, ok)
	var c Client
	var v item
	if _, err := c.GetJSON(context.Background(), srv.URL, &v); err != nil || v.ID != 7 {
		t.Fatalf("Client{}.GetJSON() = %+v, %v; want {7 ok}", v, err)
	}
	s := c.settings()
	if s.attempts != 5 || s.base != 250*time.Millisecond || s.maxBackoff != 30*time.Second || s.maxRetryWait != 2*time.Minute ||
		s.timeout != 30*time.Second || s.maxBody != 32<<20 || s.logger != slog.Default() {
		t.Errorf("Client{}.settings() = %+v, want the documented defaults", s)
	}
	tr, isTransport := s.http.Transport.(*http.Transport)
	if !isTransport || tr.MaxIdleConnsPerHost < 16 || s.http.Timeout != 0 {
		t.Errorf("shared client = %+v, want a Transport with MaxIdleConnsPerHost >= 16 and no Timeout", s.http)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		base, max time.Duration
		attempt   int
		ceiling   time.Duration
	}{
		{time.Millisecond, time.Second, 1, time.Millisecond},
		{time.Millisecond, time.Second, 2, 2 * time.Millisecond},
		{time.Millisecond, time.Second, 5, 16 * time.Millisecond},
		{time.Millisecond, time.Second, 11, time.Second},
		{time.Millisecond, time.Second, 1000, time.Second},
		{time.Minute, time.Second, 1, time.Second},
		{maxDuration / 3, maxDuration, 10, maxDuration},
		{1, 1, 3, 1},
	}
	for _, tt := range tests {
		var top time.Duration
		for range 200 {
			d := backoff(tt.base, tt.max, tt.attempt)
			if d < 0 || d >= tt.ceiling && tt.ceiling > 1 || tt.ceiling == 1 && d != 0 {
				t.Fatalf("backoff(%v, %v, %d) = %v, want [0, %v)", tt.base, tt.max, tt.attempt, d, tt.ceiling)
			}
			top = max(top, d)
		}
		// 200 draws all in the lower half would mean the ceiling is wrong.
		if tt.ceiling > 1 && top < tt.ceiling/2 {
			t.Errorf("backoff(%v, %v, %d) stayed below %v in 200 draws, want up to %v", tt.base, tt.max, tt.attempt, top, tt.ceiling)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value, date string
		want        time.Duration
		ok          bool
	}{
		{"120", "", 2 * time.Minute, true},
		{" 0 ", "", 0, true},
		{"99999999999999999999", "", maxDuration, true},
		{"9223372036", "", 9223372036 * time.Second, true},
		{"9223372037", "", maxDuration, true},
		{"-5", "", 0, false},
		{"1.5", "", 0, false},
		{"", "", 0, false},
		{"soon", "", 0, false},
		{"Sat, 01 Mar 2025 12:00:30 GMT", "", 30 * time.Second, true},
		{"Sat, 01 Mar 2025 12:00:30 GMT", "Sat, 01 Mar 2025 12:00:20 GMT", 10 * time.Second, true},
		{"Sat, 01 Mar 2025 12:00:30 GMT", "not a date", 30 * time.Second, true},
		{"Saturday, 01-Mar-25 12:01:00 GMT", "", time.Minute, true}, // RFC 850
		{"Sat Mar  1 12:00:05 2025", "", 5 * time.Second, true},     // ANSI C
		{"Sat, 01 Mar 2025 11:00:00 GMT", "", 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.value, tt.date, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q, %q) = %v, %t; want %v, %t", tt.value, tt.date, got, ok, tt.want, tt.ok)
		}
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("é", 600) // 2 bytes a rune
	tests := []struct {
		name   string
		body   string
		offset int64
		n      int
		want   string
	}{
		{"trimmed", "\n  {\"error\":\"x\"}\r\n", 0, 512, `{"error":"x"}`},
		{"cut at a rune boundary", long, 0, 511, strings.Repeat("é", 255)},
		{"invalid UTF-8 replaced", "ab\xffcd", 0, 512, "ab\uFFFDcd"},
		{"around an offset", "0123456789abcdefghij", 10, 4, "89ab"},
		{"offset past the end", "0123", 99, 4, ""},
		{"empty", "", 0, 512, ""},
	}
	for _, tt := range tests {
		got := excerpt([]byte(tt.body), tt.offset, tt.n)
		if got != tt.want || !utf8.ValidString(got) || len(got) > tt.n+2 {
			t.Errorf("excerpt(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDecodeError(t *testing.T) {
	var syn *json.SyntaxError
	err := json.Unmarshal([]byte(`{`), new(any))
	if !errors.As(err, &syn) {
		t.Fatalf("json.Unmarshal({) = %v, want a *json.SyntaxError", err)
	}
	tests := []struct {
		err           *DecodeError
		wantMalformed bool
	}{
		{&DecodeError{URL: "u", Err: syn}, true},
		{&DecodeError{URL: "u", Err: io.ErrUnexpectedEOF}, true},
		{&DecodeError{URL: "u", Err: &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeFor[int]()}}, false},
		{&DecodeError{URL: "u"}, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, ErrMalformed); got != tt.wantMalformed {
			t.Errorf("errors.Is(%v, ErrMalformed) = %t, want %t", tt.err, got, tt.wantMalformed)
		}
		if !strings.HasPrefix(tt.err.Error(), "rest: GET u: decoding JSON body") {
			t.Errorf("DecodeError.Error() = %q, want the request and what failed", tt.err.Error())
		}
	}
}
