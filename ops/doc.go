// Package ops defines the operations a connector emits, as in the Fivetran
// Connector SDK (upsert, update, delete, truncate, checkpoint), the
// [Destination] interface that receives them, and two destinations: an
// in-memory one for tests and demos ([Memory]), and a directory of JSON
// Lines files with a state.json beside them ([Dir], read back by
// [ReadDir]).
//
// Both destinations keep deleted rows, marked in [DeletedColumn] (a soft
// delete), and the time of the last write in [SyncedColumn]; see
// [Memory] for the exact semantics of each operation, which [ReadDir]
// applies the same way.
//
// # Directory layout
//
// A [Dir] writes:
//
//	schema.json      the declared tables: {"version":1,"tables":[...]}
//	<table>.jsonl    one append-only log per table, one operation a line
//	state.json       the last checkpointed state, as [state.File] writes it
//
// Each line of a log is a JSON object:
//
//	{"op":"upsert","at":"2024-05-01T10:00:00.5Z","row":{"id":1,"name":"Ada","updated":"2024-05-01T09:59:00Z"}}
//	{"op":"update","at":"2024-05-01T10:00:01Z","row":{"id":1,"name":"Ada L."}}
//	{"op":"delete","at":"2024-05-01T10:00:02Z","row":{"id":1}}
//	{"op":"truncate","at":"2024-05-01T10:00:03Z"}
//
// "at" is the UTC time of the write (the row's SyncedColumn). "row" holds
// the full row for an upsert, the key and the changed columns for an
// update, and the key for a delete. Values have the JSON form of their
// column type: numbers for SHORT, INT, LONG, FLOAT and DOUBLE; strings for
// STRING, XML and DECIMAL (which keeps its digits), "2006-01-02" for
// NAIVE_DATE, "2006-01-02T15:04:05.999999999" for NAIVE_DATETIME, RFC 3339
// in UTC for UTC_DATETIME, standard base64 for BINARY; the value itself,
// compacted, for JSON; null for NULL. Two values cannot come back
// exactly from a line: a JSON value reads back compacted (a line cannot
// hold its newlines), and the bytes of a string that are not valid UTF-8
// are replaced by U+FFFD, as encoding/json does.
//
// # Reading the files
//
// The logs are meant to be read by people and tools too. The current
// live rows of a table with jq, keyed by its primary key "id":
//
//	jq -s 'reduce .[] as $o ({};
//	  if $o.op == "upsert" then .[$o.row.id|tostring] = $o.row
//	  elif $o.op == "update" then .[$o.row.id|tostring] += $o.row
//	  elif $o.op == "delete" then del(.[$o.row.id|tostring])
//	  else {} end) | .[]' users.jsonl
//
// (jq sees the raw log: a torn last line left by a crash makes it stop
// with a parse error, where [ReadDir] ignores it.) With DuckDB, the
// operations as a table, and the last operation of each row:
//
//	SELECT op, at, "row".* FROM read_json_auto('users.jsonl');
//
//	SELECT "row".id, arg_max(op, at) AS last_op
//	FROM read_json_auto('users.jsonl') GROUP BY "row".id;
//
// # Durability
//
// A Dir appends operations through a buffer, so a crash may lose the
// operations written since the last checkpoint, or leave the last line of
// a log cut short. Checkpoint first flushes and fsyncs every log written
// since the previous checkpoint, then replaces state.json atomically
// (temporary file, fsync, rename, fsync of the directory). So state.json
// never covers an operation that is not on disk; operations after it may
// be on disk or not, and a connector resuming from the state writes them
// again, which upserts make harmless. A torn last line is cut off, with a
// logged warning, when Prepare opens the log again, and ignored by
// ReadDir; an invalid line before the last one is corruption, an error
// wrapping [ErrCorrupt] that names the file and the line.
package ops
