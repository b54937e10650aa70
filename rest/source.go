package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/connectkit/connector/internal/jsonstruct"
	"github.com/connectkit/connector/paginate"
)

// Endpoint declares a paged REST collection: where it is, how to
// authenticate, where the records are in a body, how it pages and what
// ends it. The zero value of each field means its default; BaseURL and
// Paging are the only fields every declaration needs (Paging's own
// zero fields name the usual parameters).
//
// [NewSource] turns an Endpoint into a [Source], a paginate.Source that
// builds every request and decodes each record into T.
type Endpoint struct {
	// Client sends the requests (retries, timeouts, limits). Nil means a
	// zero Client, shared by every Endpoint whose Client is nil.
	Client *Client

	// BaseURL is the API's base URL, such as "https://api.github.com"; its
	// own query, if any, is kept byte for byte. Credentials (Auth,
	// Header) are sent only to its origin (scheme, host and port) and to
	// AllowHosts. Empty means Client.BaseURL.
	BaseURL string

	// Path is appended to BaseURL's path, as in "/repos/golang/go/issues".
	Path string

	// Query is added to every request this Endpoint builds: the first
	// page's, and each later page's for the paging kinds whose requests
	// the Endpoint builds (offset, page, cursor, keyset). Next URLs
	// (NextURLPaging, LinkPaging) carry what the server put in them, plus
	// Query only when Carry is set. See also [Source.With].
	Query url.Values

	// Header is added to every request to a trusted origin. Client.Header
	// is added too.
	Header http.Header

	// Auth adds credentials to every request to a trusted origin. Nil
	// means Client.Auth.
	Auth Auth

	// AllowHosts lists more origins or hosts that may receive the
	// credentials, as in Client.AllowHosts (whose entries count too).
	AllowHosts []string

	// Records is the dotted path of the records array in a body: "data",
	// "result.items". Empty means the body is the array.
	Records string

	// Paging says how the endpoint pages: [OffsetPaging], [PagePaging],
	// [CursorPaging], [NextURLPaging], [LinkPaging] or [KeysetPaging].
	Paging Paging

	// PageSize is the number of records asked for per page, sent in the
	// Paging's size parameter. Zero sends none: the server's default
	// applies (PagePaging needs one).
	PageSize int

	// HasMore is the dotted path of a boolean that says whether more
	// pages follow ("has_more", "meta.has_more"); Done is one that says
	// the opposite (Salesforce's "done").
	HasMore, Done string

	// Total is the dotted path of the number of records in the whole
	// collection; TotalPages that of the number of pages (PagePaging).
	Total, TotalPages string

	// Stop, when not zero, replaces the strategy's stop rules (see
	// paginate.Stop), for instance to add paginate.StopMissingNext for
	// an API that says has_more=true on its last page.
	Stop paginate.Stop
}

// Paging is how an [Endpoint] pages. The types of this package implement
// it; a hand-written paginate.Source covers anything else.
type Paging interface{ paging() }

// OffsetPaging pages with an offset and a limit parameter: ?offset=200&limit=100.
type OffsetPaging struct {
	// Offset and Limit name the parameters; empty means "offset" and
	// "limit".
	Offset, Limit string
}

// PagePaging pages with a page number and a page size: ?page=3&per_page=100.
type PagePaging struct {
	// Page and Size name the parameters; empty means "page" and
	// "per_page".
	Page, Size string
	// ZeroBased numbers pages from 0; by default the first page is 1.
	ZeroBased bool
}

// CursorPaging reads a cursor from each body and sends it as a request
// parameter: HubSpot's paging.next.after to ?after=, Slack's
// response_metadata.next_cursor to ?cursor=. The collection ends when
// the body holds no cursor (or an empty one), unless HasMore says more
// follows.
type CursorPaging struct {
	// Next is the dotted path of the cursor in the body; required.
	Next string
	// Param names the request parameter; empty means "cursor".
	Param string
	// Limit names the page size parameter; empty means "limit".
	Limit string
}

// NextURLPaging follows the URL of the next page that each body names:
// Salesforce's nextRecordsUrl, Zendesk's links.next. Relative URLs
// resolve against the request URL; the raw query is kept byte for byte.
type NextURLPaging struct {
	// Next is the dotted path of the next URL in the body; required.
	Next string
	// Limit names the page size parameter of the first request; empty
	// means "limit".
	Limit string
	// Carry adds the first request's parameters (Endpoint.Query and the
	// page size) to next URLs that lack them. Off by default: a next URL
	// is the server's own statement of the next request, and adding to it
	// can break it (Shopify answers 400 to filters beside page_info).
	// Set it for APIs whose next URLs drop the filters.
	Carry bool
}

// LinkPaging follows the RFC 8288 Link header's rel="next" URL: GitHub,
// Shopify, and many others. It is NextURLPaging with the URL taken from
// the headers.
type LinkPaging struct {
	// Limit names the page size parameter of the first request; empty
	// means "limit".
	Limit string
	// Carry is as in NextURLPaging.
	Carry bool
}

// KeysetPaging asks for the records after the key of the last record:
// Stripe's ?starting_after=<id of the last object>. The key is read from
// the last record's raw JSON, so T need not hold it.
type KeysetPaging struct {
	// Param names the request parameter; required.
	Param string
	// Field is the dotted path of the key in a record; required. Tie,
	// when not empty, is a second field for records that share Field: the
	// key is then "<Field>,<Tie>", as in "2024-05-01T10:00:00Z,u123".
	Field, Tie string
	// Limit names the page size parameter; empty means "limit".
	Limit string
}

func (OffsetPaging) paging()  {}
func (PagePaging) paging()    {}
func (CursorPaging) paging()  {}
func (NextURLPaging) paging() {}
func (LinkPaging) paging()    {}
func (KeysetPaging) paging()  {}

// Source is a paginate.Source over an [Endpoint], decoding each record
// into T. Build it with [NewSource]; it is safe for concurrent use.
type Source[T any] struct {
	e        Endpoint
	client   *Client
	base     *url.URL
	query    url.Values
	trusted  []string
	header   http.Header
	auth     Auth
	layout   layout
	fields   []string         // dotted paths, index i+1 in layout.fields
	plan     *jsonstruct.Plan // nil: T is not a struct jsonstruct decodes
	strategy paginate.Strategy

	fNext, fHasMore, fDone, fTotal, fTotalPages int // 1-based indexes into fields, 0 if absent
}

var defaultClient = &Client{}

// NewSource checks e and returns its Source. Nothing is fetched.
func NewSource[T any](e Endpoint) (*Source[T], error) {
	s := &Source[T]{e: e, client: e.Client}
	if s.client == nil {
		s.client = defaultClient
	}
	raw := e.BaseURL
	if raw == "" {
		raw = s.client.BaseURL
	}
	if raw == "" {
		return nil, errors.New("rest: Endpoint.BaseURL is empty")
	}
	b, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("rest: Endpoint.BaseURL: %w: %v", ErrBadURL, stripURL(err))
	}
	if err := checkURL("base URL", b); err != nil {
		return nil, fmt.Errorf("rest: Endpoint.BaseURL: %w", err)
	}
	if e.Path != "" {
		p, err := url.Parse(e.Path)
		if err != nil || p.Scheme != "" || p.Host != "" {
			return nil, fmt.Errorf("rest: Endpoint.Path %q: %w: want a path", e.Path, ErrBadURL)
		}
		b.Path = strings.TrimRight(b.Path, "/") + "/" + strings.TrimLeft(p.Path, "/")
		b.RawPath = ""
		if p.RawQuery != "" {
			b.RawQuery = joinRaw(b.RawQuery, p.RawQuery)
		}
	}
	s.base = b
	s.query = e.Query
	s.trusted = appendHosts(appendHosts([]string{origin(b)}, e.AllowHosts), s.client.AllowHosts)
	s.header = s.client.Header.Clone()
	if s.header == nil {
		s.header = http.Header{}
	}
	for k, vs := range e.Header {
		s.header[http.CanonicalHeaderKey(k)] = append(s.header[http.CanonicalHeaderKey(k)], vs...)
	}
	s.auth = e.Auth
	if s.auth == nil {
		s.auth = s.client.Auth
	}
	if e.PageSize < 0 {
		return nil, fmt.Errorf("rest: Endpoint.PageSize %d is negative", e.PageSize)
	}
	s.layout = layout{records: splitPath(e.Records), fields: map[string]int{}}
	s.plan = jsonstruct.For(reflect.TypeFor[T](), decodeOptions)
	add := func(p string) int {
		if p == "" {
			return 0
		}
		if i, ok := s.layout.fields[p]; ok {
			return i
		}
		s.fields = append(s.fields, p)
		s.layout.fields[p] = len(s.fields)
		return len(s.fields)
	}
	s.fHasMore, s.fDone, s.fTotal, s.fTotalPages = add(e.HasMore), add(e.Done), add(e.Total), add(e.TotalPages)

	switch pg := e.Paging.(type) {
	case OffsetPaging:
		s.strategy = paginate.Offset(e.PageSize)
	case PagePaging:
		if e.PageSize == 0 {
			return nil, errors.New("rest: PagePaging needs Endpoint.PageSize")
		}
		first := 1
		if pg.ZeroBased {
			first = 0
		}
		s.strategy = paginate.PageNumber(first, e.PageSize)
	case CursorPaging:
		if pg.Next == "" {
			return nil, errors.New("rest: CursorPaging.Next is empty: name the cursor's field in the body")
		}
		s.fNext = add(pg.Next)
		s.strategy = paginate.Token().WithLimit(e.PageSize)
	case NextURLPaging:
		if pg.Next == "" {
			return nil, errors.New("rest: NextURLPaging.Next is empty: name the next URL's field in the body")
		}
		s.fNext = add(pg.Next)
		s.strategy = paginate.Token().WithLimit(e.PageSize)
	case LinkPaging:
		s.strategy = paginate.Token().WithLimit(e.PageSize)
	case KeysetPaging:
		if pg.Param == "" || pg.Field == "" {
			return nil, errors.New("rest: KeysetPaging needs Param and Field")
		}
		s.strategy = paginate.Keyset(e.PageSize)
	case nil:
		return nil, errors.New("rest: Endpoint.Paging is nil: declare OffsetPaging, PagePaging, CursorPaging, NextURLPaging, LinkPaging or KeysetPaging")
	default:
		return nil, fmt.Errorf("rest: Endpoint.Paging %T is not a paging of package rest", pg)
	}
	if e.Stop != 0 {
		s.strategy = s.strategy.WithStop(e.Stop)
	}
	return s, nil
}

// New returns a Paginator over the Source of e: NewSource(e), then
// [Source.Paginator].
func New[T any](e Endpoint, opts ...paginate.Option) (*paginate.Paginator[T], error) {
	s, err := NewSource[T](e)
	if err != nil {
		return nil, err
	}
	return s.Paginator(opts...), nil
}

// Strategy returns the paginate.Strategy that fits the Endpoint's paging.
func (s *Source[T]) Strategy() paginate.Strategy { return s.strategy }

// Paginator returns a Paginator over s with its strategy.
func (s *Source[T]) Paginator(opts ...paginate.Option) *paginate.Paginator[T] {
	return paginate.New[T](s, s.strategy, opts...)
}

// With returns a copy of s whose requests also carry q, replacing the
// Endpoint's parameters of the same names: per-run filters such as
// since=<the sync window's start>, without building URLs by hand. Like
// Endpoint.Query, q goes to every request the Source builds, and to next
// URLs only with Carry.
func (s *Source[T]) With(q url.Values) *Source[T] {
	c := *s
	c.query = make(url.Values, len(s.query)+len(q))
	for k, vs := range s.query {
		c.query[k] = vs
	}
	for k, vs := range q {
		c.query[k] = vs
	}
	return &c
}

// firstQuery returns the raw query of a request the Source builds: the
// base URL's own, then Query, then the paging parameters set, each
// replacing pairs of the same name.
func (s *Source[T]) firstQuery(set ...string) string {
	raw := s.base.RawQuery
	var names []string
	for k := range s.query {
		names = append(names, k)
	}
	slices.Sort(names)
	var drop []string
	drop = append(drop, names...)
	for i := 0; i+1 < len(set); i += 2 {
		drop = append(drop, set[i])
	}
	raw = removeParams(raw, drop...)
	for _, k := range names {
		if slices.Contains(set, k) && indexEven(set, k) {
			continue
		}
		for _, v := range s.query[k] {
			raw = addParam(raw, k, v)
		}
	}
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] != "" {
			raw = addParam(raw, set[i], set[i+1])
		}
	}
	return raw
}

func indexEven(set []string, k string) bool {
	for i := 0; i < len(set); i += 2 {
		if set[i] == k {
			return true
		}
	}
	return false
}

func joinRaw(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}

func orDefault(name, def string) string {
	if name == "" {
		return def
	}
	return name
}

func size(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// requestURL returns the URL of the page at c.
func (s *Source[T]) requestURL(c paginate.Cursor) (*url.URL, error) {
	u := *s.base
	switch pg := s.e.Paging.(type) {
	case OffsetPaging:
		u.RawQuery = s.firstQuery(orDefault(pg.Offset, "offset"), strconv.FormatInt(c.Offset, 10), orDefault(pg.Limit, "limit"), size(c.Limit))
	case PagePaging:
		u.RawQuery = s.firstQuery(orDefault(pg.Page, "page"), strconv.FormatInt(c.Page, 10), orDefault(pg.Size, "per_page"), size(c.Limit))
	case CursorPaging:
		u.RawQuery = s.firstQuery(orDefault(pg.Param, "cursor"), c.Token, orDefault(pg.Limit, "limit"), size(c.Limit))
	case KeysetPaging:
		u.RawQuery = s.firstQuery(pg.Param, c.Key, orDefault(pg.Limit, "limit"), size(c.Limit))
	case NextURLPaging:
		return s.nextRequest(c, orDefault(pg.Limit, "limit"), pg.Carry)
	case LinkPaging:
		return s.nextRequest(c, orDefault(pg.Limit, "limit"), pg.Carry)
	}
	return &u, nil
}

// nextRequest returns the URL of a next-URL page: the first request, or
// the next URL as the server gave it (with Carry, plus the first
// request's parameters it lacks).
func (s *Source[T]) nextRequest(c paginate.Cursor, limit string, carry bool) (*url.URL, error) {
	first := *s.base
	first.RawQuery = s.firstQuery(limit, size(c.Limit))
	if c.Token == "" {
		return &first, nil
	}
	u, err := resolveNext(c.Token, &first)
	if err != nil {
		return nil, err
	}
	if carry {
		for pair := range strings.SplitSeq(first.RawQuery, "&") {
			if pair != "" && !hasParam(u.RawQuery, paramName(pair)) {
				u.RawQuery = joinRaw(u.RawQuery, pair)
			}
		}
	}
	return u, nil
}

// Fetch fetches and decodes the page at c.
func (s *Source[T]) Fetch(ctx context.Context, c paginate.Cursor) (paginate.Page[T], error) {
	u, err := s.requestURL(c)
	if err != nil {
		return paginate.Page[T]{}, fmt.Errorf("rest: %w", err)
	}
	maxItems := s.client.MaxItems
	if maxItems <= 0 {
		maxItems = DefaultMaxItems
	}
	hint := c.Limit
	if hint <= 0 {
		hint = s.e.PageSize
	}
	var (
		items []T
		m     meta
	)
	r := request{url: u, header: s.header, auth: s.auth, trusted: s.trusted, decode: func(body []byte) error {
		var err error
		items, m, err = decodePage[T](body, &s.layout, s.fields, maxItems, hint, s.plan)
		return err
	}, pooled: true}
	resp, err := s.client.do(ctx, &r)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	pg := paginate.Page[T]{Items: items}
	err = s.read(&pg, c, resp, m)
	// The records and the fields read hold copies: the body can go.
	releaseBody(resp.Body)
	if err != nil {
		return paginate.Page[T]{}, fmt.Errorf("rest: GET %s: %w", safeURL(s.shown(u)), err)
	}
	return pg, nil
}

// shown is u as cursors, logs and errors may show it: without the key
// of an APIKeyQuery.
func (s *Source[T]) shown(u *url.URL) string {
	if qa, ok := s.auth.(*queryAuth); ok {
		v := *u
		v.RawQuery = removeParams(v.RawQuery, qa.param)
		return v.String()
	}
	return u.String()
}

// read fills in what the response says about the next page.
func (s *Source[T]) read(pg *paginate.Page[T], c paginate.Cursor, resp *Response, m meta) error {
	field := func(i int) (string, error) {
		if i == 0 {
			return "", nil
		}
		v, err := scalar(m.values[i-1])
		if err != nil {
			return "", fmt.Errorf("field %q: %w", s.fields[i-1], err)
		}
		return v, nil
	}
	flag := func(i int, invert bool) (paginate.Flag, error) {
		v, err := field(i)
		switch {
		case err != nil || v == "":
			return paginate.Unset, err
		case v == "true":
			return paginate.FlagOf(!invert), nil
		case v == "false":
			return paginate.FlagOf(invert), nil
		}
		return paginate.Unset, fmt.Errorf("field %q is %s, not a boolean", s.fields[i-1], v)
	}
	var err error
	if pg.HasMore, err = flag(s.fHasMore, false); err != nil {
		return err
	}
	if pg.HasMore == paginate.Unset {
		if pg.HasMore, err = flag(s.fDone, true); err != nil {
			return err
		}
	}
	if v, err := field(s.fTotal); err != nil {
		return err
	} else if v != "" {
		if pg.Total, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("field %q is %s, not an integer", s.e.Total, v)
		}
	}
	if v, err := field(s.fTotalPages); err != nil {
		return err
	} else if v != "" && pg.HasMore == paginate.Unset {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("field %q is %s, not an integer", s.e.TotalPages, v)
		}
		if s.strategy.Kind() == paginate.KindPageNumber {
			pg.HasMore = paginate.FlagOf(c.Page-int64(s.strategy.First())+1 < n)
		}
	}
	switch p := s.e.Paging.(type) {
	case CursorPaging:
		if pg.Next, err = field(s.fNext); err != nil {
			return err
		}
	case NextURLPaging, LinkPaging:
		next := ""
		if _, ok := p.(LinkPaging); ok {
			next, err = NextLink(resp.Header, resp.URL)
		} else {
			next, err = field(s.fNext)
		}
		if err != nil {
			return err
		}
		pg.Self = s.shown(resp.URL)
		if next != "" {
			u, err := resolveNext(next, resp.URL)
			if err != nil {
				return err
			}
			pg.Next = s.shown(u)
		}
	case KeysetPaging:
		// The position is the key of the last record that has one, as
		// paginate.Keyset documents: a record missing its key is yielded
		// but cannot be paged after.
		for i := len(pg.Items) - 1; i >= 0 && pg.Key == ""; i-- {
			rec := m.record(resp.Body, i)
			k, err := scalar(valueAt(rec, p.Field))
			if err != nil {
				return fmt.Errorf("keyset field %q: %w", p.Field, err)
			}
			if k != "" && p.Tie != "" {
				t, err := scalar(valueAt(rec, p.Tie))
				if err != nil {
					return fmt.Errorf("keyset field %q: %w", p.Tie, err)
				}
				if t == "" {
					continue
				}
				k += "," + t
			}
			pg.Key = k
		}
	}
	return nil
}
