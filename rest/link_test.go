package rest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/rest"
)

func TestParseLinks(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []rest.Link
	}{
		{
			name:   "GitHub style, two links in one value",
			values: []string{`<https://api.github.com/repos/x/y/issues?page=2>; rel="next", <https://api.github.com/repos/x/y/issues?page=5>; rel="last"`},
			want: []rest.Link{
				{URL: "https://api.github.com/repos/x/y/issues?page=2", Rel: []string{"next"}},
				{URL: "https://api.github.com/repos/x/y/issues?page=5", Rel: []string{"last"}},
			},
		},
		{
			name:   "links across several header values",
			values: []string{`</a?p=1>; rel=prev`, `</a?p=3>; rel=next`},
			want: []rest.Link{
				{URL: "/a?p=1", Rel: []string{"prev"}},
				{URL: "/a?p=3", Rel: []string{"next"}},
			},
		},
		{
			name:   "rel list, unquoted and case-folded",
			values: []string{`<https://x/p3>; REL="Next Last"`},
			want:   []rest.Link{{URL: "https://x/p3", Rel: []string{"next", "last"}}},
		},
		{
			name:   "quoted params with commas, semicolons and escapes",
			values: []string{`<https://x/1>; title="a, b; \"c\""; rel=next, <https://x/2>; rel=last`},
			want: []rest.Link{
				{URL: "https://x/1", Rel: []string{"next"}, Params: map[string]string{"title": `a, b; "c"`}},
				{URL: "https://x/2", Rel: []string{"last"}},
			},
		},
		{
			name:   "URL with commas and semicolons inside the brackets",
			values: []string{`<https://x/a;b?c=1,2>; rel="next"`},
			want:   []rest.Link{{URL: "https://x/a;b?c=1,2", Rel: []string{"next"}}},
		},
		{
			name:   "whitespace everywhere and a param without value",
			values: []string{"  < https://x/1 >  ;  rel = \"next\" ; crossorigin ,"},
			want:   []rest.Link{{URL: "https://x/1", Rel: []string{"next"}, Params: map[string]string{"crossorigin": ""}}},
		},
		{
			name:   "first rel wins, as RFC 8288 says",
			values: []string{`<https://x/1>; rel=next; rel=prev`},
			want:   []rest.Link{{URL: "https://x/1", Rel: []string{"next"}}},
		},
		{
			name:   "malformed elements are skipped",
			values: []string{`garbage, <https://x/ok>; rel=next, <https://x/unterminated; rel=last`},
			want:   []rest.Link{{URL: "https://x/ok", Rel: []string{"next"}}},
		},
		{
			name:   "no header",
			values: nil,
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Link", v)
			}
			got := rest.ParseLinks(h)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseLinks(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestNextLink(t *testing.T) {
	req, _ := url.Parse("https://api.example.com/v1/users?limit=10")
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"absolute", `<https://api.example.com/v1/users?cursor=abc&limit=10>; rel="next"`, "https://api.example.com/v1/users?cursor=abc&limit=10"},
		{"relative path", `</v1/users?cursor=abc&limit=10>; rel="next"`, "https://api.example.com/v1/users?cursor=abc&limit=10"},
		{"relative query", `<?cursor=abc>; rel="next"`, "https://api.example.com/v1/users?cursor=abc"},
		{"next among others", `<https://x/first>; rel=first, <https://x/n>; rel="next last"`, "https://x/n"},
		{"no next", `<https://x/first>; rel=first`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Link": {tt.value}}
			got, err := rest.NextLink(h, req)
			if err != nil || got != tt.want {
				t.Errorf("NextLink(%q) = %q, %v; want %q", tt.value, got, err, tt.want)
			}
		})
	}
	if _, err := rest.NextLink(http.Header{"Link": {"<http://[::1>; rel=next"}}, req); err == nil {
		t.Errorf("NextLink(bad URL) error = nil, want an error")
	}
}

func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{
		`<https://x/2>; rel="next", <https://x/5>; rel="last"`,
		`<a>; title="x\"y, z"; rel=next`,
		`<`, `"`, `<a>;`, `<a>; rel="`, `,,,`, `<a>; x=1;; rel=next`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		links := rest.ParseLinks(http.Header{"Link": {v}})
		for _, l := range links {
			for _, r := range l.Rel {
				if r == "" {
					t.Fatalf("ParseLinks(%q) gave an empty rel in %+v", v, l)
				}
			}
		}
		_, _ = rest.NextLink(http.Header{"Link": {v}}, nil)
	})
}
