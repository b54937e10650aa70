package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/connectkit/connector/internal/jsonstruct"
	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/paginate/paginatetest"
)

// recorder is a server that answers with fn and records each request's
// URL (as sent) and headers.
type recorder struct {
	mu   sync.Mutex
	urls []string
	hdrs []http.Header
	srv  *httptest.Server
}

func record(t *testing.T, fn func(w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rc := &recorder{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.urls = append(rc.urls, r.URL.RequestURI())
		rc.hdrs = append(rc.hdrs, r.Header.Clone())
		rc.mu.Unlock()
		fn(w, r)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *recorder) requests() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.urls...)
}

func (rc *recorder) headers() []http.Header {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]http.Header(nil), rc.hdrs...)
}

func drain[T any](t *testing.T, p *paginate.Paginator[T]) ([]T, []error) {
	t.Helper()
	var items []T
	var errs []error
	for it, err := range p.All(context.Background()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, it)
	}
	return items, errs
}

func mustSource[T any](t *testing.T, e Endpoint) *Source[T] {
	t.Helper()
	if e.Client == nil {
		e.Client = quietClient()
	}
	s, err := NewSource[T](e)
	if err != nil {
		t.Fatalf("NewSource(%+v) = %v", e, err)
	}
	return s
}

func quietClient() *Client {
	return &Client{Retry: RetryPolicy{MaxAttempts: 2, Base: time.Millisecond}, Logger: slog.New(slog.DiscardHandler)}
}

// Issue 11: the base URL's raw query survives byte for byte, ';' and
// malformed escapes included.
func TestRawQueryKept(t *testing.T) {
	rc := record(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `[]`) })
	for _, q := range []string{"$expand=members($select=id;$top=2)", "q=100%&a=1", "filter=a%zzb"} {
		s := mustSource[int](t, Endpoint{BaseURL: rc.srv.URL + "/groups?" + q, Paging: OffsetPaging{}, PageSize: 2})
		if _, errs := drain(t, s.Paginator()); len(errs) != 0 {
			t.Fatalf("All() = %v", errs)
		}
		reqs := rc.requests()
		if got, want := reqs[len(reqs)-1], "/groups?"+q+"&offset=0&limit=2"; got != want {
			t.Errorf("request for base query %q = %q, want %q", q, got, want)
		}
	}
}

// Issue 11: next URLs are followed as given (Shopify: page_info without
// the filters); Carry adds them (HubSpot-like); relative next URLs resolve
// against the request URL; a raw OData next URL is kept.
func TestNextURLs(t *testing.T) {
	tests := []struct {
		name  string
		next  string // the next link of page 1, relative to the server
		carry bool
		want  string // page 2's request
	}{
		{"Shopify: params not carried", "/products.json?page_info=abc&limit=2", false, "/products.json?page_info=abc&limit=2"},
		{"carried where missing", "/products.json?after=abc", true, "/products.json?after=abc&status=active&limit=2"},
		{"relative query", "?page_info=p2", false, "/products.json?page_info=p2"},
		{"OData raw query kept", "/products.json?$expand=members($select=id;$top=2)&$skiptoken=X%2", false, "/products.json?$expand=members($select=id;$top=2)&$skiptoken=X%2"},
		{"token passed back verbatim", "/products.json?page_info=eyJsYXN0X2lkIjo0fQ%3D%3D&x=a+b", false, "/products.json?page_info=eyJsYXN0X2lkIjo0fQ%3D%3D&x=a+b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := record(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("status") == "active" && r.URL.Query().Get("page_info") == "" && r.URL.Query().Get("after") == "" {
					w.Header().Add("Link", `<`+tt.next+`>; rel="next"`)
				}
				fmt.Fprint(w, `[1]`)
			})
			s := mustSource[int](t, Endpoint{BaseURL: rc.srv.URL, Path: "/products.json", Query: url.Values{"status": {"active"}},
				Paging: LinkPaging{Carry: tt.carry}, PageSize: 2})
			got, errs := drain(t, s.Paginator())
			if len(errs) != 0 || len(got) != 2 {
				t.Fatalf("All() = %v, %v; want 2 items", got, errs)
			}
			want := []string{"/products.json?status=active&limit=2", tt.want}
			if diff := cmp.Diff(want, rc.requests()); diff != "" {
				t.Errorf("requests mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBadNextURL(t *testing.T) {
	for _, next := range []string{"ftp://x/y", "http://[::1", "/a?b=c d"} {
		rc := record(t, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"items":[1],"next":%q}`, next)
		})
		s := mustSource[int](t, Endpoint{BaseURL: rc.srv.URL, Records: "items", Paging: NextURLPaging{Next: "next"}})
		_, errs := drain(t, s.Paginator())
		if len(errs) != 1 || !errors.Is(errs[0], ErrBadURL) {
			t.Errorf("All() with next URL %q: errors %v, want one ErrBadURL", next, errs)
		}
	}
}

// Issue 11: a single page whose next link is its own URL, and a cycle back
// to the first page, yield page 1 once, then ErrCursorLoop.
func TestFirstPageInLoopDetection(t *testing.T) {
	tests := []struct {
		name string
		next func(page int) string
		want []int
	}{
		{"page 1 links to itself", func(int) string { return "/items?limit=2" }, []int{1, 2}},
		{"cycle back to page 1", func(p int) string {
			if p == 2 {
				return "/items?limit=2"
			}
			return "/items?page=2"
		}, []int{1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := record(t, func(w http.ResponseWriter, r *http.Request) {
				p := 1
				if r.URL.Query().Get("page") == "2" {
					p = 2
				}
				w.Header().Set("Link", "<"+tt.next(p)+`>; rel="next"`)
				fmt.Fprintf(w, `[%d,%d]`, 2*p-1, 2*p)
			})
			s := mustSource[int](t, Endpoint{BaseURL: rc.srv.URL, Path: "/items", Paging: LinkPaging{}, PageSize: 2})
			got, errs := drain(t, s.Paginator())
			if len(errs) != 1 || !errors.Is(errs[0], paginate.ErrCursorLoop) {
				t.Fatalf("All() errors = %v, want one ErrCursorLoop", errs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("All() items mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Empty pages with a next token and short pages are not the end; has_more
// without a cursor is ErrNoNext.
func TestBodyCursorEnds(t *testing.T) {
	pages := map[string]string{
		"":   `{"data":[1,2],"next":"b"}`,
		"b":  `{"data":[],"next":"c"}`,  // empty, with a token
		"c":  `{"data":[3],"next":"d"}`, // short
		"d":  `{"data":[4],"next":null}`,
		"hm": `{"data":[5],"has_more":true}`,
	}
	rc := record(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, pages[r.URL.Query().Get("cursor")]) })
	s := mustSource[int](t, Endpoint{BaseURL: rc.srv.URL, Records: "data", Paging: CursorPaging{Next: "next"}, PageSize: 2, HasMore: "has_more"})
	got, errs := drain(t, s.Paginator())
	if len(errs) != 0 || !cmp.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("All() = %v, %v; want [1 2 3 4]", got, errs)
	}
	_, errs = drain(t, s.Paginator(paginate.StartAt(paginate.Cursor{Token: "hm"})))
	if len(errs) != 1 || !errors.Is(errs[0], paginate.ErrNoNext) {
		t.Errorf("All() from a has_more page without a cursor: errors %v, want ErrNoNext", errs)
	}
}

// Issue 11 and 15: credentials stay on the base URL's origin: not to
// another host named by a next URL, not to another port by a redirect.
func TestCredentialsStayOnOrigin(t *testing.T) {
	secretHeaders := []string{"Authorization", "X-Api-Key", "Cookie"}
	other := record(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"items":[3],"next":null}`) })
	api := record(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, other.srv.URL+"/elsewhere", http.StatusFound)
		default:
			fmt.Fprintf(w, `{"items":[1],"next":%q}`, other.srv.URL+"/items?page=2")
		}
	})
	for _, auth := range []Auth{Bearer("t0ken"), APIKeyHeader("X-Api-Key", "k3y"), APIKeyQuery("api_key", "k3y")} {
		t.Run(fmt.Sprint(auth), func(t *testing.T) {
			n0 := len(other.requests())
			c := quietClient()
			c.Header = http.Header{"Cookie": {"session=s3ss"}}
			s := mustSource[int](t, Endpoint{Client: c, BaseURL: api.srv.URL, Auth: auth, Records: "items", Paging: NextURLPaging{Next: "next"}})
			got, errs := drain(t, s.Paginator())
			if len(errs) != 0 || !cmp.Equal(got, []int{1, 3}) {
				t.Fatalf("All() = %v, %v", got, errs)
			}
			c.BaseURL, c.Auth = api.srv.URL, auth
			if _, err := c.Get(context.Background(), "/moved"); err != nil {
				t.Fatalf("Get(/moved) = %v", err)
			}
			if h := api.headers()[len(api.headers())-1]; h.Get("Cookie") == "" {
				t.Errorf("the API's own origin got no Cookie header")
			}
			for i, h := range other.headers()[n0:] {
				for _, name := range secretHeaders {
					if h.Get(name) != "" {
						t.Errorf("request %d to the other origin carried %s", i+1, name)
					}
				}
			}
			for _, u := range other.requests()[n0:] {
				if strings.Contains(u, "k3y") {
					t.Errorf("request to the other origin %q carried the API key", u)
				}
			}
			// Allowed, the other host gets them.
			c.AllowHosts = []string{other.srv.URL}
			if _, err := c.Get(context.Background(), other.srv.URL+"/ok"); err != nil {
				t.Fatal(err)
			}
			if h := other.headers()[len(other.headers())-1]; h.Get("Cookie") == "" {
				t.Errorf("an allowed host got no credentials: %v", h)
			}
			c.AllowHosts = nil
		})
	}
}

// Issue 15: a redirect loop is one failed attempt, not five.
func TestRedirectLoopNotRetried(t *testing.T) {
	srv, sc := serve(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.String(), http.StatusFound) })
	c, _, _ := testClient(nil)
	_, err := c.Get(context.Background(), srv.URL+"/loop")
	if err == nil || sc.hits() > maxRedirects || errors.Is(err, ErrRetriesExhausted) {
		t.Errorf("Get(redirect loop) = %v after %d requests, want one failed attempt (at most %d requests)", err, sc.hits(), maxRedirects)
	}
	// A chain longer than 10 stops too, without a retry.
	n := 0
	srv2, sc2 := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		http.Redirect(w, r, "/r"+strconv.Itoa(n), http.StatusFound)
	})
	if _, err := c.Get(context.Background(), srv2.URL); err == nil || sc2.hits() > maxRedirects+1 {
		t.Errorf("Get(endless redirects) = %v after %d requests, want an error after at most %d", err, sc2.hits(), maxRedirects+1)
	}
}

// Issue 15: a cursor never holds the query API key, although the server
// echoes it in its next URLs, and the key goes with every request.
func TestAPIKeyNotInCursor(t *testing.T) {
	rc := record(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hapikey") != "s3cret" {
			w.WriteHeader(401)
			return
		}
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", "</items?page=2&hapikey=s3cret>; rel=next")
		}
		fmt.Fprint(w, `[1]`)
	})
	s := mustSource[int](t, Endpoint{BaseURL: rc.srv.URL, Path: "/items", Auth: APIKeyQuery("hapikey", "s3cret"), Paging: LinkPaging{}})
	p := s.Paginator()
	n := 0
	for pg, err := range p.Pages(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n += len(pg.Items)
		b, _ := json.Marshal(p.Cursor())
		if strings.Contains(string(b)+pg.Next+pg.Self, "s3cret") {
			t.Errorf("cursor %s / page %q %q holds the key", b, pg.Next, pg.Self)
		}
	}
	if n != 2 {
		t.Errorf("items = %d, want 2", n)
	}
}

// Issue 11: a 403 with Retry-After or an exhausted rate limit waits and
// retries; a plain 403 does not.
func TestRateLimitRetries(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		status  int
		headers []string
		retried bool
		wait    time.Duration
	}{
		{"403 Retry-After", 403, []string{"Retry-After", "7"}, true, 7 * time.Second},
		{"403 X-RateLimit exhausted", 403, []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Add(40*time.Second).Unix(), 10)}, true, 40 * time.Second},
		{"403 permission denied", 403, []string{"X-RateLimit-Remaining", "4999", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+60, 10)}, false, 0},
		{"429 RateLimit-Reset", 429, []string{"RateLimit-Remaining", "0", "RateLimit-Reset", "12"}, true, 12 * time.Second},
		{"429 IETF RateLimit t=", 429, []string{"RateLimit", `"default";r=0;t=9`}, true, 9 * time.Second},
		{"429 reset capped", 429, []string{"RateLimit-Remaining", "0", "RateLimit-Reset", "86400"}, true, DefaultMaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sc := serve(t, reply(tt.status, `{"message":"slow down"}`, tt.headers...), ok)
			c, sl, _ := testClient(srv.Client())
			c.now = func() time.Time { return now }
			_, err := c.Get(context.Background(), srv.URL)
			if got := err == nil; got != tt.retried {
				t.Fatalf("Get(%s, 200) = %v after %d requests, want retried %t", tt.name, err, sc.hits(), tt.retried)
			}
			if !tt.retried {
				return
			}
			if w := sl.recorded(); len(w) == 0 || w[len(w)-1] < tt.wait {
				t.Errorf("Get(%s) waited %v, want at least %v", tt.name, w, tt.wait)
			}
		})
	}
}

// Issue 11: when the rate limit is used up, the next request waits for its
// reset instead of being refused.
func TestPacing(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv, _ := serve(t, reply(200, `{}`, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+30, 10)), ok)
	c, sl, _ := testClient(srv.Client())
	c.now = func() time.Time { return now }
	for range 2 {
		if _, err := c.Get(context.Background(), srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if w := sl.recorded(); len(w) != 1 || w[0] != 30*time.Second {
		t.Errorf("waits = %v, want one of 30s before the second request", w)
	}
}

// A classifier sees 200 bodies and can fail, retry or accept.
func TestClassify(t *testing.T) {
	srv, sc := serve(t, reply(200, `{"ok":false,"error":"ratelimited"}`), reply(200, `{"ok":false,"error":"invalid_auth"}`))
	c, _, _ := testClient(srv.Client())
	c.Classify = func(r Reply, d Decision) Decision {
		if strings.Contains(string(r.Body), `"ok":false`) {
			return Decision{Err: fmt.Errorf("slack said no: %s", r.Body), Retry: strings.Contains(string(r.Body), "ratelimited")}
		}
		return d
	}
	_, err := c.Get(context.Background(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || sc.hits() != 2 {
		t.Errorf("Get(ratelimited, invalid_auth) = %v after %d requests, want invalid_auth after 2", err, sc.hits())
	}
}

// Issue 15: a page's records are bounded by count as well as bytes.
func TestMaxItems(t *testing.T) {
	body := `{"data":[` + strings.Repeat(`{},`, DefaultMaxItems) + `{}]}`
	srv, sc := serve(t, reply(200, body))
	s := mustSource[struct{}](t, Endpoint{Client: &Client{HTTP: srv.Client(), Logger: slog.New(slog.DiscardHandler)}, BaseURL: srv.URL, Records: "data", Paging: OffsetPaging{}})
	_, errs := drain(t, s.Paginator())
	if len(errs) != 1 || !errors.Is(errs[0], ErrTooManyItems) || !strings.Contains(errs[0].Error(), "MaxItems") || sc.hits() != 1 {
		t.Errorf("All() of %d items: errors %v after %d requests, want one ErrTooManyItems naming MaxItems, no retry", DefaultMaxItems+1, errs, sc.hits())
	}
	s = mustSource[struct{}](t, Endpoint{Client: &Client{HTTP: srv.Client(), MaxItems: 3}, BaseURL: srv.URL, Records: "data", Paging: OffsetPaging{}})
	if _, errs := drain(t, s.Paginator()); len(errs) != 1 || !errors.Is(errs[0], ErrTooManyItems) {
		t.Errorf("All() with MaxItems 3: errors %v, want ErrTooManyItems", errs)
	}
}

// The records path, metadata paths and malformed bodies, decoded from the
// token stream and by a jsonstruct plan.
func TestDecodePage(t *testing.T) {
	type rec struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	tests := []struct {
		name, body, records string
		fields              []string
		want                []rec
		values              []string
		wantErr             error
	}{
		{"nested path", `{"meta":{"x":1},"result":{"items":[{"id":1,"NAME":"a"},{"id":2}],"more":true},"z":[1]}`, "result.items", []string{"result.more"}, []rec{{1, "a"}, {2, ""}}, []string{"true"}, nil},
		{"top-level array", `[{"id":3}]`, "", nil, []rec{{3, ""}}, nil, nil},
		{"null records", `{"data":null,"next":"x"}`, "data", []string{"next"}, nil, []string{`"x"`}, nil},
		{"missing records", `{"items":[]}`, "data", nil, nil, nil, ErrNoRecords},
		{"records not an array", `{"data":{}}`, "data", nil, nil, nil, ErrNoRecords},
		{"truncated", `{"data":[{"id":1}`, "data", nil, nil, nil, ErrMalformed},
		{"trailing garbage", `{"data":[]} <html>`, "data", nil, nil, nil, ErrMalformed},
		{"two values", `[] []`, "", nil, nil, nil, ErrMalformed},
		{"escapes and unknown members", `[{"extra":{"id":9,"a":[1,"]"]},"name":"a\"\u00e9","id":4,"x":null}]`, "", nil, []rec{{4, "a\"é"}}, nil, nil},
		{"null record", `[null,{"id":5,"name":null}]`, "", nil, []rec{{}, {5, ""}}, nil, nil},
		{"wrong type", `{"data":[{"id":1},{"id":"2"}]}`, "data", nil, nil, nil, errWrongType},
		{"fraction into an int", `{"data":[{"id":1.5}]}`, "data", nil, nil, nil, errWrongType},
		{"record not an object", `{"data":[7]}`, "data", nil, nil, nil, errWrongType},
	}
	plans := []struct {
		name string
		plan *jsonstruct.Plan
	}{{"tokens", nil}, {"plan", jsonstruct.For(reflect.TypeFor[rec](), decodeOptions)}}
	if plans[1].plan == nil {
		t.Fatal("jsonstruct.For(rec) = nil, want a plan")
	}
	for _, tt := range tests {
		for _, p := range plans {
			t.Run(tt.name+"/"+p.name, func(t *testing.T) {
				lo := &layout{records: splitPath(tt.records), fields: map[string]int{}}
				for i, f := range tt.fields {
					lo.fields[f] = i + 1
				}
				got, m, err := decodePage[rec]([]byte(tt.body), lo, tt.fields, 10, 0, p.plan)
				switch {
				case tt.wantErr == ErrMalformed:
					if !isSyntaxError(err) {
						t.Errorf("decodePage(%s) = %v, want a syntax error", tt.body, err)
					}
					return
				case tt.wantErr == errWrongType:
					var se *jsonv2.SemanticError
					if !errors.As(err, &se) {
						t.Errorf("decodePage(%s) = %v, want a json.SemanticError", tt.body, err)
					}
					return
				case tt.wantErr != nil:
					if !errors.Is(err, tt.wantErr) {
						t.Errorf("decodePage(%s) = %v, want %v", tt.body, err, tt.wantErr)
					}
					return
				case err != nil:
					t.Fatalf("decodePage(%s) = %v", tt.body, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("decodePage(%s) records mismatch (-want +got):\n%s", tt.body, diff)
				}
				for i, v := range tt.values {
					if string(m.values[i]) != v {
						t.Errorf("decodePage(%s) field %s = %s, want %s", tt.body, tt.fields[i], m.values[i], v)
					}
				}
			})
		}
	}
}

// errWrongType stands in the table of TestDecodePage for json's error for
// a value of the wrong JSON type.
var errWrongType = errors.New("wrong type")

// Secrets never reach a log or an error message, whatever fails.
func TestSecretsNeverShown(t *testing.T) {
	const sec = "SECRET-v4lue"
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
	}))
	defer tokenSrv.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "503":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "bad":
			fmt.Fprint(w, `{"items":[1`)
		default:
			fmt.Fprintf(w, `{"items":[1],"next":"%s"}`, "ftp://x/?api_key="+sec)
		}
	}))
	defer api.Close()
	auths := []Auth{
		Bearer(sec), Basic("user", sec), APIKeyHeader("X-Api-Key", sec), APIKeyQuery("api_key", sec),
		ClientCredentials(&clientcredentials.Config{ClientID: "id", ClientSecret: sec, TokenURL: tokenSrv.URL + "/token?client_secret=" + sec}, tokenSrv.Client()),
		RefreshToken(&oauth2.Config{ClientID: "id", ClientSecret: sec, Endpoint: oauth2.Endpoint{TokenURL: tokenSrv.URL + "/token"}}, sec, tokenSrv.Client()),
	}
	for _, auth := range auths {
		for _, cs := range []string{"503", "bad", "next"} {
			logs := &syncBuffer{}
			c := &Client{Retry: RetryPolicy{MaxAttempts: 2, Base: time.Millisecond}, Logger: slog.New(slog.NewTextHandler(logs, nil))}
			s := mustSource[int](t, Endpoint{Client: c, BaseURL: api.URL + "?case=" + cs, Auth: auth, Records: "items", Paging: NextURLPaging{Next: "next"}})
			_, errs := drain(t, s.Paginator())
			if len(errs) != 1 {
				t.Errorf("%v, case %s: errors %v, want one", auth, cs, errs)
				continue
			}
			shown := errs[0].Error() + logs.String() + fmt.Sprintf("%v %+v %#v", auth, auth, auth)
			if b, err := json.Marshal(auth); err == nil {
				shown += string(b)
			}
			if strings.Contains(shown, sec) {
				t.Errorf("%v, case %s: a secret is shown in %q", auth, cs, shown)
			}
		}
	}
}

// The REST source keeps the paginate contract for every paging kind over
// the mock API.
func TestConformanceOverMockAPI(t *testing.T) {
	srv := mockapi.NewServer(mockapi.Options{Users: 23, TiesPerTimestamp: 4, DefaultPageSize: 7})
	defer srv.Close()
	want := srv.Users()
	c := &Client{HTTP: srv.Client()}
	tests := map[string]Endpoint{
		"offset": {Path: mockapi.PathOffset, Records: "data", Paging: OffsetPaging{}, PageSize: 10, Total: "total", HasMore: "has_more"},
		"pages":  {Path: mockapi.PathPages, Records: "data", Paging: PagePaging{}, PageSize: 10, TotalPages: "total_pages"},
		"cursor": {Path: mockapi.PathCursor, Records: "data", Paging: CursorPaging{Next: "next_cursor"}, PageSize: 10},
		"link":   {Path: mockapi.PathLink, Paging: LinkPaging{}},
		"keyset": {Path: mockapi.PathKeyset, Records: "data", Paging: KeysetPaging{Param: "after", Field: "updatedAt", Tie: "id"}, PageSize: 10, HasMore: "has_more"},
	}
	for name, e := range tests {
		t.Run(name, func(t *testing.T) {
			e.Client, e.BaseURL = c, srv.URL
			s := mustSource[mockapi.User](t, e)
			paginatetest.RunOptions(t, s, s.Strategy(), want, paginatetest.Options{MaxResumePages: 30})
		})
	}
}

// A keyset page whose last record lacks the key pages after the last
// record that has one.
func TestKeysetKeyFromLastRecordWithOne(t *testing.T) {
	rc := record(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("starting_after") {
		case "":
			fmt.Fprint(w, `{"data":[{"id":"a"},{"id":"b"},{"name":"no id"}],"has_more":true}`)
		case "b":
			fmt.Fprint(w, `{"data":[{"id":"c"}],"has_more":false}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	type obj struct{ ID, Name string }
	s := mustSource[obj](t, Endpoint{BaseURL: rc.srv.URL, Records: "data", HasMore: "has_more", Paging: KeysetPaging{Param: "starting_after", Field: "id"}, PageSize: 3})
	got, errs := drain(t, s.Paginator())
	if len(errs) != 0 || len(got) != 4 {
		t.Errorf("All() = %v, %v; want 4 objects", got, errs)
	}
}

// TestSourceBodyReused fetches pages whose bodies share a buffer: the
// records of a page keep their values, raw JSON included, after the next
// pages are read into the same buffer.
func TestSourceBodyReused(t *testing.T) {
	type rec struct {
		ID   string          `json:"id"`
		Raw  json.RawMessage `json:"raw"`
		Blob []byte          `json:"blob"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		if off >= 6 {
			fmt.Fprint(w, `{"data":[]}`)
			return
		}
		fmt.Fprintf(w, `{"data":[{"id":"a%d","raw":{"n":%d},"blob":"AQI="},{"id":"b%d","raw":[%d],"blob":"AwQ="}]}`, off, off, off, off)
	}))
	defer srv.Close()
	s := mustSource[rec](t, Endpoint{BaseURL: srv.URL, Paging: OffsetPaging{}, PageSize: 2, Records: "data"})
	got, errs := drain(t, s.Paginator())
	if len(errs) != 0 {
		t.Fatalf("All() = %v", errs)
	}
	var want []rec
	for off := 0; off < 6; off += 2 {
		want = append(want,
			rec{ID: fmt.Sprintf("a%d", off), Raw: json.RawMessage(fmt.Sprintf(`{"n":%d}`, off)), Blob: []byte{1, 2}},
			rec{ID: fmt.Sprintf("b%d", off), Raw: json.RawMessage(fmt.Sprintf(`[%d]`, off)), Blob: []byte{3, 4}})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}
