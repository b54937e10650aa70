package sqldest

import (
	"context"
	"database/sql"

	"github.com/connectkit/connector/schema"
)

// Dialect is what differs between the databases a [DB] writes to: the
// quoting of names, the column types and the encoding of values, a few
// statements, and how to read back the columns of a table. The rest of
// the SQL a DB runs is standard (UPDATE ... SET ... WHERE, SAVEPOINT,
// COMMIT) and is built by the DB.
//
// [SQLite] is the one implementation. A Dialect's methods are called
// with names that are valid for the dialect (see Quote) and must be safe
// for concurrent use.
type Dialect interface {
	// Name names the database in errors and logs, such as "sqlite".
	Name() string

	// Quote returns name quoted as an identifier, so that any name,
	// including reserved words and names holding quotes or spaces,
	// names itself. Names holding a NUL byte are rejected before Quote
	// is called.
	Quote(name string) string

	// Placeholder returns the marker of the n-th parameter (from 1) of
	// a statement, such as "?" or "$1".
	Placeholder(n int) string

	// ColumnType returns the declared SQL type of a column of type t.
	// Columns must report it back the same way: Prepare compares the
	// two to detect a column whose type changed.
	ColumnType(t schema.Type) string

	// Begin is the statement that starts a write transaction, taking
	// the database's write lock at once where that matters, so that two
	// writers wait for each other instead of deadlocking.
	Begin() string

	// CreateTable returns the statement that creates table t unless it
	// exists: its columns (the primary key columns NOT NULL), then the
	// system columns [ops.SyncedColumn] (the type of UTC_DATETIME) and
	// [ops.DeletedColumn] (the type of BOOLEAN, NOT NULL, false by
	// default), then PRIMARY KEY over t.PrimaryKey in its order.
	CreateTable(t schema.Table) string

	// AddColumn returns the statement that adds column c to the table
	// named table; existing rows hold NULL in it.
	AddColumn(table string, c schema.Column) string

	// Upsert returns a statement that inserts rows rows of the columns,
	// in that order, each row's values in consecutive parameters, and
	// on a conflict over the key columns sets every other column to
	// the value of the row being inserted.
	Upsert(table string, columns, key []string, rows int) string

	// Columns lists the columns of the table named table as the
	// database holds them, in table order; none if it does not exist.
	Columns(ctx context.Context, q Querier, table string) ([]ColumnInfo, error)

	// Encode converts v, the canonical Go value of a column of type t
	// (see [schema.Type]) or nil for NULL, to a value for the driver.
	// A value of another Go type is an error wrapping
	// [schema.ErrWrongType], never a panic.
	Encode(t schema.Type, v any) (any, error)

	// Decode converts v, a value the driver read from a column of type
	// t (nil for NULL), back to the canonical Go value of t.
	Decode(t schema.Type, v any) (any, error)
}

// ColumnInfo describes a column of a table as the database holds it.
type ColumnInfo struct {
	// Name is the column's name.
	Name string
	// Type is the declared SQL type, as [Dialect.ColumnType] writes it.
	Type string
	// Key is the column's position in the primary key, from 1; 0 for a
	// column outside it. For SQLite the key is the PRIMARY KEY, or the
	// unique index [KeyIndex] of a table loaded without its key.
	Key int
}

// Querier runs a query: *sql.DB, *sql.Conn and *sql.Tx are Queriers.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
