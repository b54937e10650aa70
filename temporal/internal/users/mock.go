package users

import (
	"strconv"
	"time"

	"github.com/connectkit/connector/mockapi"
)

// Span is the time the mock's users span by default, ending at the time
// given to MockOptions: the forward pass (Recent, 61 minutes) and 16
// history windows of an hour (the oldest of 59 minutes) cover it, 17
// parts of about the same size.
const Span = 17 * time.Hour

// Recent is the forward pass's window in Config: a minute more than the
// history windows, so that the oldest window, cut at the mock's first
// user, is not a sliver of seconds (the plan counts back from the real
// clock, a little after the mock's).
const Recent = time.Hour + time.Minute

// MockOptions returns the options of a mock API whose n users (in tie
// groups of three) were updated over the span before now, so that the
// connector's priority-first windows, which count back from the real
// clock, split them evenly: span/time.Hour parts.
func MockOptions(n int, now time.Time, span time.Duration) mockapi.Options {
	start := now.Add(-span).Truncate(time.Second)
	groups := max(n/mockapi.DefaultTiesPerTimestamp, 1)
	return mockapi.Options{Users: n, Start: start, Step: span / time.Duration(groups)}
}

// Config returns the connector's config for the API at url whose mock
// was made with MockOptions(_, now, span).
func Config(url string, now time.Time, span time.Duration, pageSize int, schema string) map[string]string {
	return map[string]string{
		KeyURL:      url,
		KeyOldest:   now.Add(-span).Truncate(time.Second).UTC().Format(time.RFC3339),
		KeyPageSize: strconv.Itoa(pageSize),
		KeySchema:   schema,
		KeyRecent:   Recent.String(),
		KeyWindow:   time.Hour.String(),
	}
}
