package rest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Link is one link of an RFC 8288 Link header.
type Link struct {
	// URL is the target, as written between < and >.
	URL string
	// Rel lists the relation types, lower-cased: rel="next last" gives
	// ["next", "last"].
	Rel []string
	// Params holds the other parameters, names lower-cased, values
	// unquoted.
	Params map[string]string
}

// HasRel reports whether l has the relation type rel (case-insensitive).
func (l Link) HasRel(rel string) bool {
	for _, r := range l.Rel {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

// ParseLinks parses every value of the Link header in h: several links in
// one value separated by commas, and several values. Parameters may be
// quoted or not; quoted strings may hold commas, semicolons and escaped
// quotes. A malformed link is skipped, never fatal.
func ParseLinks(h http.Header) []Link {
	var links []Link
	for _, v := range h.Values("Link") {
		links = appendLinks(links, v)
	}
	return links
}

// NextLink returns the absolute URL of the rel="next" link in h, resolved
// against the URL of the request that produced the response, or "" when
// there is none. The raw query of the link is kept byte for byte. A link
// that cannot be requested is an error wrapping [ErrBadURL].
func NextLink(h http.Header, request *url.URL) (string, error) {
	for _, l := range ParseLinks(h) {
		if !l.HasRel("next") {
			continue
		}
		u, err := resolveNext(l.URL, request)
		if err != nil {
			return "", fmt.Errorf("rest: Link rel=next: %w", err)
		}
		return u.String(), nil
	}
	return "", nil
}

// appendLinks parses one header value.
func appendLinks(links []Link, s string) []Link {
	for {
		s = trimSpace(s)
		for strings.HasPrefix(s, ",") {
			s = trimSpace(s[1:])
		}
		if s == "" {
			return links
		}
		if s[0] != '<' {
			// Not a link: skip to the next comma outside quotes.
			s = skipElement(s)
			continue
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return links
		}
		l := Link{URL: strings.TrimSpace(s[1:end])}
		s = s[end+1:]
		ok := true
		for {
			s = trimSpace(s)
			if s == "" || s[0] == ',' {
				break
			}
			if s[0] != ';' {
				ok = false
				s = skipElement(s)
				break
			}
			var name, value string
			name, value, s = parseParam(s[1:])
			if name == "" {
				continue
			}
			if name == "rel" {
				if l.Rel == nil {
					l.Rel = strings.Fields(strings.ToLower(value))
				}
				continue
			}
			if l.Params == nil {
				l.Params = make(map[string]string)
			}
			if _, dup := l.Params[name]; !dup {
				l.Params[name] = value
			}
		}
		if ok {
			links = append(links, l)
		}
	}
}

// parseParam parses `name[=value]` after a semicolon and returns the rest.
func parseParam(s string) (name, value, rest string) {
	s = trimSpace(s)
	i := 0
	for i < len(s) && s[i] != '=' && s[i] != ';' && s[i] != ',' && s[i] != ' ' && s[i] != '\t' {
		i++
	}
	name = strings.ToLower(s[:i])
	s = trimSpace(s[i:])
	if !strings.HasPrefix(s, "=") {
		return name, "", s
	}
	s = trimSpace(s[1:])
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
				continue
			}
			if c == '"' {
				i++
				break
			}
			b.WriteByte(c)
		}
		return name, b.String(), s[i:]
	}
	i = 0
	for i < len(s) && s[i] != ';' && s[i] != ',' {
		i++
	}
	return name, strings.TrimSpace(s[:i]), s[i:]
}

// skipElement drops everything up to the next comma outside quotes and
// angle brackets.
func skipElement(s string) string {
	inQuote, inAngle := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"' && !inAngle:
			inQuote = !inQuote
		case c == '<' && !inQuote:
			inAngle = true
		case c == '>' && !inQuote:
			inAngle = false
		case c == ',' && !inQuote && !inAngle:
			return s[i+1:]
		}
	}
	return ""
}

func trimSpace(s string) string { return strings.TrimLeft(s, " \t\r\n") }
