package rest

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
	"slices"
	"strings"
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
	DefaultMaxItems      = 100_000
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
	// HTTP sends the requests; its CheckRedirect, when nil, is replaced by
	// the Client's redirect policy (no credentials to another origin, no
	// loops, at most 10 redirects). Nil means a client shared by all Clients
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

	// MaxItems is the largest number of records a page decoded by a
	// [Source] may hold: a larger page fails with an error wrapping
	// [ErrTooManyItems], and is not retried. It bounds memory by item
	// count as MaxBody does by bytes (a 32 MiB body of {} items would
	// otherwise make 11 million). Zero or negative means
	// DefaultMaxItems (100,000).
	MaxItems int

	// BaseURL is the API's base URL, such as "https://api.example.com".
	// A relative URL given to Get or GetJSON is resolved against it, and
	// Auth and Header are sent only to its origin (scheme, host and
	// port) and to AllowHosts. Empty means: to the origin of the URL each
	// call is given, and never further (not to a redirect elsewhere).
	BaseURL string

	// Auth adds credentials to each request to a trusted origin (see
	// BaseURL). Nil means none.
	Auth Auth

	// AllowHosts lists more origins ("https://uploads.example.com") or
	// hosts ("uploads.example.com:8443") that may receive Auth and
	// Header, for APIs whose next URLs or redirects name another host.
	AllowHosts []string

	// Header is added to every request to a trusted origin (see BaseURL),
	// for instance Accept or a version header; it may hold credentials,
	// and is never logged.
	Header http.Header

	// Classify, when not nil, decides what an answer means after the
	// defaults did: it gets the answer and the default [Decision] and
	// returns the one to apply. Use it for APIs that report errors in
	// 200 bodies (Slack's {"ok":false}), retry other statuses, or accept
	// a status the defaults refuse.
	Classify func(r Reply, d Decision) Decision

	// UserAgent, when not empty, is sent as the User-Agent header and
	// replaces one set in Header. Empty means the User-Agent of Header, or
	// Go's default.
	UserAgent string

	// Logger receives one Warn record per retry. Nil means slog.Default().
	Logger *slog.Logger

	// Hooks for tests; nil means the real thing.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time

	pace pacer
}

// Reply is what [Client.Classify] sees of an answer. Body must not be
// kept or changed.
type Reply struct {
	// Attempt is the 1-based number of the attempt.
	Attempt int
	// StatusCode and Header are the answer's.
	StatusCode int
	Header     http.Header
	// Body is the whole body of a 2xx answer, and the first 64 KiB of
	// any other.
	Body []byte
}

// Decision says what an answer means.
type Decision struct {
	// Err, when not nil, fails the attempt; nil accepts the answer, whose
	// body is then decoded. By default it is a [*StatusError] for a
	// status outside 2xx.
	Err error
	// Retry says whether the failure is worth another attempt.
	Retry bool
	// Wait is the least time to wait before that attempt (Retry-After or
	// a rate-limit reset), capped by RetryPolicy.MaxRetryAfter; the
	// backoff applies when it is longer.
	Wait time.Duration
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
	// URL is the URL of the final request, after redirects, without the
	// credentials of an [APIKeyQuery]: resolve relative links of the
	// response against it, as in NextLink(resp.Header, resp.URL).
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
	return &http.Client{Transport: t, CheckRedirect: checkRedirect}
})

// maxRedirects is how many redirects one attempt follows.
const maxRedirects = 10

// errRedirect reports a redirect that is not followed: a loop, or too
// many. It is not retried: the same request would get the same answers.
type errRedirect struct{ msg string }

func (e *errRedirect) Error() string { return e.msg }

// checkRedirect is the redirect policy of every Client: at most 10
// redirects, none back to a URL already visited, and no credentials to
// an origin the call does not trust. Go itself drops Authorization and
// Cookie only for another domain, not for another port, and copies every
// other header, API keys included.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &errRedirect{fmt.Sprintf("stopped after %d redirects", maxRedirects)}
	}
	for _, v := range via {
		if v.URL.String() == req.URL.String() {
			return &errRedirect{"redirect loop back to " + safeURL(req.URL.String())}
		}
	}
	sc, _ := req.Context().Value(scopeKey{}).(*scope)
	if sc == nil || !sc.trusts(req.URL) {
		for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2"} {
			req.Header.Del(h)
		}
		if sc != nil {
			for _, h := range sc.headers {
				req.Header.Del(h)
			}
			if sc.param != "" {
				req.URL.RawQuery = removeParams(req.URL.RawQuery, sc.param)
			}
		}
	}
	return nil
}

// scopeKey is the context key of a request's *scope.
type scopeKey struct{}

// scope is who may see a call's credentials, and which they are.
type scope struct {
	origins []string // trusted origins and hosts
	headers []string // names of the headers that carry credentials
	param   string   // query parameter of an APIKeyQuery
}

func (s *scope) trusts(u *url.URL) bool {
	o := origin(u)
	host := strings.ToLower(u.Host)
	for _, t := range s.origins {
		if t == o || t == host {
			return true
		}
	}
	return false
}

// Get GETs rawURL and returns the response once its status is 2xx and its
// body is read, retrying as the package documentation describes. On error
// the Response is nil.
func (c *Client) Get(ctx context.Context, rawURL string) (*Response, error) {
	return c.call(ctx, rawURL, nil)
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
		return nil, fmt.Errorf("rest: GET %s: GetJSON needs a non-nil pointer to decode into, got %T", safeURL(rawURL), v)
	}
	return c.call(ctx, rawURL, func(body []byte) error {
		// json.Unmarshal checks the whole input, trailing bytes included,
		// before it stores anything, so a malformed body leaves v as it
		// was for the next attempt.
		return json.Unmarshal(body, v)
	})
}

// call runs a Get or GetJSON with the Client's own credentials.
func (c *Client) call(ctx context.Context, rawURL string, decode func([]byte) error) (*Response, error) {
	u, err := c.resolve(rawURL)
	if err != nil {
		return nil, err
	}
	r := request{url: u, header: c.Header, auth: c.Auth, decode: decode}
	if c.BaseURL != "" {
		b, _ := url.Parse(c.BaseURL) // resolve checked it
		r.trusted = []string{origin(b)}
	} else {
		r.trusted = []string{origin(u)}
	}
	r.trusted = appendHosts(r.trusted, c.AllowHosts)
	return c.do(ctx, &r)
}

// resolve parses rawURL, relative to BaseURL when it is set.
func (c *Client) resolve(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The *url.Error would repeat the URL, secrets and all.
		return nil, fmt.Errorf("rest: GET <invalid URL>: %w", stripURL(err))
	}
	if c.BaseURL != "" {
		b, err := url.Parse(c.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("rest: Client.BaseURL: %w: %v", ErrBadURL, stripURL(err))
		}
		if !u.IsAbs() {
			u = b.ResolveReference(u)
		}
	}
	if err := checkURL("URL", u); err != nil {
		return nil, fmt.Errorf("rest: GET %s: %w", safeURL(u.String()), err)
	}
	return u, nil
}

// appendHosts appends the trusted forms of AllowHosts entries.
func appendHosts(dst, hosts []string) []string {
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimRight(h, "/"))
		if u, err := url.Parse(h); err == nil && u.Scheme != "" && u.Host != "" {
			h = origin(u)
		}
		dst = append(dst, h)
	}
	return dst
}

// request is one call: the URL, the credentials and who may see them,
// and how to decode a 2xx body.
type request struct {
	url     *url.URL
	header  http.Header
	auth    Auth
	trusted []string
	decode  func([]byte) error
	// pooled reads a 2xx body into a buffer of bodies, which the caller
	// gives back with releaseBody once it no longer uses Response.Body.
	pooled bool
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
	} else if s.http.CheckRedirect == nil {
		// The redirect policy applies to a caller's *http.Client too,
		// unless it has a policy of its own.
		hc := *s.http
		hc.CheckRedirect = checkRedirect
		s.http = &hc
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

// do runs the attempts of one GET.
func (c *Client) do(ctx context.Context, r *request) (*Response, error) {
	sc := &scope{origins: r.trusted}
	trusted := sc.trusts(r.url)
	qa, _ := r.auth.(*queryAuth)
	if qa != nil {
		sc.param = qa.param
	}
	shown := *r.url
	if qa != nil {
		shown.RawQuery = removeParams(shown.RawQuery, qa.param)
	}
	safe := redact.URL(shown.String())

	s := c.settings()
	fail := func(attempt int, exhausted bool, err error) (*Response, error) {
		return nil, &attemptError{url: safe, attempt: attempt, max: s.attempts, exhausted: exhausted, err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(1, false, ctxError(ctx))
	}
	build := func(ctx context.Context) (*http.Request, error) {
		u := *r.url
		req, err := http.NewRequestWithContext(context.WithValue(ctx, scopeKey{}, sc), http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, stripURL(err)
		}
		req.URL = &u // keep the raw query exactly as given
		if trusted {
			for k, vs := range r.header {
				ck := http.CanonicalHeaderKey(k)
				req.Header[ck] = append(req.Header[ck], vs...)
				sc.headers = append(sc.headers, ck)
			}
			if r.auth != nil {
				before := len(req.Header)
				if err := r.auth.Authorize(ctx, req); err != nil {
					return nil, err
				}
				if len(req.Header) != before || qa == nil {
					for k := range req.Header {
						if !slices.Contains(sc.headers, k) {
							sc.headers = append(sc.headers, k)
						}
					}
				}
			}
		}
		if r.decode != nil && req.Header.Get("Accept") == "" {
			req.Header.Set("Accept", "application/json")
		}
		if c.UserAgent != "" {
			req.Header.Set("User-Agent", c.UserAgent)
		}
		return req, nil
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
		if d := c.pace.wait(origin(r.url), s.now()); d > 0 {
			s.logger.LogAttrs(ctx, slog.LevelInfo, "rest: pacing requests: the rate limit is used up until its reset",
				slog.String("url", safe), slog.Duration("wait", d))
			if err := s.sleep(ctx, d); err != nil {
				return fail(attempt, false, fmt.Errorf("%w while waiting %v for the rate limit to reset", ctxError(ctx), d))
			}
		}
		req, err := build(ctx)
		if err != nil {
			return fail(attempt, false, err)
		}
		res, out := c.attempt(ctx, req, r, safe, attempt, &s)
		if out.err == nil {
			if qa != nil && res.URL != nil {
				u := *res.URL
				u.RawQuery = removeParams(u.RawQuery, qa.param)
				res.URL = &u
			}
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
		s.logger.LogAttrs(ctx, slog.LevelWarn, "rest: retrying request", attrs...)
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
	retryAfter time.Duration // the capped wait the answer asked for
}

// attempt makes one request and reads, classifies and decodes its answer.
func (c *Client) attempt(ctx context.Context, req *http.Request, r *request, safe string, attempt int, s *settings) (*Response, outcome) {
	// The attempt's context keeps the request's values: the redirect
	// policy reads the call's scope from it.
	actx, cancel := context.WithCancel(req.Context())
	if s.timeout > 0 {
		actx, cancel = context.WithTimeout(req.Context(), s.timeout)
	}
	defer cancel()

	resp, err := s.http.Do(req.WithContext(actx))
	if err != nil {
		var re *errRedirect
		if errors.As(err, &re) {
			return nil, outcome{err: re}
		}
		return nil, transportOutcome(ctx, actx, s.timeout, err)
	}
	defer resp.Body.Close()
	now := s.now()
	wait, limited := rateLimitWait(resp.Header, now)
	wait = min(wait, s.maxRetryWait)
	if limited {
		c.pace.hold(origin(resp.Request.URL), now.Add(wait))
	}

	var body []byte
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if ok {
		var buf []byte
		if r.pooled {
			buf = pooledBody()
		}
		body, err = readBody(buf, resp.Body, resp.ContentLength, s.maxBody)
		if err != nil {
			if errors.Is(err, ErrBodyTooLarge) {
				return nil, outcome{err: err}
			}
			out := transportOutcome(ctx, actx, s.timeout, err)
			out.err = fmt.Errorf("reading the body of a %d response: %w", resp.StatusCode, out.err)
			return nil, out
		}
	} else {
		// Best effort: the status is the error, the body only explains it.
		// Reading a little more than the excerpt lets a short error body
		// end in EOF, which keeps the connection for the next attempt.
		body, _ = io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	}
	d := defaultDecision(resp, body, safe, attempt, wait, limited)
	if c.Classify != nil {
		d = c.Classify(Reply{Attempt: attempt, StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, d)
	}
	if d.Err != nil {
		return nil, outcome{err: d.Err, retry: d.Retry, retryAfter: min(d.Wait, s.maxRetryWait)}
	}
	if r.decode != nil && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusResetContent {
		if err := r.decode(body); err != nil {
			var tm *tooManyError
			if errors.As(err, &tm) {
				return nil, outcome{err: err}
			}
			de := &DecodeError{URL: safe, Err: err, Excerpt: excerpt(body, errorOffset(err), decodeExcerptLen)}
			return nil, outcome{err: de, retry: isSyntaxError(err)}
		}
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body, URL: resp.Request.URL}, outcome{}
}

// defaultDecision is what an answer means without Client.Classify: a 2xx
// is accepted; 429 and 5xx are retried; a 403 is retried only when it is
// a rate limit (Retry-After, or a rate-limit reset with nothing left);
// anything else fails at once.
func defaultDecision(resp *http.Response, body []byte, safe string, attempt int, wait time.Duration, limited bool) Decision {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return Decision{}
	}
	se := &StatusError{
		StatusCode: code,
		Method:     http.MethodGet,
		URL:        safe,
		Body:       excerpt(body, 0, statusBodyLen),
		Attempts:   attempt,
		RetryAfter: wait,
	}
	d := Decision{Err: se}
	switch {
	case retryableStatus(code):
		d.Retry, d.Wait = true, wait
	case code == http.StatusForbidden && (limited || resp.Header.Get("Retry-After") != ""):
		// GitHub's secondary rate limit answers 403 with Retry-After, its
		// primary one 403 with X-RateLimit-Remaining: 0.
		d.Retry, d.Wait = true, wait
	}
	return d
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
