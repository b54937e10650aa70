package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/connectkit/connector/schema"
)

// Connector is a set of tables and the functions that sync them. Run syncs
// it into a destination.
type Connector struct {
	// Name identifies the connector in logs.
	Name string
	// Tables are the tables the connector writes.
	Tables []Table
}

// Table is a destination table and the function that syncs it.
type Table struct {
	// Table is the table's declaration: name, primary key, typed columns.
	schema.Table
	// Priority orders the tables: higher priorities sync, and checkpoint,
	// first. Tables of equal priority keep their order in
	// Connector.Tables.
	Priority int
	// Sync emits the table's operations through s. It is called once per
	// run, with the table's state as of the last checkpoint.
	Sync SyncFunc
}

// SyncFunc syncs one table: it reads the source from s.State(), emits
// operations with s.Upsert, s.Update, s.Delete and s.Truncate, and calls
// s.Commit at each page boundary with the state that covers what it
// emitted. A returned error ends the table's sync; its state stays at the
// last checkpoint.
type SyncFunc func(ctx context.Context, s *Sync) error

// ErrInvalidConnector reports a connector that cannot run: no tables, a
// duplicate table name, a table without Sync, or an invalid table schema.
var ErrInvalidConnector = errors.New("connector: invalid connector")

// Schema returns the declarations of the connector's tables.
func (c *Connector) Schema() []schema.Table {
	out := make([]schema.Table, len(c.Tables))
	for i, t := range c.Tables {
		out[i] = t.Table
	}
	return out
}

// Validate checks the connector's definition: at least one table, unique
// names, a Sync function and a valid schema for each.
func (c *Connector) Validate() error {
	_, err := c.compile()
	return err
}

// compiled is a table ready to run.
type compiled struct {
	Table
	schema *schema.Compiled
}

// compile validates the connector and returns its tables in sync order:
// priority first, then declaration order.
func (c *Connector) compile() ([]*compiled, error) {
	if len(c.Tables) == 0 {
		return nil, fmt.Errorf("%w: no tables", ErrInvalidConnector)
	}
	seen := make(map[string]bool, len(c.Tables))
	out := make([]*compiled, 0, len(c.Tables))
	for i := range c.Tables {
		t := c.Tables[i]
		if seen[t.Name] {
			return nil, fmt.Errorf("%w: table %q declared twice", ErrInvalidConnector, t.Name)
		}
		seen[t.Name] = true
		if t.Sync == nil {
			return nil, fmt.Errorf("%w: table %q has no Sync function", ErrInvalidConnector, t.Name)
		}
		sc, err := t.Table.Compile()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConnector, err)
		}
		out = append(out, &compiled{Table: t, schema: sc})
	}
	slices.SortStableFunc(out, func(a, b *compiled) int { return b.Priority - a.Priority })
	return out, nil
}
