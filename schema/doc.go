// Package schema declares the tables a connector writes and checks rows
// against them.
//
// A [Table] has a name, a primary key of one or more columns and typed
// [Column]s, with the types of the Fivetran Connector SDK (STRING, BOOLEAN,
// SHORT, INT, LONG, FLOAT, DOUBLE, DECIMAL, NAIVE_DATE, NAIVE_DATETIME,
// UTC_DATETIME, BINARY, JSON, XML). [Table.Normalize] checks a [Row] and
// converts its values to one canonical Go type per column type, so that
// destinations and comparisons see one representation. A missing primary
// key, an unknown column or a value of the wrong type is a [*ValueError]
// naming the table, the column and the value.
//
// # Fast path
//
// A Table is a plain struct, written as a literal and copied freely. Its
// methods validate it on every call. For rows in bulk, [Table.Compile]
// it once into a [Compiled], which is immutable, safe for concurrent use
// and indexes the columns; its Normalize methods convert values in place
// with type switches, without reflection, and allocate only when a value
// changes type. [Compiled.KeyOf] gives a string key for a row, for maps
// of rows.
//
// [Struct] derives a table from a Go struct, and its [Codec] turns values
// of that struct into rows, already canonical, without reflection per
// call.
package schema
