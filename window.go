package connector

import (
	"time"

	"github.com/connectkit/connector/state"
)

// Window is what a pass of a stream asks its source for: the rows whose
// cursor is in [Since, Until), after the mark After. A zero bound is open:
// the zero Window is the whole collection.
//
// Since and Until are set for time cursors (updatedAt), aligned to the
// driver's Granularity so that a source taking seconds gets whole
// seconds. After is the mark the pass resumes after: every row at or
// before it is synced, and the driver drops those the source sends again.
// Its cursor, whatever its type, is an inclusive lower bound a source can
// ask for (a sequence number, a version); a keyset source can start right
// after the mark itself.
//
// A source that cannot filter by a bound may ignore it: the driver drops
// rows outside the window itself, and stops paging an oldest-first source
// at the first row past Until.
//
// Partition is set when the pass runs one partition of a partitioned
// stream: the partition's bounds (a key range, a shard) are for the
// source to apply; a time window's are in Since and Until too.
type Window struct {
	Since     time.Time
	Until     time.Time
	After     state.Mark
	Partition *state.Partition
}

// Contains reports whether t falls in [Since, Until).
func (w Window) Contains(t time.Time) bool {
	return (w.Since.IsZero() || !t.Before(w.Since)) && (w.Until.IsZero() || t.Before(w.Until))
}

// String formats w as [since, until), with "-inf" and "+inf" for open
// bounds, followed by the mark it resumes after.
func (w Window) String() string {
	f := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	s := "[" + f(w.Since, "-inf") + ", " + f(w.Until, "+inf") + ")"
	if !w.After.IsZero() {
		s += " after " + w.After.String()
	}
	if w.Partition != nil {
		s += " partition " + w.Partition.ID
	}
	return s
}
