// Package redact hides secret-looking values before they reach a log or an
// error message: configuration values, URL query parameters, user info.
package redact

import (
	"net/url"
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
// parameters is kept. A string that does not parse as a URL is returned
// unchanged.
func URL(s string) string {
	if !strings.ContainsAny(s, "?@") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Mask)
			changed = true
		}
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, found := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if found && IsSecret(name) {
				parts[i] = k + "=" + Mask
				changed = true
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if !changed {
		return s
	}
	return u.String()
}
