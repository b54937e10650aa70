// Package schema declares the tables a connector writes and checks rows
// against them.
//
// A [Table] has a name, a primary key of one or more columns and typed
// [Column]s, with the types of the Fivetran Connector SDK (STRING, BOOLEAN,
// SHORT, INT, LONG, FLOAT, DOUBLE, DECIMAL, NAIVE_DATE, NAIVE_DATETIME,
// UTC_DATETIME, BINARY, JSON, XML). [Table.Compile] validates a table once
// into a [Compiled], immutable and safe for concurrent use, whose
// Normalize methods check a row and return its values by column
// position, each converted to one canonical Go type per column type, so
// that destinations read columns by position and see one representation.
// A missing primary key, an unknown column or a value of the wrong type
// is a [*ValueError] naming the table, the column and the value.
//
// # Two forms of a row
//
// A row is written as a [Row], column names to values, convenient by
// hand, or as the [Values] a [Codec] makes from a Go struct, by position
// and already converted without reflection per call; both are an
// [AnyRow]. [Struct] derives the table and the Codec from the struct's
// fields and tags; nested objects can become columns with the inline
// tag option. [Compiled.KeyOf] gives a string key for a row's values, for
// maps of rows, and [Compiled.KeyPrefix] the key of a parent, the leading
// columns of a child table's primary key (see [Compiled.NormalizeParent]).
//
// # Limits
//
// Text (STRING and XML, and the text of JSON) must be valid UTF-8, and a
// JSON value may nest at most [MaxJSONDepth] levels: every destination
// of this module can then store and read back what Normalize accepts. A
// JSON null is NULL.
package schema
