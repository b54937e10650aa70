package ops

import (
	"context"

	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// The system columns every destination keeps beside a table's own columns,
// like Fivetran's _fivetran_synced and _fivetran_deleted.
const (
	// SyncedColumn holds the UTC time the row was last written.
	SyncedColumn = "_connector_synced"
	// DeletedColumn is true for a row that was deleted at the source
	// (soft delete) or truncated.
	DeletedColumn = "_connector_deleted"
)

// Destination receives the operations of a sync. The runner calls Prepare
// once with every table, then the row operations of any number of tables
// (possibly from several goroutines, so implementations must be safe for
// concurrent use), and Checkpoint after the rows it covers.
//
// Rows arrive normalized by [schema.Table.Normalize]: each value has the
// canonical Go type of its column. The destination owns a row once it is
// handed over and may keep it; it must not keep st after Checkpoint
// returns.
type Destination interface {
	// Prepare declares the tables. It creates what the destination
	// needs and fails on a table it cannot hold, such as a column whose
	// type changed since the last run.
	Prepare(ctx context.Context, tables []schema.Table) error

	// Upsert writes a full row, replacing any row with the same primary
	// key, and clears its deleted mark.
	Upsert(ctx context.Context, table string, row schema.Row) error

	// Update changes only the columns present in row, which holds the
	// primary key. Updating a row that does not exist inserts the given
	// columns, the others NULL.
	Update(ctx context.Context, table string, row schema.Row) error

	// Delete marks the row with the primary key in keys as deleted (a
	// soft delete). Deleting a row that does not exist does nothing.
	Delete(ctx context.Context, table string, keys schema.Row) error

	// Truncate marks every row of the table written before it as
	// deleted (a soft delete).
	Truncate(ctx context.Context, table string) error

	// Checkpoint makes every operation before it durable, then records
	// st, so that state never runs ahead of the rows it covers.
	Checkpoint(ctx context.Context, st *state.State) error
}

// Summary counts the operations a destination received.
type Summary struct {
	Upserts     int64 `json:"upserts"`
	Updates     int64 `json:"updates"`
	Deletes     int64 `json:"deletes"`
	Truncates   int64 `json:"truncates"`
	Checkpoints int64 `json:"checkpoints"`
}

// Add returns the sum of s and o.
func (s Summary) Add(o Summary) Summary {
	return Summary{
		Upserts:     s.Upserts + o.Upserts,
		Updates:     s.Updates + o.Updates,
		Deletes:     s.Deletes + o.Deletes,
		Truncates:   s.Truncates + o.Truncates,
		Checkpoints: s.Checkpoints + o.Checkpoints,
	}
}
