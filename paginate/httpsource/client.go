package httpsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/connectkit/connector/internal/redact"
)

// Defaults used for the zero fields of [Client] and [RetryPolicy].
const (
	DefaultMaxAttempts   = 5
	DefaultBase          = 250 * time.Millisecond
	DefaultMax           = 30 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
	DefaultTimeout       = 30 * time.Second
	DefaultMaxBody       = 32 << 20 // 32 MiB
)

// errorBodyLimit is how much of a non-2xx body is read: enough for any
// error message, little enough that a huge error page costs nothing.
const errorBodyLimit = 64 << 10

// RetryPolicy says how often and how long a [Client] retries. The zero value
// means the defaults.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included.
	// Zero or negative means DefaultMaxAttempts (5); 1 disables retries.
	MaxAttempts int

	// Base is the backoff ceiling of the first retry; it doubles with each
	// retry up to Max. Zero or negative means DefaultBase (250ms).
	Base time.Duration

	// Max caps the backoff ceiling. Zero or negative means DefaultMax
	// (30s).
	Max time.Duration

	// MaxRetryAfter caps the delay a Retry-After header may impose: a
	// longer one is cut to MaxRetryAfter. Zero or negative means
	// DefaultMaxRetryAfter (2m).
	MaxRetryAfter time.Duration
}

// Limiter paces requests. *rate.Limiter from golang.org/x/time/rate
// satisfies it; see [RateLimit].
type Limiter interface {
	// Wait blocks until a request may be sent, or returns an error when
	// ctx ends first (or would end before the wait is over).
	Wait(ctx context.Context) error
}

// RateLimit returns a limiter that allows perSecond requests per second on
// average and bursts of up to burst requests, for [Client.Limiter]. It is
// rate.NewLimiter(rate.Limit(perSecond), burst), except that a perSecond
// that is not positive means no limit and a burst below 1 means 1 (a
// rate.Limiter with a burst of 0 refuses every wait).
func RateLimit(perSecond float64, burst int) *rate.Limiter {
	limit := rate.Limit(perSecond)
	if !(perSecond > 0) { // also NaN
		limit = rate.Inf
	}
	return rate.NewLimiter(limit, max(burst, 1))
}

// Client GETs JSON pages with retries. The zero value is ready to use with
// the defaults documented on each field. A Client is safe for concurrent
// use; its fields must not change once it is in use.
type Client struct {
	// HTTP sends the requests. Nil means a client shared by all Clients
	// whose Transport is a clone of http.DefaultTransport that keeps up to
	// 32 idle connections per host (MaxIdleConnsPerHost), so that
	// concurrent paging reuses its connections. Its Timeout should be zero:
	// Client.Timeout bounds each attempt instead.
	HTTP *http.Client

	// Retry is the retry policy. The zero value means the defaults: 5
	// attempts, backoff from 250ms doubling up to 30s, Retry-After capped
	// at 2m.
	Retry RetryPolicy

	// Timeout bounds each attempt, from sending the request to reading the
	// last byte of the body; an attempt that takes longer is retried. It
	// is applied with a context derived from the caller's, which still
	// bounds the whole call. Zero means DefaultTimeout (30s); negative
	// means no timeout per attempt.
	Timeout time.Duration

	// MaxBody is the largest response body accepted, in bytes. A larger
	// one fails the call with an error wrapping [ErrBodyTooLarge], and is
	// not retried. Zero or negative means DefaultMaxBody (32 MiB).
	MaxBody int64

	// Limiter, when not nil, is waited on before every attempt, retries
	// included. Nil means no limit.
	Limiter Limiter

	// Header is added to every request, for instance Authorization. It is
	// never logged.
	Header http.Header

	// UserAgent, when not empty, is sent as the User-Agent header and
	// replaces one set in Header. Empty means the User-Agent of Header, or
	// Go's default.
	UserAgent string

	// Logger receives one Warn record per retry. Nil means slog.Default().
	Logger *slog.Logger

	// Hooks for tests; nil means the real thing.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

// Response is a successful (2xx) answer, with its body read in full.
type Response struct {
	// StatusCode is the HTTP status, 200 to 299.
	StatusCode int
	// Header holds the response headers, for Link, rate limit headers and
	// the like.
	Header http.Header
	// Body is the whole response body.
	Body []byte
	// URL is the URL of the final request, after redirects: resolve
	// relative links of the response against it, as in
	// paginate.NextLink(resp.Header, resp.URL).
	URL *url.URL
}

// sharedHTTP is the *http.Client of the Clients whose HTTP is nil.
var sharedHTTP = sync.OnceValue(func() *http.Client {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.MaxIdleConns = 128
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
})

// Get GETs rawURL and returns the response once its status is 2xx and its
// body is read, retrying as the package documentation describes. On error
// the Response is nil.
func (c *Client) Get(ctx context.Context, rawURL string) (*Response, error) {
	return c.do(ctx, rawURL, nil)
}

// GetJSON is like [Client.Get] and also decodes the body into v, which must
// be a non-nil pointer. The request asks for JSON (Accept:
// application/json) unless Header sets Accept.
//
// The body must hold exactly one JSON value: a syntax error, a truncated
// value, an empty body and anything but white space after the value are
// malformed, and retried (on a 2xx, they usually mean a proxy or the
// network cut the response). A value that does not fit v is not retried.
// Both fail with a [*DecodeError]. A malformed body leaves v untouched; a
// value that does not fit may leave v partly filled. A 204 No Content or
// 205 Reset Content response leaves v untouched and is no error.
func (c *Client) GetJSON(ctx context.Context, rawURL string, v any) (*Response, error) {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, fmt.Errorf("httpsource: GET %s: GetJSON needs a non-nil pointer to decode into, got %T", safeURL(rawURL), v)
	}
	return c.do(ctx, rawURL, v)
}

// settings are a Client's fields with the defaults applied.
type settings struct {
	http                           *http.Client
	attempts                       int
	base, maxBackoff, maxRetryWait time.Duration
	timeout                        time.Duration
	maxBody                        int64
	logger                         *slog.Logger
	sleep                          func(context.Context, time.Duration) error
	now                            func() time.Time
}

func (c *Client) settings() settings {
	s := settings{
		http:         c.HTTP,
		attempts:     c.Retry.MaxAttempts,
		base:         c.Retry.Base,
		maxBackoff:   c.Retry.Max,
		maxRetryWait: c.Retry.MaxRetryAfter,
		timeout:      c.Timeout,
		maxBody:      c.MaxBody,
		logger:       c.Logger,
		sleep:        c.sleep,
		now:          c.now,
	}
	if s.http == nil {
		s.http = sharedHTTP()
	}
	if s.attempts <= 0 {
		s.attempts = DefaultMaxAttempts
	}
	if s.base <= 0 {
		s.base = DefaultBase
	}
	if s.maxBackoff <= 0 {
		s.maxBackoff = DefaultMax
	}
	if s.maxRetryWait <= 0 {
		s.maxRetryWait = DefaultMaxRetryAfter
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.sleep == nil {
		s.sleep = sleep
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// safeURL returns rawURL with its secrets redacted, or a placeholder when
// it does not parse (redact.URL would return it unchanged, secrets and all).
func safeURL(rawURL string) string {
	if _, err := url.Parse(rawURL); err != nil {
		return "<invalid URL>"
	}
	return redact.URL(rawURL)
}

// do runs the attempts of one GET; v is nil for Get.
func (c *Client) do(ctx context.Context, rawURL string, v any) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The *url.Error would repeat the URL, secrets and all.
		return nil, fmt.Errorf("httpsource: GET <invalid URL>: %w", stripURL(err))
	}
	safe := redact.URL(rawURL)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("httpsource: GET %s: not an absolute http or https URL", safe)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("httpsource: GET %s: %w", safe, stripURL(err))
	}
	req.Header = make(http.Header, len(c.Header)+2)
	for k, vs := range c.Header {
		req.Header[http.CanonicalHeaderKey(k)] = append(req.Header[http.CanonicalHeaderKey(k)], vs...)
	}
	if v != nil && req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}

	s := c.settings()
	fail := func(attempt int, exhausted bool, err error) (*Response, error) {
		return nil, &attemptError{url: safe, attempt: attempt, max: s.attempts, exhausted: exhausted, err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(1, false, ctxError(ctx))
	}
	for attempt := 1; ; attempt++ {
		if c.Limiter != nil {
			if err := c.Limiter.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					err = ctxError(ctx)
				}
				return fail(attempt, false, fmt.Errorf("waiting for the rate limiter: %w", err))
			}
		}
		res, out := c.attempt(ctx, req, safe, attempt, &s, v)
		if out.err == nil {
			return res, nil
		}
		if !out.retry || attempt >= s.attempts {
			return fail(attempt, out.retry, out.err)
		}
		wait := max(backoff(s.base, s.maxBackoff, attempt), out.retryAfter)
		attrs := []slog.Attr{
			slog.String("method", http.MethodGet),
			slog.String("url", safe),
			slog.Int("attempt", attempt),
			slog.Int("max_attempts", s.attempts),
		}
		if se, ok := out.err.(*StatusError); ok {
			attrs = append(attrs, slog.Int("status", se.StatusCode))
		}
		attrs = append(attrs, slog.String("error", short(out.err)), slog.Duration("wait", wait))
		s.logger.LogAttrs(ctx, slog.LevelWarn, "httpsource: retrying request", attrs...)
		if err := s.sleep(ctx, wait); err != nil {
			if ctx.Err() != nil {
				err = ctxError(ctx)
			}
			return fail(attempt, false, fmt.Errorf("%w while waiting %v to retry (last error: %s)", err, wait, short(out.err)))
		}
	}
}

// outcome is how an attempt failed.
type outcome struct {
	err        error         // nil on success
	retry      bool          // whether err is worth another attempt
	retryAfter time.Duration // the capped Retry-After of a retryable status
}

// attempt makes one request and reads and decodes its answer.
func (c *Client) attempt(ctx context.Context, req *http.Request, safe string, attempt int, s *settings, v any) (*Response, outcome) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if s.timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, s.timeout)
	}
	defer cancel()

	resp, err := s.http.Do(req.WithContext(actx))
	if err != nil {
		return nil, transportOutcome(ctx, actx, s.timeout, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Best effort: the status is the error, the body only explains it.
		// Reading a little more than the excerpt lets a short error body
		// end in EOF, which keeps the connection for the next attempt.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		se := &StatusError{
			StatusCode: resp.StatusCode,
			Method:     http.MethodGet,
			URL:        safe,
			Body:       excerpt(body, 0, statusBodyLen),
			Attempts:   attempt,
		}
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), resp.Header.Get("Date"), s.now()); ok {
			se.RetryAfter = min(d, s.maxRetryWait)
		}
		out := outcome{err: se, retry: retryableStatus(resp.StatusCode)}
		if out.retry {
			out.retryAfter = se.RetryAfter
		}
		return nil, out
	}

	body, err := readBody(resp.Body, resp.ContentLength, s.maxBody)
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			return nil, outcome{err: err}
		}
		out := transportOutcome(ctx, actx, s.timeout, err)
		out.err = fmt.Errorf("reading the body of a %d response: %w", resp.StatusCode, out.err)
		return nil, out
	}
	if v != nil && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusResetContent {
		// json.Unmarshal checks the whole input, trailing bytes included,
		// before it stores anything, so a malformed body leaves v as it
		// was for the next attempt.
		if err := json.Unmarshal(body, v); err != nil {
			de := &DecodeError{URL: safe, Err: err, Excerpt: excerpt(body, errorOffset(err), decodeExcerptLen)}
			return nil, outcome{err: de, retry: isSyntaxError(err)}
		}
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body, URL: resp.Request.URL}, outcome{}
}

// retryableStatus reports whether a final status is worth another attempt.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || (code >= 500 && code <= 599)
}

// backoff returns the full-jitter wait after the given (1-based) attempt:
// a random duration in [0, min(maxWait, base·2^(attempt-1))).
func backoff(base, maxWait time.Duration, attempt int) time.Duration {
	ceiling := min(base, maxWait)
	for i := 1; i < attempt && ceiling < maxWait; i++ {
		if ceiling > maxWait/2 {
			ceiling = maxWait
			break
		}
		ceiling *= 2
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling)))
}

// sleep waits for d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ctxError returns the error of a done ctx, with its cause when it has
// another one, so that errors.Is(err, context.Canceled) holds either way.
func ctxError(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}

// stripURL unwraps a *url.Error, whose message repeats the URL unredacted.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
