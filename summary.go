package connector

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/connectkit/connector/ops"
)

// Summary is what a run did, per table, like the summary `fivetran debug`
// prints.
type Summary struct {
	// Tables lists every table of the connector, with the operations
	// written to it by any stream: the tables with a stream in the order
	// their streams start, then the others in declaration order.
	Tables []TableSummary
	// Checkpoints counts the checkpoints of the run.
	Checkpoints int64
	// Duration is the run's wall time.
	Duration time.Duration
}

// TableSummary is what a run did to one table. The operations are those
// the destination accepted for the table, from whichever stream wrote
// them; Checkpoints, Skipped, Pages, Duration and Failed describe the
// table's own stream, and are zero for a table without one.
type TableSummary struct {
	Table string
	ops.Summary
	// Skipped counts the records the stream chose not to write.
	Skipped int64
	// Pages counts the stream's commits, one per page, that reached the
	// destination; a failed run counts those it did commit.
	Pages int64
	// Duration is the stream's sync time.
	Duration time.Duration
	// Failed reports that the stream ended with an error.
	Failed bool
}

// Records returns the number of row operations: upserts, updates and
// deletes.
func (t TableSummary) Records() int64 { return t.Upserts + t.Updates + t.Deletes }

// Table returns the summary of the named table, and whether there is one.
func (s *Summary) Table(name string) (TableSummary, bool) {
	for _, t := range s.Tables {
		if t.Table == name {
			return t, true
		}
	}
	return TableSummary{}, false
}

// Total returns the sum over all tables.
func (s *Summary) Total() TableSummary {
	tot := TableSummary{Table: "TOTAL", Duration: s.Duration}
	for _, t := range s.Tables {
		tot.Summary = tot.Summary.Add(t.Summary)
		tot.Skipped += t.Skipped
		tot.Pages += t.Pages
		tot.Failed = tot.Failed || t.Failed
	}
	return tot
}

// WriteTo prints the summary as an aligned table.
func (s *Summary) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tupserts\tupdates\tdeletes\ttruncates\treplaces\tcheckpoints\tskipped\tpages\tduration\t")
	row := func(t TableSummary) {
		name := t.Table
		if t.Failed {
			name += " (failed)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", name, t.Upserts, t.Updates, t.Deletes,
			t.Truncates, t.Replaces, t.Checkpoints, t.Skipped, t.Pages, t.Duration.Round(time.Millisecond))
	}
	for _, t := range s.Tables {
		row(t)
	}
	if len(s.Tables) > 1 {
		tot := s.Total()
		tot.Checkpoints, tot.Failed = s.Checkpoints, false
		row(tot)
	}
	tw.Flush()
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// String returns what WriteTo prints.
func (s *Summary) String() string {
	var b strings.Builder
	_, _ = s.WriteTo(&b)
	return b.String()
}

// LogValue logs the totals as a group.
func (s *Summary) LogValue() slog.Value {
	t := s.Total()
	return slog.GroupValue(
		slog.Int64("upserts", t.Upserts), slog.Int64("updates", t.Updates), slog.Int64("deletes", t.Deletes),
		slog.Int64("truncates", t.Truncates), slog.Int64("replaces", t.Replaces), slog.Int64("checkpoints", s.Checkpoints),
		slog.Int64("skipped", t.Skipped), slog.Int64("pages", t.Pages), slog.Duration("duration", s.Duration),
	)
}

// tableStats counts a table's operations; the progress logger reads it
// while the table syncs.
type tableStats struct {
	name                                 string
	upserts, updates, deletes, truncates atomic.Int64
	replaces                             atomic.Int64
	checkpoints, skipped, pages          atomic.Int64
	started, duration                    atomic.Int64 // unix nanoseconds, nanoseconds
	failed                               atomic.Bool
}

// count adds an operation of kind k.
func (t *tableStats) count(k ops.Kind) {
	switch k {
	case ops.OpUpsert:
		t.upserts.Add(1)
	case ops.OpUpdate:
		t.updates.Add(1)
	case ops.OpDelete:
		t.deletes.Add(1)
	case ops.OpDeleteChildren:
		t.replaces.Add(1)
	case ops.OpTruncate:
		t.truncates.Add(1)
	}
}

func (t *tableStats) summary() TableSummary {
	return TableSummary{
		Table: t.name,
		Summary: ops.Summary{
			Upserts: t.upserts.Load(), Updates: t.updates.Load(), Deletes: t.deletes.Load(),
			Truncates: t.truncates.Load(), Replaces: t.replaces.Load(), Checkpoints: t.checkpoints.Load(),
		},
		Skipped:  t.skipped.Load(),
		Pages:    t.pages.Load(),
		Duration: time.Duration(t.duration.Load()),
		Failed:   t.failed.Load(),
	}
}

// LogValue logs a table's counts as a group.
func (t TableSummary) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("upserts", t.Upserts), slog.Int64("updates", t.Updates), slog.Int64("deletes", t.Deletes),
		slog.Int64("truncates", t.Truncates), slog.Int64("replaces", t.Replaces), slog.Int64("checkpoints", t.Checkpoints),
		slog.Int64("skipped", t.Skipped), slog.Int64("pages", t.Pages), slog.Duration("duration", t.Duration),
	)
}

func (r *runner) summary() *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Summary{Checkpoints: r.checkpoints, Duration: time.Since(r.wallStart)}
	for _, name := range r.summaryOrder {
		s.Tables = append(s.Tables, r.stats[name].summary())
	}
	return s
}
