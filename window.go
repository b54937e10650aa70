package connector

import "time"

// Window is a range of updatedAt times: Since inclusive, Until exclusive.
// A zero bound is open: the zero Window is the whole collection.
type Window struct {
	Since time.Time
	Until time.Time
}

// Contains reports whether t falls in w.
func (w Window) Contains(t time.Time) bool {
	return (w.Since.IsZero() || !t.Before(w.Since)) && (w.Until.IsZero() || t.Before(w.Until))
}

// String formats w as [since, until), with "-inf" and "+inf" for open
// bounds.
func (w Window) String() string {
	f := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return "[" + f(w.Since, "-inf") + ", " + f(w.Until, "+inf") + ")"
}
