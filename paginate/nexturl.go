package paginate

import (
	"fmt"
	"net/url"
)

// RequestURL returns the URL to fetch for cursor c of a [Token] run whose
// tokens are next URLs: base with params for the first page, and the next
// URL, resolved against base, for the pages after it.
//
// A next URL already carries the query of the request that produced it, so
// params are added only where the next URL lacks them; none is ever
// doubled (limit=10&limit=10), and the server's own values win.
func RequestURL(base string, c Cursor, params url.Values) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("paginate: parsing base URL: %w", err)
	}
	u := b
	if c.Token != "" {
		next, err := url.Parse(c.Token)
		if err != nil {
			return "", fmt.Errorf("paginate: parsing next URL: %w", err)
		}
		u = b.ResolveReference(next)
	}
	q := u.Query()
	changed := false
	for k, vs := range params {
		if _, ok := q[k]; ok || len(vs) == 0 {
			continue
		}
		q[k] = append([]string(nil), vs...)
		changed = true
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}
