// Package pgdest is an [ops.Destination] that writes to PostgreSQL over
// pgx's native protocol, moving rows by binary COPY and committing the
// rows of a checkpoint and the state covering them in one transaction, so
// that the database alone is enough to resume a sync.
//
//	db, err := pgdest.Open(ctx, "postgres://user@host/warehouse", pgdest.Options{Schema: "crm"})
//	...
//	defer db.Close() // also builds the primary keys of tables still loading
//	sum, err := conn.Run(ctx, db, connector.Options{}) // db keeps the state too
//
// A DB is an [ops.StateLoader] and an [ops.StateMerger]. It holds one
// connection, and with it an advisory lock on its schema: a second DB on
// the same database and schema fails to open with an error wrapping
// [ErrInUse] ("in use by another sync"), unless both are opened with
// Options.Shared, for the parts of one partitioned sync that run at once
// on several machines and checkpoint with CheckpointMerge.
//
// To look at the result:
//
//	psql "$DSN" -c 'SELECT * FROM crm.users WHERE NOT _connector_deleted LIMIT 5'
//	psql "$DSN" -c 'SELECT seq, updated_at, row_counts, state::jsonb FROM crm._connector_state'
//
// # Type mapping
//
// [DB.Prepare] creates each table (see [CreateTableSQL]) with these column
// types, NOT NULL on the primary key columns, the system columns
// _connector_synced (timestamp with time zone, NOT NULL: the time of the
// Write that last changed the row) and _connector_deleted (boolean, NOT
// NULL DEFAULT false: a soft delete), and the primary key. Values read
// back by [DB.Rows] and [DB.Live] are the canonical Go values of
// [schema.Type]:
//
//	schema type     Postgres type                 notes
//	STRING          text                          no U+0000 (an error)
//	BOOLEAN         boolean
//	SHORT           smallint
//	INT             integer
//	LONG            bigint
//	FLOAT           double precision              exact: the schema keeps a float64 in float32's range, real would round it
//	DOUBLE          double precision
//	DECIMAL         numeric                       the digits and scale as given ("1.50" stays 1.50)
//	NAIVE_DATE      date                          4714-11-24 BC to 5874897 AD
//	NAIVE_DATETIME  timestamp without time zone   microseconds (nanoseconds are cut)
//	UTC_DATETIME    timestamp with time zone      microseconds (nanoseconds are cut)
//	BINARY          bytea                         empty is not NULL
//	JSON            json                          the text as written: key order, duplicate keys, \u0000 and numbers kept
//	XML             text                          not the xml type, which rejects fragments the schema accepts
//
// JSON is json rather than jsonb so that every valid document is held
// exactly (jsonb rejects \u0000 and rewrites numbers and keys); query it
// with -> and ->> as usual, or cast it (col::jsonb) for jsonb's operators
// and indexes. FLOAT and DOUBLE, and STRING and XML, share a Postgres
// type, so a change between them is not a schema change.
//
// Names are quoted, so any table or column name works, case, spaces,
// quotes and reserved words included. A name Postgres cannot hold as it
// is — longer than 63 bytes (Postgres would cut it, and two long names
// could become one), holding a NUL byte or invalid UTF-8 — is an error
// wrapping [schema.ErrInvalidTable], as is a table named [StateTable]
// or one of more than 1595 columns.
//
// # Operations
//
// Write buffers the operations of each table in a segment, composed per
// row in their order: an upsert replaces the row; an update merges into
// the row, or, on a row deleted (or missing) when it applies, makes the
// given columns the row, the others NULL; a delete marks the live row
// deleted; a truncate, or a delete of the children of a parent key,
// marks the live rows it covers, except the rows of the segment, whose
// entries already include its effect. So each row appears once in a
// segment, whatever the batch did to it (an upsert then a delete, a
// delete of children then the upserts of the current children).
//
// A segment is written when it reaches Options.FlushRows rows, at a
// checkpoint, or before a delete of children with another parent key
// length: its rows are COPYed, in binary, into a temporary staging table
// of the session (ON COMMIT DELETE ROWS, not WAL-logged), then merged:
// the deletes of children first (UPDATE ... FROM, sparing the staged
// keys), then INSERT ... SELECT ... ON CONFLICT DO UPDATE for full rows,
// UPDATE ... FROM then INSERT ... ON CONFLICT DO NOTHING for partial
// updates, and UPDATE ... FROM for deletes; these touch disjoint rows, so
// their order does not matter. A segment of full rows only, when the last
// such segment of the table held only new keys, is COPYed straight into
// the table instead, in a savepoint, staged after all if a key exists.
//
// # Initial loads
//
// A table that Prepare creates has no primary key at first: as long as
// only upserts of keys not loaded before arrive (told apart by 64-bit
// hashes kept in memory, up to [MaxUnkeyedRows]), rows are COPYed
// straight into it, and its key is built once — at the first other
// operation, at [DB.Close], or, after a crash, at the next Prepare — with
// maintenance_work_mem raised to 1 GB (unless higher) for the build. Building the index
// once is several times faster than maintaining it row by row with random
// keys (see Benchmarks). Rows stay unique throughout; the state row lists
// the tables still without their key. Options.KeyedLoad creates the key
// with the table instead.
//
// # Durability protocol
//
// The operations since the last checkpoint run in one transaction.
// Checkpoint writes the buffered segments, then locks the one row of
// [StateTable] (SELECT ... FOR UPDATE), stores in it the state document
// (state.State.Encode), the next checkpoint sequence number and the row
// count of every table, and commits:
//
//	CREATE TABLE "<schema>"."_connector_state" (
//	  "id" integer PRIMARY KEY CHECK ("id" = 1),
//	  "state" text,                              -- NULL before the first checkpoint
//	  "seq" bigint NOT NULL DEFAULT 0,           -- one more at each commit
//	  "generation" bigint NOT NULL DEFAULT 0,    -- one more at each Open of an exclusive DB
//	  "row_counts" jsonb NOT NULL DEFAULT '{}',  -- {"table": rows, ...}
//	  "unkeyed" jsonb NOT NULL DEFAULT '[]',     -- tables loading without their key
//	  "updated_at" timestamptz NOT NULL DEFAULT now()
//	)
//
// Rows and state become durable together when COMMIT returns (each
// connection sets synchronous_commit on if the server has it off, as a
// checkpoint must be durable when Checkpoint returns): a crash before
// leaves the schema at the last checkpoint, and the resumed sync writes
// those rows again, once; a crash after keeps both. Rows never run ahead
// of the state except when Prepare is called with operations pending
// (they commit with Prepare's changes), which a resumed run rewrites
// harmlessly. Close rolls back what no checkpoint covers.
//
// A stored state that cannot be decoded is an error wrapping
// [state.ErrCorrupt] and is never overwritten. The row counts make a
// table dropped, emptied, truncated, or with rows deleted or added
// outside the sync an error wrapping [ops.ErrCorrupt] at the next
// Prepare (which counts the rows of each table: a sequential scan), never
// silently recreated. To sync such a table again from the start, drop it
// and forget it in the state row:
//
//	UPDATE "<schema>"."_connector_state" SET row_counts = row_counts - 'users',
//	  state = jsonb_set(state::jsonb, '{tables}', (state::jsonb->'tables') - 'users')::text;
//
// The generation fences off a DB whose connection broke: if another sync
// opened the schema meanwhile, its next checkpoint fails with [ErrInUse]
// rather than overwrite that sync's state.
//
// # Retries
//
// The flushed segments stay in memory, encoded, until the commit. When a
// transaction fails for a transient cause — the connection broken or
// refused, the server restarting or shutting down (SQLSTATE class 08,
// 57P01-57P03), a serialization failure (40001) or a deadlock (40P01),
// too many connections (53300) — the DB connects again (taking its lock
// again, and checking its generation), begins a new transaction, writes
// the segments again and goes on, up to Options.MaxRetries times with
// exponential backoff and full jitter. A COMMIT whose answer was lost is
// looked up by its sequence number on the new connection: found, it is
// not committed again. When the retries run out, or the context ends,
// the error says that nothing since the last checkpoint was committed;
// the operations are kept for the next Checkpoint, and if the sync stops
// it resumes from the stored state. Any other failure (a value Postgres
// rejects, a table changed under the sync) rolls back and drops the
// operations since the last checkpoint; Write and Checkpoint then fail
// with [ErrRolledBack] until the next Prepare.
//
// # Schema evolution
//
// A table that exists is compared with its declaration at Prepare: a
// declared column the table lacks is added (ALTER TABLE ADD COLUMN;
// existing rows hold NULL); a column no longer declared is kept with its
// data (upserts set it to NULL, since they replace whole rows); a column
// whose Postgres type differs from its schema type's, a primary key that
// differs, or a table without the system columns is an error wrapping
// [ops.ErrSchemaChange] naming the table, the column and both types. A
// table with the system columns and no recorded row count (made by hand,
// or restored) is adopted: its rows are counted and recorded. Prepare's
// changes are transactional: a failing Prepare changes nothing.
//
// # Benchmarks
//
// BenchmarkLoad and BenchmarkLoadPaired compare a plain COPY of rows of
// the examples/users shape (a random UUID v4 text key, five strings, two
// times) into a table without index, the limit, with the destination
// loading them into a new table (pages of 1,000 upserts, a checkpoint
// every 50 pages, Close building the key, timed). Measured on a shared
// 2-core machine at load averages of 0.3 to 0.8, 1,000,000 rows, the two
// alternating per 100,000 rows, each run of this version alternating
// with one of the version before (a key set in a Go map, encoding before
// the COPY, maintenance_work_mem 256 MB), all the runs made:
//
//	CONNECTOR_PG_BENCH_ROWS=1000000 go test -run '^$' -bench LoadPaired -benchtime 1x ./ops/pgdest
//	before: 0.45, 0.40; this version: 0.55, 0.67 (and 0.51 at load 4)
//
// In one BenchmarkLoad run (load 14), 1,000,000 rows, rows/s: copy 76.8k;
// pgdest 50.7k; pgdest-keyed (the key created with the table, rows COPYed
// straight into it) 17.9k; pgdest-staged (every segment staged and merged
// with INSERT ... ON CONFLICT) 14.2k; pgdest with a checkpoint every page
// of 1,000 rows 56.6k; the same rows upserted again (every key exists,
// staged) 24.3k. Loading without the key is what reaches about half the
// COPY rate: maintaining a primary key index row by row with random keys
// costs 2 to 3 times the COPY itself.
//
// # Tests
//
// The tests run a real server through [pgtest] (ops/pgdest/pgtest): the one named by
// CONNECTOR_PG_DSN, or one started from Debian's PostgreSQL binaries;
// without either they skip, except with CI=true, where they fail.
package pgdest
