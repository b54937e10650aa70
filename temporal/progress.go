package temporal

import (
	"github.com/connectkit/connector"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/state"
)

// Progress is a part's position in its stream, as its last checkpoint
// saved it: the heartbeat details of the part's activity. A retried
// attempt reads the previous attempt's Progress to log and compare it;
// it resumes from the state the destination committed, which is at or
// after the last heartbeated Progress.
type Progress struct {
	// Part is the part.
	Part connector.Part `json:"part"`
	// Mark is the part's incremental high-water mark.
	Mark state.Mark `json:"mark,omitzero"`
	// Cursor is where paging resumes within the part.
	Cursor paginate.Cursor `json:"cursor,omitzero"`
	// Done reports that the part is complete.
	Done bool `json:"done,omitempty"`
	// Checkpoints counts the checkpoints of the attempt that sent it.
	Checkpoints int64 `json:"checkpoints,omitempty"`
}

// progressOf returns p's position in st, and whether st has it: the
// partition's, or the table's own for a stream's own work.
func progressOf(st *state.State, p connector.Part) (Progress, bool) {
	pr := Progress{Part: p}
	t := st.Tables[p.Table]
	if t == nil {
		return pr, false
	}
	if p.Partition == "" {
		pr.Mark, pr.Cursor = t.Mark, t.Cursor
		return pr, true
	}
	q := t.Partition(p.Partition)
	if q == nil {
		return pr, false
	}
	pr.Mark, pr.Cursor, pr.Done = q.Mark, q.Cursor, q.Done
	return pr, true
}

// behind reports whether the committed progress c is behind the
// heartbeated progress h, which a destination that commits before the
// heartbeat never shows: only a state changed by hand, or restored from
// an older backup.
func (c Progress) behind(h Progress) bool {
	if h.Done && !c.Done {
		return true
	}
	if !c.Mark.IsZero() || !h.Mark.IsZero() {
		return c.Mark.Compare(h.Mark) < 0
	}
	return c.Cursor.Offset < h.Cursor.Offset
}

// String describes the position for logs.
func (c Progress) String() string {
	switch {
	case c.Done:
		return "done"
	case !c.Mark.IsZero():
		return "after " + c.Mark.String()
	case !c.Cursor.IsZero():
		return "at cursor " + c.Cursor.String()
	}
	return "at the start"
}
