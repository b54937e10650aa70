package temporal

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/connectkit/connector"
)

// TableResult counts what the parts of a sync did to one table. Unlike
// connector.TableSummary, it encodes to JSON as Temporal's data converter
// needs: plain counts, no durations or embedded types.
type TableResult struct {
	Table     string `json:"table"`
	Upserts   int64  `json:"upserts,omitempty"`
	Updates   int64  `json:"updates,omitempty"`
	Deletes   int64  `json:"deletes,omitempty"`
	Truncates int64  `json:"truncates,omitempty"`
	Replaces  int64  `json:"replaces,omitempty"`
	// Skipped counts the records the stream chose not to write.
	Skipped int64 `json:"skipped,omitempty"`
	// Pages counts the pages committed.
	Pages int64 `json:"pages,omitempty"`
	// Checkpoints counts the checkpoints of the table's stream.
	Checkpoints int64 `json:"checkpoints,omitempty"`
}

// Records returns the number of row operations: upserts, updates and
// deletes.
func (t TableResult) Records() int64 { return t.Upserts + t.Updates + t.Deletes }

// add returns t with the counts of o added.
func (t TableResult) add(o TableResult) TableResult {
	t.Upserts += o.Upserts
	t.Updates += o.Updates
	t.Deletes += o.Deletes
	t.Truncates += o.Truncates
	t.Replaces += o.Replaces
	t.Skipped += o.Skipped
	t.Pages += o.Pages
	t.Checkpoints += o.Checkpoints
	return t
}

// PartResult is what one part did: the result of the activity that ran
// it.
type PartResult struct {
	// Part is the part that ran.
	Part connector.Part `json:"part"`
	// Tables counts the operations per table, in the summary's order.
	Tables []TableResult `json:"tables,omitempty"`
	// Attempt is the activity attempt that completed the part, 1 for
	// the first.
	Attempt int32 `json:"attempt,omitempty"`
	// AlreadyDone reports a part that the committed state showed done,
	// which did not run again.
	AlreadyDone bool `json:"alreadyDone,omitempty"`
}

// NewPartResult converts the summary of a connector.RunPart of p.
// A nil summary gives a result without tables.
func NewPartResult(p connector.Part, s *connector.Summary) PartResult {
	r := PartResult{Part: p}
	if s == nil {
		return r
	}
	for _, t := range s.Tables {
		r.Tables = append(r.Tables, TableResult{
			Table: t.Table, Upserts: t.Upserts, Updates: t.Updates, Deletes: t.Deletes,
			Truncates: t.Truncates, Replaces: t.Replaces, Skipped: t.Skipped,
			Pages: t.Pages, Checkpoints: t.Checkpoints,
		})
	}
	return r
}

// Result is what a sync workflow did: the counts of its parts summed
// per table.
type Result struct {
	// Connector is the connector's name.
	Connector string `json:"connector"`
	// Parts counts the parts of the plan; Ran those that ran in this
	// workflow, and Retried those of them that needed more than one
	// attempt.
	Parts   int `json:"parts"`
	Ran     int `json:"ran"`
	Retried int `json:"retried,omitempty"`
	// Tables lists each table once, in the order the parts first
	// reported it.
	Tables []TableResult `json:"tables,omitempty"`
}

// Add sums the counts of p into r, table by table. Adding the parts in
// any order gives the same counts.
func (r *Result) Add(p PartResult) {
	if p.AlreadyDone {
		return
	}
	r.Ran++
	if p.Attempt > 1 {
		r.Retried++
	}
next:
	for _, t := range p.Tables {
		for i := range r.Tables {
			if r.Tables[i].Table == t.Table {
				r.Tables[i] = r.Tables[i].add(t)
				continue next
			}
		}
		r.Tables = append(r.Tables, t)
	}
}

// Table returns the counts of the named table, and whether r has them.
func (r *Result) Table(name string) (TableResult, bool) {
	for _, t := range r.Tables {
		if t.Table == name {
			return t, true
		}
	}
	return TableResult{}, false
}

// Total returns the sum over all tables, named "total".
func (r *Result) Total() TableResult {
	sum := TableResult{Table: "total"}
	for _, t := range r.Tables {
		sum = sum.add(t)
	}
	return sum
}

// WriteTo prints r as an aligned table, one line per table and a total.
func (r *Result) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	tw := tabwriter.NewWriter(cw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "table\tupserts\tupdates\tdeletes\tskipped\tpages\tcheckpoints\t\n")
	for _, t := range append(r.Tables, r.Total()) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Table, t.Upserts, t.Updates, t.Deletes, t.Skipped, t.Pages, t.Checkpoints)
	}
	err := tw.Flush()
	if err == nil {
		_, err = fmt.Fprintf(cw, "connector %s: %d parts, %d ran, %d retried\n", r.Connector, r.Parts, r.Ran, r.Retried)
	}
	return cw.n, err
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
