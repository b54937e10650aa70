package rest

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/connectkit/connector/internal/redact"
)

// The query of a URL is handled as raw text, split on '&' only: a pair the
// library does not touch keeps its bytes, including ';' (as in OData's
// $expand=members($select=id;$top=2)) and malformed % escapes, which
// url.Values would drop.

// paramName returns the unescaped name of a raw query pair, or the raw
// name when it does not unescape.
func paramName(pair string) string {
	k, _, _ := strings.Cut(pair, "=")
	if n, err := url.QueryUnescape(k); err == nil {
		return n
	}
	return k
}

// hasParam reports whether the raw query holds a pair named name.
func hasParam(raw, name string) bool {
	for pair := range strings.SplitSeq(raw, "&") {
		if pair != "" && paramName(pair) == name {
			return true
		}
	}
	return false
}

// removeParams returns raw without the pairs whose name is in names.
func removeParams(raw string, names ...string) string {
	if raw == "" || len(names) == 0 {
		return raw
	}
	var b strings.Builder
	for pair := range strings.SplitSeq(raw, "&") {
		drop := false
		if pair != "" {
			n := paramName(pair)
			for _, name := range names {
				if n == name {
					drop = true
					break
				}
			}
		}
		if drop {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	return b.String()
}

// addParam appends name=value, escaped, to raw.
func addParam(raw, name, value string) string {
	p := url.QueryEscape(name) + "=" + url.QueryEscape(value)
	if raw == "" {
		return p
	}
	return raw + "&" + p
}

// setParam replaces every pair named name by one name=value at the end.
func setParam(raw, name, value string) string {
	return addParam(removeParams(raw, name), name, value)
}

// ErrBadURL reports a base URL or a next URL that cannot be requested:
// one that does not parse, is not absolute http or https, or holds
// characters no request line can carry.
var ErrBadURL = errors.New("URL cannot be used")

// checkURL reports a URL that cannot be requested. what names it in the
// error ("base URL", "next URL"); the error shows it redacted.
func checkURL(what string, u *url.URL) error {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%w: %s %s is not http or https", ErrBadURL, what, safeURL(u.String()))
	case u.Host == "":
		return fmt.Errorf("%w: %s %s has no host", ErrBadURL, what, safeURL(u.String()))
	case strings.ContainsAny(u.RawQuery, " \t\r\n\x00") || strings.ContainsAny(u.Path, "\r\n\x00"):
		return fmt.Errorf("%w: %s %s holds white space or control characters", ErrBadURL, what, safeURL(u.String()))
	}
	return nil
}

// resolveNext parses a next URL as the response gave it and resolves it
// against the URL of the request that produced it, keeping its raw query
// byte for byte.
func resolveNext(next string, request *url.URL) (*url.URL, error) {
	ref, err := url.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("%w: next URL %s: %v", ErrBadURL, safeURL(next), stripURL(err))
	}
	u := ref
	if request != nil {
		u = request.ResolveReference(ref)
		u.RawQuery = ref.RawQuery // ResolveReference keeps it; said here for clarity
		u.ForceQuery = ref.ForceQuery
	}
	if err := checkURL("next URL", u); err != nil {
		return nil, err
	}
	return u, nil
}

// origin returns scheme://host[:port] of u, lower-cased, with the default
// port of the scheme left out.
func origin(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case u.Scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return strings.ToLower(u.Scheme) + "://" + host
}

// safeURL returns rawURL with its secrets redacted, or a placeholder when
// it does not parse (redact.URL would return it unchanged, secrets and all).
func safeURL(rawURL string) string {
	if _, err := url.Parse(rawURL); err != nil {
		return "<invalid URL>"
	}
	return redact.URL(rawURL)
}
