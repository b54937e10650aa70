package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/connectkit/connector/schema"
)

// Connector is a set of tables and the streams that fill them. Run syncs
// it into a destination.
type Connector struct {
	// Name identifies the connector in logs.
	Name string
	// Tables are the tables the connector writes.
	Tables []Table
}

// Table is a destination table and, usually, the stream that reads it
// from the source.
type Table struct {
	// Table is the table's declaration: name, primary key, typed columns.
	schema.Table
	// Priority orders the streams: higher priorities sync, and
	// checkpoint, first. Tables of equal priority keep their order in
	// Connector.Tables.
	Priority int
	// Stream reads the source and writes the table, and any other table
	// of the connector, through its [Writer]. Its progress is kept in
	// this table's entry of the state. Nil for a table that only other
	// tables' streams write, such as a child table filled from its
	// parent's nested arrays.
	Stream Stream
}

// Stream reads a source and writes rows through w: usually a
// [FullRefresh] or an [Incremental] driver, or a [StreamFunc] written by
// hand. Read is called once per run, with the table's state as of the
// last checkpoint in w.State(); it writes with w's Upsert, Update,
// Delete, Truncate and ReplaceChildren, to its own table or any other
// table of the connector, and calls w.Commit at each page boundary with
// the state that covers what it wrote. A returned error ends the
// stream's sync; the next run resumes from its last checkpoint.
type Stream interface {
	Read(ctx context.Context, w *Writer) error
}

// StreamFunc adapts a function to a [Stream].
type StreamFunc func(ctx context.Context, w *Writer) error

// Read calls f(ctx, w).
func (f StreamFunc) Read(ctx context.Context, w *Writer) error { return f(ctx, w) }

// ErrInvalidConnector reports a connector that cannot run: no tables, no
// stream, a duplicate table name, or an invalid table schema.
var ErrInvalidConnector = errors.New("connector: invalid connector")

// Schema returns the declarations of the connector's tables.
func (c *Connector) Schema() []schema.Table {
	out := make([]schema.Table, len(c.Tables))
	for i, t := range c.Tables {
		out[i] = t.Table
	}
	return out
}

// Validate checks the connector's definition: at least one table with a
// stream, unique names and a valid schema for each table.
func (c *Connector) Validate() error {
	_, _, err := c.compile()
	return err
}

// compiled is a table ready to run.
type compiled struct {
	Table
	schema *schema.Compiled
}

// compile validates the connector and returns every table by name, and
// the tables with a stream in sync order: priority first, then
// declaration order.
func (c *Connector) compile() (map[string]*compiled, []*compiled, error) {
	if len(c.Tables) == 0 {
		return nil, nil, fmt.Errorf("%w: no tables", ErrInvalidConnector)
	}
	byName := make(map[string]*compiled, len(c.Tables))
	var streams []*compiled
	for i := range c.Tables {
		t := c.Tables[i]
		if byName[t.Name] != nil {
			return nil, nil, fmt.Errorf("%w: table %q declared twice", ErrInvalidConnector, t.Name)
		}
		sc, err := t.Table.Compile()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalidConnector, err)
		}
		ct := &compiled{Table: t, schema: sc}
		byName[t.Name] = ct
		if t.Stream != nil {
			streams = append(streams, ct)
		}
	}
	if len(streams) == 0 {
		return nil, nil, fmt.Errorf("%w: no table has a Stream", ErrInvalidConnector)
	}
	slices.SortStableFunc(streams, func(a, b *compiled) int { return b.Priority - a.Priority })
	return byName, streams, nil
}
