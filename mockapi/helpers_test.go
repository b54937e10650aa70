package mockapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/connectkit/connector/mockapi"
)

// start starts a server that is closed, and checked for leaked goroutines,
// when the test ends.
func start(t *testing.T, opts mockapi.Options) *mockapi.Server {
	t.Helper()
	srv := mockapi.NewServer(opts)
	t.Cleanup(func() {
		srv.Close()
		goleak.VerifyNone(t)
	})
	return srv
}

// get fetches u and returns the response, whose body is already read and
// closed, and the body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	return resp, body
}

// getJSON fetches u, requires a 200, and decodes the body into v.
func getJSON(t *testing.T, c *http.Client, u string, v any) *http.Response {
	t.Helper()
	resp, err := fetchJSON(c, u, v)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// fetchJSON is getJSON returning an error, for use off the test goroutine.
func fetchJSON(c *http.Client, u string, v any) (*http.Response, error) {
	resp, err := c.Get(u)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d, want 200; body %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("GET %s: decode %s: %w", u, body, err)
	}
	return resp, nil
}

// maxPages bounds every walk, so a server that never ends fails the test
// instead of hanging it.
const maxPages = 10_000

// walker pages through one endpoint of srv to the end with the query
// parameters q (filters and page size), and returns every user served.
type walker func(srv *mockapi.Server, q url.Values) ([]mockapi.User, error)

// walkers are small hand-written paging loops, one per endpoint.
var walkers = []struct {
	name string
	walk walker
}{
	{"offset", walkOffset},
	{"pages", walkPages},
	{"cursor", walkCursor},
	{"link", walkLink},
	{"keyset", walkKeyset},
}

// mustWalk runs w and fails the test on error.
func mustWalk(t *testing.T, w walker, srv *mockapi.Server, q url.Values) []mockapi.User {
	t.Helper()
	users, err := w(srv, q)
	if err != nil {
		t.Fatal(err)
	}
	return users
}

var errNoEnd = fmt.Errorf("walk did not end after %d pages", maxPages)

// with returns a copy of q with the pairs kv set.
func with(q url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func walkOffset(srv *mockapi.Server, q url.Values) ([]mockapi.User, error) {
	var all []mockapi.User
	for range maxPages {
		var p mockapi.OffsetResponse
		if _, err := fetchJSON(srv.Client(), srv.URL+mockapi.PathOffset+"?"+with(q, "offset", strconv.Itoa(len(all))).Encode(), &p); err != nil {
			return all, err
		}
		all = append(all, p.Data...)
		if !p.HasMore {
			return all, nil
		}
	}
	return all, errNoEnd
}

func walkPages(srv *mockapi.Server, q url.Values) ([]mockapi.User, error) {
	var all []mockapi.User
	for page := 1; page <= maxPages; page++ {
		var p mockapi.PageResponse
		if _, err := fetchJSON(srv.Client(), srv.URL+mockapi.PathPages+"?"+with(q, "page", strconv.Itoa(page)).Encode(), &p); err != nil {
			return all, err
		}
		all = append(all, p.Data...)
		if !p.HasMore {
			return all, nil
		}
	}
	return all, errNoEnd
}

func walkCursor(srv *mockapi.Server, q url.Values) ([]mockapi.User, error) {
	var all []mockapi.User
	cursor := ""
	for range maxPages {
		var p mockapi.CursorResponse
		if _, err := fetchJSON(srv.Client(), srv.URL+mockapi.PathCursor+"?"+with(q, "cursor", cursor).Encode(), &p); err != nil {
			return all, err
		}
		all = append(all, p.Data...)
		if p.NextCursor == "" {
			return all, nil
		}
		cursor = p.NextCursor
	}
	return all, errNoEnd
}

func walkLink(srv *mockapi.Server, q url.Values) ([]mockapi.User, error) {
	var all []mockapi.User
	next := srv.URL + mockapi.PathLink + "?" + q.Encode()
	for range maxPages {
		var data []mockapi.User
		resp, err := fetchJSON(srv.Client(), next, &data)
		if err != nil {
			return all, err
		}
		all = append(all, data...)
		links := parseLinks(resp.Header.Get("Link"))
		if links["next"] == "" {
			return all, nil
		}
		if next, err = resolve(srv.URL, links["next"]); err != nil {
			return all, err
		}
	}
	return all, errNoEnd
}

func walkKeyset(srv *mockapi.Server, q url.Values) ([]mockapi.User, error) {
	var all []mockapi.User
	after := ""
	for range maxPages {
		var p mockapi.KeysetResponse
		if _, err := fetchJSON(srv.Client(), srv.URL+mockapi.PathKeyset+"?"+with(q, "after", after).Encode(), &p); err != nil {
			return all, err
		}
		all = append(all, p.Data...)
		if !p.HasMore {
			return all, nil
		}
		if len(p.Data) == 0 {
			return all, fmt.Errorf("keyset page with has_more=true and no data")
		}
		after = mockapi.Key(p.Data[len(p.Data)-1])
	}
	return all, errNoEnd
}

// parseLinks parses an RFC 8288 Link header value of the simple form the
// server writes: <url>; rel="name", <url>; rel="name".
func parseLinks(h string) map[string]string {
	links := map[string]string{}
	for part := range strings.SplitSeq(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "rel" {
				links[strings.Trim(v, `"`)] = target[1 : len(target)-1]
			}
		}
	}
	return links
}

// resolve resolves the link ref against base.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("parse link %q: %w", ref, err)
	}
	return b.ResolveReference(r).String(), nil
}
