package rest

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pacer holds back requests to an origin whose rate limit is used up,
// until its reset. The zero value is ready to use.
type pacer struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// hold delays the requests to origin o until t.
func (p *pacer) hold(o string, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.until == nil {
		p.until = make(map[string]time.Time)
	}
	if t.After(p.until[o]) {
		p.until[o] = t
	}
}

// wait returns how long a request to o must wait at now.
func (p *pacer) wait(o string, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.until[o]
	if !ok {
		return 0
	}
	if !t.After(now) {
		delete(p.until, o)
		return 0
	}
	return t.Sub(now)
}

// rateLimitWait reads the rate-limit headers of an answer. limited is true
// when they say that nothing is left of the limit, and wait is then the
// time until it resets. It reads, in this order:
//
//   - Retry-After: delta-seconds or an HTTP-date (relative to Date);
//   - X-RateLimit-Remaining with X-RateLimit-Reset, a Unix time in seconds
//     (GitHub, Twitter; a value below 10^9 is taken as delta-seconds, as
//     some APIs send);
//   - RateLimit-Remaining with RateLimit-Reset, delta-seconds (IETF
//     draft, early versions);
//   - RateLimit: "policy";r=0;t=30 (IETF draft, later versions), and the
//     older RateLimit: limit=100, remaining=0, reset=30.
//
// Retry-After alone (no remaining count) gives its wait with limited
// false: it is a hint for a retry, not a statement about the quota.
func rateLimitWait(h http.Header, now time.Time) (wait time.Duration, limited bool) {
	if d, ok := parseRetryAfter(h.Get("Retry-After"), h.Get("Date"), now); ok {
		wait = d
	}
	if rem, ok := intHeader(h, "X-RateLimit-Remaining"); ok && rem <= 0 {
		if reset, ok := intHeader(h, "X-RateLimit-Reset"); ok {
			d := time.Duration(reset) * time.Second
			if reset >= 1e9 {
				d = time.Unix(reset, 0).Sub(now)
			}
			return max(wait, d, 0), true
		}
	}
	if rem, ok := intHeader(h, "RateLimit-Remaining"); ok && rem <= 0 {
		if reset, ok := intHeader(h, "RateLimit-Reset"); ok {
			return max(wait, time.Duration(reset)*time.Second, 0), true
		}
	}
	if v := h.Get("RateLimit"); v != "" {
		if rem, reset, ok := parseRateLimit(v); ok && rem <= 0 && reset >= 0 {
			return max(wait, time.Duration(reset)*time.Second), true
		}
	}
	return wait, false
}

func intHeader(h http.Header, name string) (int64, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > 1<<40 {
		return 0, false
	}
	return n, true
}

// parseRateLimit reads the remaining count and reset seconds of a
// RateLimit header in either draft form; with several policies, the one
// with the least remaining wins.
func parseRateLimit(v string) (remaining, reset int64, ok bool) {
	remaining, reset = -1, -1
	found := false
	var itemRem, itemReset int64 = -1, -1
	flush := func() {
		if itemRem >= 0 && (!found || itemRem < remaining) {
			remaining, reset, found = itemRem, itemReset, true
		}
		itemRem, itemReset = -1, -1
	}
	older := strings.Contains(v, "remaining=")
	for part := range strings.SplitSeq(v, ",") {
		if !older {
			flush()
		}
		for param := range strings.SplitSeq(part, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(param), "=")
			n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
			if err != nil {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "r", "remaining":
				itemRem = n
			case "t", "reset":
				itemReset = n
			}
		}
	}
	flush()
	return remaining, reset, found
}
