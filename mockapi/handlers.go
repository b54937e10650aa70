package mockapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Endpoint paths.
const (
	PathOffset = "/users"        // offset and limit
	PathPages  = "/users/pages"  // page and per_page
	PathCursor = "/users/cursor" // opaque cursor in the body
	PathLink   = "/users/link"   // opaque cursor in an RFC 8288 Link header
	PathKeyset = "/users/keyset" // after=<updatedAt>,<id>
)

// OffsetResponse is the body of /users.
type OffsetResponse struct {
	Data    []User `json:"data"`
	Offset  int    `json:"offset"`
	Limit   int    `json:"limit"`
	Total   int    `json:"total"`
	HasMore bool   `json:"has_more"`
}

// PageResponse is the body of /users/pages.
type PageResponse struct {
	Data       []User `json:"data"`
	Page       int    `json:"page"`
	PerPage    int    `json:"per_page"`
	Total      int    `json:"total"`
	TotalPages int    `json:"total_pages"`
	HasMore    bool   `json:"has_more"`
}

// CursorResponse is the body of /users/cursor. NextCursor is empty (and
// omitted) on the last page.
type CursorResponse struct {
	Data       []User `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// KeysetResponse is the body of /users/keyset.
type KeysetResponse struct {
	Data    []User `json:"data"`
	HasMore bool   `json:"has_more"`
}

// ErrorResponse is the body of every error response.
type ErrorResponse struct {
	Error string `json:"error"`
}

// httpError is an error answered with its status.
type httpError struct {
	status int
	msg    string
	param  string // Stripe: the parameter at fault
	code   string // Stripe: an error code such as resource_missing
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// endpoint serves one path. It may set response headers, and appends the
// JSON body to dst.
type endpoint func(r *http.Request, d *decision, h http.Header, dst []byte) ([]byte, error)

// bodies recycles response buffers between requests.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest buffer kept for reuse.
const maxPooledBody = 4 << 20

// shape is the API family of a path, which decides the shape of its
// error bodies.
type shape int

const (
	shapeUsers  shape = iota // {"error": "..."}
	shapeGitHub              // {"message": "...", "documentation_url": "..."}
	shapeStripe              // {"error": {"type": "...", "message": "...", ...}}
)

// route is an endpoint and its API family.
type route struct {
	ep    endpoint
	shape shape
}

func (s *Server) routes() http.Handler {
	s.eps = map[string]route{
		PathOffset:    {s.serveOffset, shapeUsers},
		PathPages:     {s.servePages, shapeUsers},
		PathCursor:    {s.serveCursor, shapeUsers},
		PathLink:      {s.serveLink, shapeUsers},
		PathKeyset:    {s.serveKeyset, shapeUsers},
		s.github.path: {s.serveIssues, shapeGitHub},
		PathCustomers: {s.serveCustomers, shapeStripe},
	}
	for p := range s.eps {
		s.byPath[p] = new(atomic.Int64)
	}
	return http.HandlerFunc(s.serve)
}

// route returns the route of a path; a path that is not an endpoint has
// the shape of the API its prefix names, for its 404.
func (s *Server) route(path string) (route, bool) {
	if rt, ok := s.eps[path]; ok {
		return rt, true
	}
	switch {
	case strings.HasPrefix(path, "/repos/"):
		return route{shape: shapeGitHub}, false
	case strings.HasPrefix(path, "/v1/"):
		return route{shape: shapeStripe}, false
	}
	return route{shape: shapeUsers}, false
}

// serve counts the request, injects the faults drawn for it and dispatches
// it to its endpoint.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	if c := s.byPath[r.URL.Path]; c != nil {
		c.Add(1)
	}
	d := s.faults.decide(n)
	rt, found := s.route(r.URL.Path)
	if !sleep(r, d.Latency) {
		return // the client went away
	}
	if q := d.quota; q != nil {
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(q.limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(q.remaining))
		h.Set("X-RateLimit-Used", strconv.Itoa(q.used))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(q.reset, 10))
		h.Set("X-RateLimit-Resource", "core")
		if q.over {
			writeError(w, rt.shape, &httpError{status: http.StatusForbidden,
				msg: "API rate limit exceeded: " + strconv.Itoa(q.limit) + " requests until X-RateLimit-Reset"})
			return
		}
	}
	switch d.action {
	case actReset:
		reset(w)
		return
	case actRateLimit:
		w.Header().Set("Retry-After", retryAfter(d.RetryAfter, d.RetryAfterDate))
		writeError(w, rt.shape, &httpError{status: http.StatusTooManyRequests, msg: "rate limited: retry later", code: "rate_limit"})
		return
	case actSecondary:
		w.Header().Set("Retry-After", retryAfter(d.RetryAfter, d.RetryAfterDate))
		writeError(w, rt.shape, &httpError{status: http.StatusForbidden,
			msg: "You have exceeded a secondary rate limit. Please wait before you try again."})
		return
	case actError:
		writeError(w, rt.shape, &httpError{status: http.StatusInternalServerError, msg: "injected internal error"})
		return
	}
	if !found {
		msg := "no endpoint at " + r.URL.Path
		if rt.shape == shapeGitHub {
			msg = "Not Found"
		}
		writeError(w, rt.shape, &httpError{status: http.StatusNotFound, msg: msg})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, rt.shape, &httpError{status: http.StatusMethodNotAllowed, msg: "method " + r.Method + " not allowed"})
		return
	}
	buf := bodies.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxPooledBody {
			bodies.Put(buf)
		}
	}()
	b, err := rt.ep(r, &d, w.Header(), (*buf)[:0])
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			he = &httpError{status: http.StatusInternalServerError, msg: err.Error()}
		}
		writeError(w, rt.shape, he)
		return
	}
	b = append(b, '\n')
	*buf = b
	if d.malformed {
		b = b[:len(b)/2] // an unclosed object or array: never valid JSON
	}
	writeBody(w, http.StatusOK, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client may be gone; nothing to do about it
}

// writeError answers e in the error shape of the API.
func writeError(w http.ResponseWriter, sh shape, e *httpError) {
	var body any
	switch sh {
	case shapeGitHub:
		body = GitHubError{Message: e.msg, DocumentationURL: githubDocumentation}
	case shapeStripe:
		d := StripeErrorDetail{Type: "invalid_request_error", Code: e.code, Message: e.msg, Param: e.param}
		if e.status >= 500 {
			d.Type = "api_error"
		}
		body = StripeError{Error: d}
	default:
		body = ErrorResponse{Error: e.msg}
	}
	b, _ := json.Marshal(body) // strings always marshal
	writeBody(w, e.status, append(b, '\n'))
}

// query wraps the request's query parameters. A parameter given more than
// once counts by its first value; an empty value counts as absent.
type query struct{ url.Values }

// int parses an integer parameter of at least least, def when absent.
func (q query) int(name string, def, least int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("%s: %q is not an integer", name, v)
	}
	if n < least {
		return 0, badRequest("%s: %d is below the minimum %d", name, n, least)
	}
	return n, nil
}

// pageSize parses a page size parameter: DefaultPageSize when absent, at
// least 1, silently capped at MaxPageSize.
func (s *Server) pageSize(q query, name string) (int, error) {
	n, err := q.int(name, s.opts.DefaultPageSize, 1)
	return min(n, s.opts.MaxPageSize), err
}

func (q query) time(name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest("%s: %q is not an RFC 3339 time", name, v)
	}
	return t.UTC(), nil
}

// filter parses updated_since, updated_before and include_deleted.
func (q query) filter() (filter, error) {
	var f filter
	var err error
	if f.since, err = q.time("updated_since"); err != nil {
		return f, err
	}
	if f.before, err = q.time("updated_before"); err != nil {
		return f, err
	}
	if v := q.Get("include_deleted"); v != "" {
		if f.deleted, err = strconv.ParseBool(v); err != nil {
			return f, badRequest("include_deleted: %q is not a boolean", v)
		}
	}
	return f, nil
}

// appendData appends `"data":[...]` for refs, applying the
// MissingFieldRate fault.
func (s *Server) appendData(dst []byte, refs []ref[User], d *decision) []byte {
	dst = append(dst, `"data":`...)
	return newUserEncoder(s.cfg, d.MissingFieldRate).users(dst, refs)
}

// refKey returns the keyset position of the row of r.
func (s *Server) refKey(r *ref[User]) position {
	if r.base {
		return position{t: s.cfg.baseTime(r.idx), id: s.cfg.codec.id(r.idx)}
	}
	return position{t: r.t, id: r.id}
}

func (s *Server) serveOffset(r *http.Request, d *decision, _ http.Header, dst []byte) ([]byte, error) {
	q := query{r.URL.Query()}
	f, err := q.filter()
	if err != nil {
		return nil, err
	}
	offset, err := q.int("offset", 0, 0)
	if err != nil {
		return nil, err
	}
	limit, err := s.pageSize(q, "limit")
	if err != nil {
		return nil, err
	}
	refs, total, repeated := s.page(f, offset, limit, d.RepeatLastPage)
	// As encoding/json writes OffsetResponse.
	dst = s.appendData(append(dst, '{'), refs, d)
	dst = appendIntField(dst, "offset", int64(offset))
	dst = appendIntField(dst, "limit", int64(limit))
	dst = appendIntField(dst, "total", int64(total))
	dst = appendJSONBool(appendKey(dst, "has_more"), repeated || offset+len(refs) < total)
	return append(dst, '}'), nil
}

func (s *Server) servePages(r *http.Request, d *decision, _ http.Header, dst []byte) ([]byte, error) {
	q := query{r.URL.Query()}
	f, err := q.filter()
	if err != nil {
		return nil, err
	}
	page, err := q.int("page", 1, 1)
	if err != nil {
		return nil, err
	}
	size, err := s.pageSize(q, "per_page")
	if err != nil {
		return nil, err
	}
	offset := math.MaxInt // a page too far to compute is past the end
	if page-1 <= math.MaxInt/size {
		offset = (page - 1) * size
	}
	refs, total, repeated := s.page(f, offset, size, d.RepeatLastPage)
	pages := (total + size - 1) / size
	// As encoding/json writes PageResponse.
	dst = s.appendData(append(dst, '{'), refs, d)
	dst = appendIntField(dst, "page", int64(page))
	dst = appendIntField(dst, "per_page", int64(size))
	dst = appendIntField(dst, "total", int64(total))
	dst = appendIntField(dst, "total_pages", int64(pages))
	dst = appendJSONBool(appendKey(dst, "has_more"), repeated || page < pages)
	return append(dst, '}'), nil
}

// page returns the rows at offset. With repeat, an offset past the end of a
// non-empty collection serves the last page, aligned to multiples of
// limit, and reports true.
func (s *Server) page(f filter, offset, limit int, repeat bool) ([]ref[User], int, bool) {
	if !repeat {
		refs, total := s.store.rowsAt(f.sel(), offset, limit)
		return refs, total, false
	}
	last := func(total int) int { return (total - 1) / limit * limit }
	refs, total, served := s.store.lastRowsAt(f.sel(), offset, limit, last)
	return refs, total, served != offset
}

// Cursors are base64url (unpadded) of "s" for the first page, or "a" and a
// Key for the rows strictly after it.
const firstCursor = "cw" // base64url("s")

func encodeCursor(p position) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a" + Key(User{ID: p.id, UpdatedAt: p.t})))
}

// decodeCursor returns the position of a cursor; nil means the first page.
func decodeCursor(c string) (*position, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, badRequest("cursor: %q is not a cursor from this server", c)
	}
	switch {
	case string(b) == "s":
		return nil, nil
	case len(b) > 1 && b[0] == 'a':
		t, id, err := ParseKey(string(b[1:]))
		if err != nil {
			return nil, badRequest("cursor: %q is not a cursor from this server", c)
		}
		return &position{t: t, id: id}, nil
	}
	return nil, badRequest("cursor: %q is not a cursor from this server", c)
}

// cursorPage serves /users/cursor and /users/link. It returns the rows of
// the page and the cursor of the next page: "" on the last page, unless
// self is set, in which case next is the request's own cursor
// (SelfLinkLastPage), possibly "" for the first page.
func (s *Server) cursorPage(r *http.Request, d *decision) (refs []ref[User], next string, self bool, err error) {
	q := query{r.URL.Query()}
	f, err := q.filter()
	if err != nil {
		return nil, "", false, err
	}
	limit, err := s.pageSize(q, "limit")
	if err != nil {
		return nil, "", false, err
	}
	cursor := q.Get("cursor")
	pos, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", false, err
	}
	repeatN := 0
	if d.RepeatLastPage {
		repeatN = limit
	}
	refs, _ = s.store.rowsAfter(f.sel(), pos, limit+1, repeatN)
	more := len(refs) > limit
	if more {
		refs = refs[:limit]
	}
	switch {
	case more:
		next = encodeCursor(s.refKey(&refs[len(refs)-1]))
	case d.SelfLinkLastPage:
		next, self = cursor, true
	case d.RepeatLastPage && len(refs) > 0:
		next = encodeCursor(s.refKey(&refs[len(refs)-1])) // past the end: serves this page again
	}
	return refs, next, self, nil
}

func (s *Server) serveCursor(r *http.Request, d *decision, _ http.Header, dst []byte) ([]byte, error) {
	refs, next, self, err := s.cursorPage(r, d)
	if err != nil {
		return nil, err
	}
	if self && next == "" {
		next = firstCursor // "" would end the walk
	}
	// As encoding/json writes CursorResponse.
	dst = s.appendData(append(dst, '{'), refs, d)
	if next != "" {
		dst = appendJSONString(appendKey(dst, "next_cursor"), next)
	}
	return append(dst, '}'), nil
}

func (s *Server) serveLink(r *http.Request, d *decision, h http.Header, dst []byte) ([]byte, error) {
	refs, next, self, err := s.cursorPage(r, d)
	if err != nil {
		return nil, err
	}
	links := make([]string, 0, 2)
	if next != "" || self {
		links = append(links, "<"+s.linkURL(r, next)+`>; rel="next"`)
	}
	links = append(links, "<"+s.linkURL(r, "")+`>; rel="first"`)
	h.Set("Link", strings.Join(links, ", "))
	return newUserEncoder(s.cfg, d.MissingFieldRate).users(dst, refs), nil
}

// linkURL returns the URL of the request with its cursor replaced (removed
// when cursor is empty) and every other parameter kept exactly once.
func (s *Server) linkURL(r *http.Request, cursor string) string {
	q := make(url.Values)
	for k, vs := range r.URL.Query() {
		if k != "cursor" && len(vs) > 0 {
			q.Set(k, vs[0])
		}
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	if !s.opts.RelativeLinks {
		u.Scheme, u.Host = "http", r.Host
		if r.TLS != nil {
			u.Scheme = "https"
		}
	}
	return u.String()
}

func (s *Server) serveKeyset(r *http.Request, d *decision, _ http.Header, dst []byte) ([]byte, error) {
	q := query{r.URL.Query()}
	f, err := q.filter()
	if err != nil {
		return nil, err
	}
	limit, err := s.pageSize(q, "limit")
	if err != nil {
		return nil, err
	}
	var pos *position
	if after := q.Get("after"); after != "" {
		t, id, err := ParseKey(after)
		if err != nil {
			return nil, badRequest("after: %q is not <updatedAt RFC 3339>,<id>", after)
		}
		pos = &position{t: t, id: id}
	}
	repeatN := 0
	if d.RepeatLastPage {
		repeatN = limit
	}
	refs, repeated := s.store.rowsAfter(f.sel(), pos, limit+1, repeatN)
	more := repeated || len(refs) > limit
	if len(refs) > limit {
		refs = refs[:limit]
	}
	// As encoding/json writes KeysetResponse.
	dst = s.appendData(append(dst, '{'), refs, d)
	dst = appendJSONBool(appendKey(dst, "has_more"), more)
	return append(dst, '}'), nil
}
