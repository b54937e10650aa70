package rest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Sentinel errors. They are always returned wrapped, in an error that says
// which request failed; test for them with errors.Is.
var (
	// ErrBodyTooLarge reports a response body larger than Client.MaxBody.
	ErrBodyTooLarge = errors.New("response body too large")

	// ErrMalformed reports a body that is not one valid JSON value: a
	// syntax error, a truncated value, an empty body or trailing bytes.
	// A [*DecodeError] for such a body satisfies errors.Is(err,
	// ErrMalformed).
	ErrMalformed = errors.New("malformed JSON")

	// ErrRetriesExhausted reports that the last allowed attempt failed
	// with an error that would have been retried. The error also wraps
	// that last error, such as a [*StatusError].
	ErrRetriesExhausted = errors.New("retries exhausted")
)

// Lengths of the body excerpts in errors, in bytes.
const (
	statusBodyLen    = 512
	decodeExcerptLen = 80
)

// StatusError reports a final answer whose status is not 2xx.
type StatusError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Method is the request method, "GET".
	Method string
	// URL is the request URL with its secrets redacted.
	URL string
	// Body is the start of the response body (at most 512 bytes, valid
	// UTF-8, white space trimmed), which usually says what went wrong.
	Body string
	// RetryAfter is the delay the Retry-After header asked for, capped by
	// RetryPolicy.MaxRetryAfter; zero when there was none.
	RetryAfter time.Duration
	// Attempts is the number of the attempt that got this answer, 1 for
	// the first.
	Attempts int
}

// Error returns a message such as
// "rest: GET https://api.example.com/users?api_key=REDACTED: 404 Not Found: {"error":"no such thing"}".
func (e *StatusError) Error() string {
	return "rest: " + e.Method + " " + e.URL + ": " + e.short()
}

// short is the message without the request.
func (e *StatusError) short() string {
	s := strconv.Itoa(e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		s += " " + text
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// DecodeError reports a 2xx body that does not decode into the value given
// to [Client.GetJSON] or into the records of a [Source]: either malformed
// JSON (errors.Is(err, [ErrMalformed])) or JSON whose types do not fit
// (errors.As(err, &typeErr) with a *json.UnmarshalTypeError from
// [Client.GetJSON], a *json.SemanticError of
// github.com/go-json-experiment/json from a Source).
type DecodeError struct {
	// URL is the request URL with its secrets redacted.
	URL string
	// Err is the error of the decoder.
	Err error
	// Excerpt is the part of the body around the error (valid UTF-8).
	Excerpt string
}

// Error returns a message such as
// `rest: GET https://x/users: decoding JSON body: unexpected end of JSON input near "[{\"id\":1"`.
func (e *DecodeError) Error() string { return "rest: GET " + e.URL + ": " + e.short() }

func (e *DecodeError) short() string {
	s := "decoding JSON body"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Excerpt != "" {
		s += " near " + strconv.Quote(e.Excerpt)
	}
	return s
}

// Unwrap returns Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrMalformed] and the body was malformed
// rather than of the wrong types.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed && isSyntaxError(e.Err) }

// isSyntaxError reports whether err from encoding/json means malformed
// input rather than a type mismatch.
func isSyntaxError(err error) bool {
	var se *json.SyntaxError
	var te *jsontext.SyntacticError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF)
}

// errorOffset returns the byte offset encoding/json reported, or 0.
func errorOffset(err error) int64 {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var sy *jsontext.SyntacticError
	var sm *jsonv2.SemanticError
	switch {
	case errors.As(err, &se):
		return se.Offset
	case errors.As(err, &te):
		return te.Offset
	case errors.As(err, &sy):
		return sy.ByteOffset
	case errors.As(err, &sm):
		return sm.ByteOffset
	}
	return 0
}

// attemptError is what Get and GetJSON return: the request, the attempt and
// the cause.
type attemptError struct {
	url          string // redacted
	attempt, max int
	exhausted    bool
	err          error
}

func (e *attemptError) Error() string {
	var b strings.Builder
	b.WriteString("rest: GET ")
	b.WriteString(e.url)
	b.WriteString(": ")
	if e.attempt > 1 || e.exhausted {
		fmt.Fprintf(&b, "attempt %d of %d", e.attempt, e.max)
		if e.exhausted {
			b.WriteString(", retries exhausted")
		}
		b.WriteString(": ")
	}
	b.WriteString(short(e.err))
	return b.String()
}

func (e *attemptError) Unwrap() error { return e.err }

func (e *attemptError) Is(target error) bool { return target == ErrRetriesExhausted && e.exhausted }

// short returns the message of err without the request, which the
// attemptError around it names already.
func short(err error) string {
	switch e := err.(type) {
	case *StatusError:
		return e.short()
	case *DecodeError:
		return e.short()
	}
	return err.Error()
}

// timeoutError reports an attempt that ran out of Client.Timeout. It does
// not wrap context.DeadlineExceeded, which would claim that the caller's
// context expired.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("attempt timed out after %v", e.d) }

// Timeout reports true, like the timeouts of package net.
func (e *timeoutError) Timeout() bool { return true }

// transportOutcome classifies an error of sending a request or reading its
// body. ctx is the caller's context and actx the attempt's.
func transportOutcome(ctx, actx context.Context, timeout time.Duration, err error) outcome {
	switch {
	case ctx.Err() != nil:
		return outcome{err: ctxError(ctx)}
	case actx.Err() != nil:
		return outcome{err: &timeoutError{timeout}, retry: true}
	}
	err = stripURL(err)
	var (
		verr  *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cierr x509.CertificateInvalidError
	)
	if errors.As(err, &verr) || errors.As(err, &uaerr) || errors.As(err, &herr) || errors.As(err, &cierr) {
		return outcome{err: err}
	}
	// Refused, reset, EOF, unexpected EOF, HTTP/2 stream errors, DNS
	// hiccups: anything else the network says is worth another try.
	return outcome{err: err, retry: true}
}

// readBody reads r to the end into buf (from its start; nil: a new
// buffer), or fails with ErrBodyTooLarge after limit bytes. It reads at
// most limit+1 bytes. contentLength, when not negative, sizes the buffer.
func readBody(buf []byte, r io.Reader, contentLength, limit int64) ([]byte, error) {
	if contentLength > limit {
		return nil, fmt.Errorf("%w: Content-Length %d is over the limit of %d bytes", ErrBodyTooLarge, contentLength, limit)
	}
	size := int64(512)
	if contentLength >= 0 {
		size = contentLength + 1 // +1 so that the final EOF read needs no growth
	}
	if size = min(size, limit+1); int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	buf = buf[:0]
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// bodies holds the buffers of the bodies a Source has decoded (*[]byte),
// for the next pages.
var bodies sync.Pool

// pooledBody returns a buffer of bodies, or nil.
func pooledBody() []byte {
	if p, ok := bodies.Get().(*[]byte); ok {
		return *p
	}
	return nil
}

// releaseBody puts b, which nothing uses any longer, in bodies.
func releaseBody(b []byte) {
	if cap(b) > 0 && cap(b) <= maxPooledBody {
		bodies.Put(&b)
	}
}

// maxPooledBody is the capacity of the largest buffer bodies keeps.
const maxPooledBody = 4 << 20

// excerpt returns up to n bytes of b around offset (from the start when
// offset is 0), cut at rune boundaries, as valid UTF-8 with the surrounding
// white space trimmed.
func excerpt(b []byte, offset int64, n int) string {
	start := 0
	if offset > 0 {
		start = int(min(max(offset-int64(n)/2, 0), int64(len(b))))
	}
	end := min(start+n, len(b))
	// Move the ends to rune starts, so that no rune is cut in half.
	for start < end && !utf8.RuneStart(b[start]) {
		start++
	}
	if end < len(b) {
		for end > start && !utf8.RuneStart(b[end]) {
			end--
		}
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b[start:end]), "\uFFFD"))
}

// parseRetryAfter parses a Retry-After value: delta-seconds, or an
// HTTP-date taken relative to the response's Date header when it parses,
// else to now. A date in the past means no wait. It reports false for an
// absent or invalid value.
func parseRetryAfter(value, date string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if isDigits(value) {
		secs, err := strconv.ParseInt(value, 10, 64)
		if err != nil || secs > int64(maxDuration/time.Second) {
			return maxDuration, true // out of range: as long as can be, then capped
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	ref := now
	if d, err := http.ParseTime(strings.TrimSpace(date)); err == nil {
		ref = d
	}
	return max(t.Sub(ref), 0), true
}

const maxDuration = time.Duration(1<<63 - 1)

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
