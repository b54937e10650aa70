package mockapi

import (
	"crypto/tls"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Faults are the failures a [Server] injects. The zero value injects none.
//
// Random faults draw from a math/rand generator seeded from Options.Seed and
// guarded by a mutex, so with a fixed seed and sequential requests the same
// requests fail in every run. Each request takes one draw that picks at most
// one of reset, rate limit and error (in that order, so their rates are
// exact shares while they sum to at most 1), and one draw for
// MalformedRate.
type Faults struct {
	// Latency delays every request before anything else happens. The delay
	// ends early, with nothing written, if the request's context ends.
	Latency time.Duration

	// ErrorRate is the share of requests answered 500 with a JSON error.
	ErrorRate float64

	// RateLimitRate is the share of requests answered 429 with a
	// Retry-After header.
	RateLimitRate float64

	// RetryAfter is the delay announced by 429 responses, rounded up to
	// whole seconds. Zero means DefaultRetryAfter.
	RetryAfter time.Duration

	// RetryAfterDate sends Retry-After as an HTTP-date (now + RetryAfter)
	// instead of a number of seconds.
	RetryAfterDate bool

	// ResetRate is the share of requests whose connection is reset with
	// no response (SO_LINGER 0, then close), so the client sees a network
	// error. Note that net/http clients retry an idempotent request once
	// when a reused keep-alive connection fails this way, and that retry is
	// a request of its own. Resetting needs a server whose responses can be
	// hijacked; under HTTP/2 the stream is aborted with http.ErrAbortHandler
	// instead.
	ResetRate float64

	// MalformedRequests lists request numbers (1-based, counted over all
	// paths since the server started or since ResetCounts) whose 200
	// response body is cut in half, which is never valid JSON.
	MalformedRequests []int

	// MalformedRate is the share of 200 responses cut like that.
	MalformedRate float64

	// MissingFieldRate is the share of records served without two
	// fields: users without email and updatedAt, issues without updated_at
	// and user, customers without email and updated. The records are
	// chosen by a hash of their id, so every read agrees. Tombstones are
	// not affected.
	MissingFieldRate float64

	// RepeatLastPage makes a request past the end of a non-empty collection
	// serve the last page again and claim that more follows. /users and
	// /users/pages answer with the data of the last page (aligned to the
	// page size), has_more=true, and the offset or page that was asked for;
	// /users/keyset, after the last user, answers with the last limit users
	// and has_more=true. /users/cursor and /users/link give their last page
	// a next cursor after its last user, which is past the end, so it serves
	// the last limit users again with that same next cursor. The issues'
	// last page gets a rel="next" link to the page after it, which serves
	// the last page again with a link to the next, and so on. The
	// customers' oldest page claims has_more=true, and starting_after its
	// last customer serves the oldest limit customers again.
	RepeatLastPage bool

	// SecondaryRateLimitRate is the share of requests answered 403 with a
	// Retry-After header (RetryAfter, RetryAfterDate), as GitHub's
	// secondary rate limit.
	SecondaryRateLimitRate float64

	// RateLimitQuota, when positive, allows that many requests (over all
	// paths) per RateLimitWindow of wall-clock time, and announces the
	// quota on every response as GitHub does: X-RateLimit-Limit,
	// X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Reset (Unix
	// seconds when the window ends) and X-RateLimit-Resource. A request
	// over the quota is answered 403 with X-RateLimit-Remaining 0 and no
	// Retry-After, until the window ends; the first request after it
	// starts the next window.
	RateLimitQuota int

	// RateLimitWindow is the window of RateLimitQuota, rounded up to whole
	// seconds. Zero means DefaultRateLimitWindow.
	RateLimitWindow time.Duration

	// SelfLinkLastPage gives the last page of /users/cursor and /users/link
	// a next cursor or next link that points to that same page: the
	// request's own cursor (for a first page, a cursor meaning "first
	// page", or the request's own URL). The issues' last page (or a page
	// past it) gets a rel="next" link that is the request's own URL. It
	// takes precedence over RepeatLastPage on those endpoints. The
	// customers API has no link: there it acts as RepeatLastPage.
	SelfLinkLastPage bool
}

// normalized clamps the rates to [0, 1], applies the RetryAfter default and
// copies MalformedRequests so the caller's slice is not shared.
func (f Faults) normalized() Faults {
	for _, r := range []*float64{&f.ErrorRate, &f.RateLimitRate, &f.ResetRate, &f.MalformedRate, &f.MissingFieldRate, &f.SecondaryRateLimitRate} {
		if math.IsNaN(*r) {
			*r = 0
		}
		*r = min(max(*r, 0), 1)
	}
	if f.RetryAfter <= 0 {
		f.RetryAfter = DefaultRetryAfter
	}
	f.RateLimitQuota = max(f.RateLimitQuota, 0)
	if f.RateLimitWindow <= 0 {
		f.RateLimitWindow = DefaultRateLimitWindow
	}
	f.RateLimitWindow = (f.RateLimitWindow + time.Second - 1) / time.Second * time.Second
	f.Latency = max(f.Latency, 0)
	f.MalformedRequests = slices.Clone(f.MalformedRequests)
	return f
}

// action is what a request gets instead of its normal response.
type action int

const (
	actServe action = iota
	actReset
	actRateLimit
	actError
	actSecondary
)

// decision is the fate of one request, drawn when it arrives, together with
// the fault settings it sees, so a concurrent SetFaults cannot change a
// request halfway.
type decision struct {
	Faults
	action    action
	malformed bool
	quota     *quota // nil without RateLimitQuota
}

// quota is the state of the RateLimitQuota window a request falls in.
type quota struct {
	limit, remaining, used int
	reset                  int64 // Unix seconds
	over                   bool
}

// faultState holds the current faults and their random generator.
type faultState struct {
	mu        sync.Mutex
	seed      uint64
	f         Faults
	rng       *rand.Rand
	windowEnd time.Time // of the RateLimitQuota window
	used      int       // requests in the window
}

func (fs *faultState) init(seed int64, f Faults) {
	fs.seed = mix64(uint64(seed) ^ streamFaults)
	fs.set(f)
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f.normalized()
	fs.rng = rand.New(rand.NewPCG(fs.seed, streamFaults))
	fs.windowEnd, fs.used = time.Time{}, 0
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	f.MalformedRequests = slices.Clone(f.MalformedRequests)
	return f
}

// decide draws the fate of request number n. Draws are taken only for the
// rates that are set, so the sequence depends only on the faults and the
// order of the requests.
func (fs *faultState) decide(n int64) decision {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d := decision{Faults: fs.f}
	f := &fs.f
	if f.ResetRate+f.RateLimitRate+f.ErrorRate+f.SecondaryRateLimitRate > 0 {
		switch u := fs.rng.Float64(); {
		case u < f.ResetRate:
			d.action = actReset
		case u < f.ResetRate+f.RateLimitRate:
			d.action = actRateLimit
		case u < f.ResetRate+f.RateLimitRate+f.ErrorRate:
			d.action = actError
		case u < f.ResetRate+f.RateLimitRate+f.ErrorRate+f.SecondaryRateLimitRate:
			d.action = actSecondary
		}
	}
	if f.RateLimitQuota > 0 {
		now := time.Now()
		if !now.Before(fs.windowEnd) {
			end := now.Add(f.RateLimitWindow)
			if whole := end.Truncate(time.Second); whole.Before(end) {
				end = whole.Add(time.Second)
			}
			fs.windowEnd, fs.used = end, 0
		}
		fs.used++
		d.quota = &quota{
			limit:     f.RateLimitQuota,
			remaining: max(f.RateLimitQuota-fs.used, 0),
			used:      min(fs.used, f.RateLimitQuota),
			reset:     fs.windowEnd.Unix(),
			over:      fs.used > f.RateLimitQuota,
		}
	}
	if f.MalformedRate > 0 && fs.rng.Float64() < f.MalformedRate {
		d.malformed = true
	}
	for _, m := range f.MalformedRequests {
		if int64(m) == n {
			d.malformed = true
		}
	}
	return d
}

// SetFaults replaces the injected faults, from the next request on. It also
// restarts the fault random sequence from the seed, so what follows depends
// only on the seed, the new faults and the requests.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the faults being injected, with defaults applied.
func (s *Server) Faults() Faults { return s.faults.get() }

// Requests returns the number of requests received, on any path, including
// those answered with a fault.
func (s *Server) Requests() int64 { return s.requests.Load() }

// RequestsTo returns the number of requests received for one endpoint path,
// such as "/users/cursor". Paths that are not endpoints count 0.
func (s *Server) RequestsTo(path string) int64 {
	if c := s.byPath[path]; c != nil {
		return c.Load()
	}
	return 0
}

// ResetCounts sets the request counters to zero. Request numbers in
// Faults.MalformedRequests count from here.
func (s *Server) ResetCounts() {
	s.requests.Store(0)
	for _, c := range s.byPath {
		c.Store(0)
	}
}

// sleep waits for d or until the request's context ends, and reports
// whether the full delay elapsed.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// reset drops the connection without a response. It hijacks the connection
// and closes it with SO_LINGER 0, which sends a TCP RST. When the
// connection cannot be hijacked (HTTP/2), it aborts the response with
// http.ErrAbortHandler, the sentinel net/http servers recover from silently
// and turn into a reset stream.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // best effort: a plain close is still a dropped response
	}
	_ = conn.Close()
}

// retryAfter returns the Retry-After value for d: whole seconds, or an
// HTTP-date at least d from now; both rounded up to the second.
func retryAfter(d time.Duration, date bool) string {
	if date {
		t := time.Now().Add(d)
		if whole := t.Truncate(time.Second); whole.Before(t) {
			t = whole.Add(time.Second)
		}
		return t.UTC().Format(http.TimeFormat)
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
