package users

import (
	"strconv"
	"time"

	"github.com/connectkit/connector/mockapi"
)

// Span is the time the mock's users span, ending at the time given to
// MockOptions: with the defaults (recent and window 1h) the forward pass
// and 16 history windows of one hour cover it.
const Span = 17 * time.Hour

// MockOptions returns the options of a mock API whose n users (in tie
// groups of three) were updated over the Span before now, so that the
// connector's priority-first windows, which count back from the real
// clock, split them evenly.
func MockOptions(n int, now time.Time) mockapi.Options {
	start := now.Add(-Span).Truncate(time.Second)
	groups := max(n/mockapi.DefaultTiesPerTimestamp, 1)
	return mockapi.Options{Users: n, Start: start, Step: Span / time.Duration(groups)}
}

// Config returns the connector's config for the API at url whose mock
// was made with MockOptions(_, now).
func Config(url string, now time.Time, pageSize int, schema string) map[string]string {
	return map[string]string{
		KeyURL:      url,
		KeyOldest:   now.Add(-Span).Truncate(time.Second).UTC().Format(time.RFC3339),
		KeyPageSize: strconv.Itoa(pageSize),
		KeySchema:   schema,
	}
}
