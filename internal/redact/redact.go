// Package redact hides secret-looking values before they reach a log or an
// error message: configuration values, URL query parameters, user info.
package redact

import (
	"strings"
	"unicode"
)

// Mask replaces a secret value.
const Mask = "REDACTED"

// secretWords are the words of a name that mark its value as secret.
var secretWords = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "pass": true, "passphrase": true,
	"secret": true, "token": true, "apikey": true, "hapikey": true, "key": true, "auth": true,
	"authorization": true, "credential": true, "credentials": true,
	"signature": true, "sig": true, "private": true, "session": true,
	"cookie": true, "bearer": true, "jwt": true, "sas": true, "dsn": true,
}

// pagingWords are words that, next to "token" or "key", name a pagination
// position rather than a secret: page_token, next_key, continuation_token.
var pagingWords = map[string]bool{
	"page": true, "next": true, "prev": true, "previous": true, "continuation": true,
	"cursor": true, "sync": true, "start": true, "after": true, "before": true,
	"sort": true, "primary": true, "partition": true, "range": true,
}

// IsSecret reports whether a configuration key or query parameter name looks
// like it holds a secret: api_key, clientSecret, X-Auth-Token, password, and
// so on. Pagination names such as page_token or next_key are not secrets.
func IsSecret(name string) bool {
	words := split(name)
	secret, paging := false, false
	for i, w := range words {
		if secretWords[w] {
			secret = true
		}
		if pagingWords[w] {
			paging = true
		}
		// "api" "key" written apart.
		if w == "api" && i+1 < len(words) && words[i+1] == "key" {
			return true
		}
	}
	return secret && !paging
}

// split breaks a name into lower-case words at punctuation and at
// lower-to-upper case changes: "clientSecret" -> client, secret.
func split(name string) []string {
	var words []string
	var cur []rune
	prevLower := false
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range name {
		switch {
		case unicode.IsUpper(r):
			if prevLower {
				flush()
			}
			cur = append(cur, r)
			prevLower = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
			prevLower = true
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}

// Value returns v, or [Mask] when name looks secret.
func Value(name, v string) string {
	if v != "" && IsSecret(name) {
		return Mask
	}
	return v
}

// URL returns s with the password of its user info and the values of its
// secret-looking query parameters replaced by [Mask]. The order of the
// parameters and every other byte are kept. It parses s by hand, without
// net/url, so that packages without a transport (paginate) can use it,
// and so that a string net/url refuses (a malformed escape) is redacted
// all the same.
func URL(s string) string {
	if !strings.ContainsAny(s, "?@") {
		return s
	}
	out := s
	// User info: scheme://user:password@host/...
	if i := strings.Index(out, "://"); i >= 0 {
		rest := out[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
			if c := strings.IndexByte(rest[:at], ':'); c >= 0 {
				out = out[:i+3] + rest[:c+1] + Mask + rest[at:]
			}
		}
	}
	q := strings.IndexByte(out, '?')
	if q < 0 {
		return out
	}
	query, frag := out[q+1:], ""
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query, frag = query[:h], query[h:]
	}
	parts := strings.Split(query, "&")
	changed := false
	for i, p := range parts {
		k, _, found := strings.Cut(p, "=")
		name := unescape(k)
		if found && IsSecret(name) {
			parts[i] = k + "=" + Mask
			changed = true
		}
	}
	if !changed {
		return out
	}
	return out[:q+1] + strings.Join(parts, "&") + frag
}

// unescape decodes the %XX escapes and '+' of a query name, leaving a
// malformed escape as it is.
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
