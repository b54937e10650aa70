// Package ops defines the operations a connector emits, as in the Fivetran
// Connector SDK (upsert, update, delete, truncate, checkpoint) plus the
// delete of a parent's children, the [Destination] interface that
// receives them, and two destinations: an in-memory one for tests and
// demos ([Memory]), and a directory of JSON Lines files with a checkpoint
// journal beside them ([Dir], read back by [ReadDir]). Package
// ops/opstest checks that a destination keeps the contract.
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
//	schema.json        the declared tables: {"version":1,"tables":[...]}
//	<table>.jsonl      one append-only log per table, one operation a line
//	checkpoints.jsonl  the checkpoint journal: one line per checkpoint
//	.lock              held locked while a Dir has the directory open
//
// Each line of a log is a JSON object:
//
//	{"op":"upsert","at":"2024-05-01T10:00:00.5Z","row":{"id":1,"name":"Ada","updated":"2024-05-01T09:59:00Z"}}
//	{"op":"update","at":"2024-05-01T10:00:01Z","row":{"id":1,"name":"Ada L."}}
//	{"op":"delete","at":"2024-05-01T10:00:02Z","row":{"id":1}}
//	{"op":"truncate","at":"2024-05-01T10:00:03Z"}
//	{"op":"delete_children","at":"2024-05-01T10:00:04Z","row":{"issue_id":7}}
//
// "at" is the UTC time of the write (the row's SyncedColumn), one per
// Write call. "row" holds the full row for an upsert, the key and the
// changed columns for an update, the key for a delete, and for a delete
// of children the leading key columns that name the parent: every row of
// the table whose key starts with them is marked deleted. Values have
// the JSON form of their column type: numbers for SHORT, INT, LONG,
// FLOAT and DOUBLE; strings for STRING, XML and DECIMAL (which keeps its
// digits), "2006-01-02" for NAIVE_DATE, "2006-01-02T15:04:05.999999999"
// for NAIVE_DATETIME, RFC 3339 in UTC for UTC_DATETIME, standard base64
// for BINARY; the value itself, compacted, for JSON; null for NULL. A
// JSON value reads back compacted (a line cannot hold its newlines).
//
// Each line of checkpoints.jsonl is a checkpoint: the state, and how much
// of each log it covers (bytes, operations and the CRC-32C of those
// bytes), the last line being the current one:
//
//	{"seq":7,"at":"2024-05-01T10:00:05Z","logs":{"users":{"bytes":51234,"lines":300,"crc32c":"1c291ca3"}},"state":{"version":2,"tables":{...}}}
//
// The journal is replaced by its last line once it passes 1 MiB. A
// directory written by an older version keeps its state in state.json
// instead; it is read as the last checkpoint, covering nothing, until the
// first checkpoint moves it to the journal.
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
// (delete_children needs the table's key: for a child table keyed by
// (issue_id, label), del(.[] | select(.issue_id == $o.row.issue_id)).
// jq sees the raw log: a torn last line left by a crash makes it stop
// with a parse error, where [ReadDir] ignores it.) The last checkpoint's
// state: tail -n 1 checkpoints.jsonl | jq .state. With DuckDB, the
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
// since the previous checkpoint, then appends the checkpoint to the
// journal and fsyncs it: two fsyncs for a checkpoint after writes to one
// table, one more per other table written, and one of the directory when
// the journal is created. So the journal never covers an operation that
// is not on disk; operations after it may be on disk or not, and a
// connector resuming from the state writes them again, which upserts make
// harmless.
//
// Since each checkpoint records what it covers, a Dir knows what it
// holds: [OpenDir] and [ReadDir] read every log and check it against the
// last checkpoint. A log missing, emptied, shorter than what the
// checkpoint covers, or whose covered bytes changed (damaged, or written
// by another program), and any invalid line that a crash cannot leave (a
// line ending with its "\n" but not a valid operation, anywhere), is an
// error wrapping [ErrCorrupt] that names the file, the line and what the
// checkpoint covers; nothing is recreated or cut. Only a last line
// without its "\n", after what the checkpoint covers, is what a crash
// leaves: OpenDir cuts it off with a logged warning, and ReadDir ignores
// it. A killed process's temporary files of atomic writes are removed by
// the next OpenDir.
//
// # Locking and files
//
// A Dir holds an exclusive lock on the directory's .lock file (flock on
// Unix, a file opened without sharing on Windows) from OpenDir to Close;
// a second OpenDir of the directory, in any process, fails with an error
// wrapping [ErrLocked] instead of interleaving writes. The lock is
// advisory: it binds the programs that take it, and a killed process
// releases it. ReadDir takes no lock. Every file is created with mode
// 0600, and the directory, if OpenDir creates it, 0700.
package ops
