// Package schema declares the tables a connector writes and checks rows
// against them.
//
// A [Table] has a name, a primary key of one or more columns and typed
// [Column]s, with the types of the Fivetran Connector SDK (STRING, BOOLEAN,
// SHORT, INT, LONG, FLOAT, DOUBLE, DECIMAL, NAIVE_DATE, NAIVE_DATETIME,
// UTC_DATETIME, BINARY, JSON, XML). [Table.Compile] validates a table once
// into a [Compiled], immutable and safe for concurrent use, which checks
// the rows of the table.
//
// # Two forms of a row
//
// A row is written as a [Row], column names to values of any Go type the
// column accepts, convenient by hand, or as the [Values] that
// [Codec.Row] makes from a Go struct: by column position and already
// converted, without reflection per call except for JSON columns. Both
// are an [AnyRow]. [Struct] derives the table and the [Codec] from the
// struct's fields and tags; nested objects can become columns with the
// inline tag option. Codec.Row returns no error: a field it cannot
// convert (a NaN, a uint64 beyond LONG, invalid JSON) makes the Values
// carry a [*ValueError] naming it ([Values.Err]), which the Normalize
// methods return.
//
// # Normalize
//
// The Normalize methods check a row and return its values by column
// position, the form destinations receive, each converted to one
// canonical Go type per column type (see [Type]), so that destinations
// read columns by position and see one representation:
// [Compiled.Normalize] for an upsert (a column the row lacks is NULL),
// [Compiled.NormalizePartial] for an update (with the [ColumnSet] of the
// columns it changes), [Compiled.NormalizeKeys] for a delete (the key
// only) and [Compiled.NormalizeParent] for the key of a parent, the
// leading columns of a child table's primary key. A missing primary key,
// an unknown column or a value of the wrong type is a [*ValueError]
// naming the table, the column and the value; Values of another table
// are [ErrWrongTable]. [Compiled.Map] turns values by position back into
// a Row; [Compiled.KeyOf] gives a string key for a row's values, for maps
// of rows, and [Compiled.KeyPrefix] the key of a parent, a prefix of its
// children's KeyOf.
//
// # Limits
//
// Text (STRING and XML, and the text of JSON) must be valid UTF-8, and a
// JSON value may nest at most [MaxJSONDepth] levels: every destination
// of this module can then store and read back what Normalize accepts. A
// JSON null is NULL. Table and column names must be valid UTF-8 too.
package schema
