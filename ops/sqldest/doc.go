// Package sqldest is an [ops.Destination] over database/sql, SQLite by
// default, that commits the rows of a page and the state covering them in
// one transaction, so that a crash can neither lose rows nor replay them.
//
//	db, err := sqldest.Open(ctx, "warehouse.db", sqldest.Options{})
//	...
//	defer db.Close()
//	sum, err := conn.Run(ctx, db, connector.Options{}) // db keeps the state too
//
// [Open] opens a SQLite file through modernc.org/sqlite, a pure Go driver
// (CGO_ENABLED=0 works); [New] takes any *sql.DB with a [Dialect], of
// which [SQLite] is the one implemented.
//
// # Durability protocol
//
// The first [DB.Write] after a checkpoint begins a write transaction
// (BEGIN IMMEDIATE in SQLite, which takes the write lock at once). Every
// operation until the next checkpoint runs in it, from any goroutine: the
// DB serializes them. [DB.Checkpoint] writes the buffered rows, adds the
// rows the transaction added to each table to their counts in
// _connector_tables (see What it detects), writes the state document
// into the one row of the table _connector_state, in the same
// transaction, and commits. So the stored state, the rows it covers and
// their counts become durable at the same instant:
//
//   - a crash before the commit loses the rows since the last checkpoint
//     and the state that would have covered them: the database is exactly
//     at the last checkpoint, and the connector, resuming from the stored
//     state, writes those rows again, once;
//   - a crash after the commit keeps both.
//
// Open sets journal_mode=WAL with synchronous=FULL: COMMIT appends the
// transaction's pages and a commit frame to the WAL and fsyncs it
// before it returns, so that when Checkpoint returns the checkpoint is
// on disk, as [ops.Destination] requires: a power loss keeps every
// returned checkpoint, and loses at most the operations since the last
// one, which the resumed run writes again. (With synchronous=NORMAL,
// WAL commits stay atomic, so rows and state would still agree after a
// power loss, but the last checkpoints could vanish after Checkpoint
// returned; FULL costs one fsync per checkpoint, which at the runner's
// default of a checkpoint a second is nothing.) SQLite copies the WAL
// into the database file (a WAL checkpoint, fsynced) when it passes
// 1,000 pages, its default wal_autocheckpoint, after a commit; the
// pages of a committed transaction are thus written twice, once to the
// WAL and once to the database.
//
// A statement that fails inside the transaction rolls all of it back and
// drops the connection; from then on Checkpoint and the row operations
// fail with an error wrapping [ErrRolledBack] until the next
// [DB.Prepare], the start of a run, since a state saved then would cover
// rows that are gone. [DB.Close] rolls back the operations since the last
// checkpoint: no stored state covers them. Statements are never
// interrupted once started (a cancelled context is checked before), as
// interrupting one makes SQLite roll back the whole transaction.
//
// The DB keeps the state: it is an [ops.StateLoader], whose
// [DB.LoadState] reads the stored state, so that the database file alone
// is enough to resume (the runner needs no state.Store), and an
// [ops.StateMerger], whose [DB.CheckpointMerge] reads the stored state and
// stores what a merge function makes of it in the checkpoint's
// transaction, under the write lock, for runs that each own a part of the
// state. A stored state that cannot be decoded is an error wrapping
// [state.ErrCorrupt] and is never overwritten: the checkpoints refuse to
// write over a state this DB has not read and decoded.
//
// A checkpoint commits every operation received so far. With one table
// at a time, as the runner syncs by default, each checkpoint falls on a
// page boundary, so the state covers exactly the rows committed with it.
// Two cases commit rows ahead of the state, which a resumed run writes
// again (harmless for upserts): with Concurrency above 1, the rows another
// table has written of a page it has not committed yet; and the rows a
// table wrote after its last commit before its stream failed, which the
// runner's closing checkpoint commits. No case commits state ahead of its
// rows.
//
// # What it detects
//
// Since each checkpoint records, per table, the rows the table holds
// (deleted ones included: a DB never removes a row), a DB knows what
// the database holds. [Open] checks every table recorded in
// [TablesTable] against its count, with one COUNT(*) per table per
// Open (BenchmarkScale: Open, LoadState and Prepare of 1,000,000 rows
// took 9 to 19 ms, 1 to 4 ms before, the file in the page cache); [DB.Prepare]
// checks the declared tables that were not checked yet (those of a DB
// from [New]). A recorded table that is missing (dropped), emptied,
// holding fewer rows (deleted by another program) or more rows (written
// by another program) is an error wrapping [ops.ErrCorrupt], the
// sentinel of [ops.Dir], that names the table and both counts; nothing
// is recreated or changed, so that 20,000 checkpointed rows never
// vanish behind a table recreated empty. To start over, remove the
// database file (its -wal and -shm with it). A stored state that cannot be
// decoded is an error wrapping [state.ErrCorrupt] (see Durability
// protocol). A whole database file removed is not detected: Open makes
// a new one, without a state, and the run starts over.
//
// The counts cost no COUNT(*) per checkpoint: SQLite gives each new row
// of a rowid table the largest rowid plus one, and rows are never
// removed, so the rows a transaction adds to a table are the growth of
// its largest rowid, read with one index lookup before the
// transaction's first write to the table and one at the checkpoint,
// whatever wrote them (the inserts of a load, upserts, the upsert of an
// update of a missing row) and whichever DB on the file did, under the
// write lock. A database made before TablesTable existed is adopted:
// Prepare creates it and counts the declared tables once.
//
// # Locking and files
//
// [Open] holds an exclusive lock on the file at the database's path
// followed by [LockSuffix] ("warehouse.db-lock"; flock on Unix, a file
// opened without sharing on Windows, as [ops.Dir] locks its directory)
// from Open to Close: a second Open of the database, in this process or
// another, fails with an error wrapping [ops.ErrLocked] ("destination
// in use by another sync") instead of interleaving two syncs. The lock
// is advisory (it binds the programs that take it) and a killed process
// releases it. [New] takes no lock: a caller's *sql.DB may share the
// file with other writers, which SQLite's own locking serializes (see
// Initial loads).
//
// Open creates the database file with mode 0600, and SQLite gives its
// WAL and shared memory (-wal, -shm) the mode of the database file; the
// lock file is 0600 too. A file that exists keeps its mode. Open does
// not create the directory, which must exist.
//
// # Tables
//
// Prepare creates each table with its columns and the system columns
// _connector_synced (the UTC time of the last write) and
// _connector_deleted (0, or 1 for a row deleted or truncated: a soft
// delete); its key is a unique index named _connector_key_<table> (see
// [KeyIndex]) over the table's key columns (NOT NULL), which SQLite
// builds once the table is loaded (see Initial loads); with
// Options.KeyedLoad, and in tables made before, the key is a PRIMARY KEY
// of the table. Prepare also creates the state table:
//
//	CREATE TABLE "_connector_state" (
//	  "id" INTEGER PRIMARY KEY CHECK ("id" = 1),
//	  "state" TEXT NOT NULL,       -- the JSON of state.State.Encode
//	  "updated_at" TEXT NOT NULL   -- UTC, RFC 3339
//	)
//
// and [UnkeyedTable], the tables still loading without their key:
//
//	CREATE TABLE "_connector_unkeyed" (
//	  "name" TEXT PRIMARY KEY,     -- the table
//	  "key" TEXT NOT NULL          -- its key columns, a JSON array
//	)
//
// and [TablesTable], the rows of each table at the last checkpoint:
//
//	CREATE TABLE "_connector_tables" (
//	  "name" TEXT PRIMARY KEY,     -- the table
//	  "rows" INTEGER NOT NULL      -- its rows, deleted ones included
//	)
//
// A database made before UnkeyedTable existed gets it, empty, at the
// next Prepare; its tables keep their PRIMARY KEY. One made before
// TablesTable existed gets it at the next Prepare, with the rows of the
// declared tables, counted once. The names
// _connector_unkeyed, _connector_tables and those starting with
// _connector_key_ cannot be declared.
//
// Names are quoted, so any table or column name works, reserved words,
// spaces and quotes included. SQLite ignores the ASCII case of names, so
// two tables (or two columns of a table) whose names differ only in case
// are rejected, as is a table named _connector_state.
//
// The operations ([ops.Op], which the runner has checked and normalized:
// their values are bound by position, as they come) have the semantics
// of [ops.Memory], which the tests check by running the same random
// operations through both:
//
//   - Upsert: INSERT ... ON CONFLICT (key) DO UPDATE SET every column,
//     _connector_synced, _connector_deleted = 0.
//   - Update: UPDATE of the given columns and _connector_synced WHERE the
//     key AND _connector_deleted = 0; when no row matched (a missing or
//     deleted row), an upsert of the given columns, the others NULL.
//   - Delete: UPDATE SET _connector_deleted = 1, _connector_synced WHERE
//     the key AND _connector_deleted = 0.
//   - Truncate: the same for every row with _connector_deleted = 0.
//   - DeleteChildren: the same WHERE the leading key columns of the
//     parent key equal its values, which the key's index serves.
//
// Every row a Write touches gets the same _connector_synced: the clock
// is read once per Write.
//
// Upserts are buffered per table and written BatchSize rows at a time
// with one multi-row INSERT (without ON CONFLICT into a table loading
// without its key) ([DefaultBatchSize] rows, which measured
// faster than one prepared single-row INSERT per row, and than larger
// batches); any other operation on the table, a read and a checkpoint
// write the buffer first. A failure of a buffered upsert is reported by
// the operation that writes the buffer.
// Statements are prepared once per table on the DB's connection and
// reused by every transaction.
//
// # Initial loads
//
// A table that Prepare creates has no key at first: it is a rowid table,
// which SQLite appends to in the order rows arrive, and is listed in
// UnkeyedTable in the same transaction. As long as only upserts of keys
// not loaded before arrive (told apart by 64-bit hashes of their encoded
// values, kept in memory, up to [MaxUnkeyedRows]), they are written with
// a plain multi-row INSERT. The key (CREATE UNIQUE INDEX, whose sort
// spills to temporary files beyond SQLite's default page cache of
// 2 MiB: a larger cache measured no faster, and 64 MiB of it took
// 200 MB more memory) is built once, and the table unlisted, in the
// transaction of:
//
//   - the first other operation on the table (an update, a delete, a
//     truncate, a delete of children), or an upsert of a key loaded
//     before (or whose hash equals one's), or the upsert beyond
//     MaxUnkeyedRows, which all run after the build;
//   - [DB.Close], in a transaction of its own after the rollback of
//     what no checkpoint covers;
//   - the next Prepare of the table by a DB that did not load it
//     (after a crash or a restart), before anything else.
//
// Rows stay unique throughout: a DB loads only tables it created, and
// every row of them went through its hashes; a DB loading a table checks
// at each transaction's start, under the write lock, that no other DB on
// the file built the key meanwhile (then it upserts): DBs from [New]
// over *sql.DBs of their own may share a file, which Open's lock
// forbids. Maintaining the
// index of random keys row by row dirties a random index page per row,
// which every commit writes to the WAL and again to the database; built
// once, the index is sorted and written once (see Performance).
//
// # Performance
//
// BenchmarkScale loads rows of the examples/users shape (a UUID v4 or a
// sequential text key, five strings, two times; about 300 bytes a row)
// into a new table as the runner drives a destination: Write of pages
// of 100 upserts, a Checkpoint every 20,000 rows (about a second of
// rows, the runner's default interval) or every 1,000, the last
// Checkpoint and Close (which builds the key) timed; then 100,000
// upserts of random existing keys into the loaded table (incremental).
// Measured on a shared 2-core machine, 1,000,000 rows, before (commit
// c0f69bc, the PRIMARY KEY maintained row by row) and after, alternated
// in one period:
//
//	SQLDEST_BENCH_ROWS=1000000 go test -run '^$' -bench Scale -benchtime 1x ./ops/sqldest
//
// One run of each, alternated (load average 5.1 falling to 2.2), random
// keys; rows/s over the whole load (Close included), then over the
// first and the last 100,000 rows; write_bytes (/proc/self/io: WAL,
// WAL checkpoints, database, temporary files) per byte of the final
// file; CPU seconds of the load; rows/s relative to sequential keys in
// the same run:
//
//	checkpoint every       rows/s  first 100k  last 100k  written/size  CPU s  vs seq
//	20,000  before         44,636      74,624     39,597          8.36   18.6    0.41
//	20,000  after         140,723     163,181    160,780          2.14    7.2    0.97
//	1,000   before         28,954      56,795     25,061         26.19   25.0    0.18
//	1,000   after         128,853     126,646    139,630          2.21    7.6    0.92
//
// The rate at 1,000,000 rows is 0.99 and 1.10 times the rate at
// 100,000 after (0.53 and 0.44 before); per CPU second, which the load
// of the machine disturbs less, 1.04 and 0.97 (0.52 and 0.52). Close
// builds the key of 1,000,000 random keys in 1.1 s (0.7 s sequential),
// included above. Sequential keys loaded at 109k and 157k rows/s
// before, 145k and 140k after (the same within the noise), writing 2.0
// to 2.2 times the file. The file is 361 MB for
// random keys (367 MB before: the index built once is denser than one
// grown by random inserts). The hashes took about 50 MB more memory
// (the benchmark process's peak: 229 MB, 156 MB before).
//
// The incremental pass, 100,000 upserts of random existing keys into
// the table of 1,000,000, runs at about the same rate before and after:
// 31k and 32k rows/s with a checkpoint every 20,000 rows, 29k and 28k
// every 1,000, writing 7.2 and 8.2 KB per row. It is slower than the
// load and writes that much because each upsert of a random existing
// key rewrites a random page of the table (the rows are in load order,
// not key order), and each commit writes every page it dirtied to the
// WAL and then to the database; a page cache of 64 MiB instead of 2 MiB
// did not change it (measured).
//
// # Type mapping
//
// Each column is declared with a type that names its schema type, then
// the storage class SQLite's affinity rules give it, so that
// "sqlite3 file.db .schema" reads well and Prepare can tell the types
// apart. Values read back are the canonical Go values of [schema.Type]:
//
//	schema type     declared type         stored as
//	STRING          STRING TEXT           TEXT, as is
//	BOOLEAN         BOOLEAN INTEGER       INTEGER 0 or 1
//	SHORT           SHORT INTEGER         INTEGER
//	INT             INT INTEGER           INTEGER
//	LONG            LONG INTEGER          INTEGER
//	FLOAT           FLOAT REAL            REAL (a float64: exact)
//	DOUBLE          DOUBLE REAL           REAL
//	DECIMAL         DECIMAL TEXT          TEXT, the exact digits ("-12.50")
//	NAIVE_DATE      NAIVE_DATE TEXT       TEXT 2006-01-02
//	NAIVE_DATETIME  NAIVE_DATETIME TEXT   TEXT 2006-01-02T15:04:05.000000000
//	UTC_DATETIME    UTC_DATETIME TEXT     TEXT 2006-01-02T15:04:05.000000000Z
//	BINARY          BINARY BLOB           BLOB
//	JSON            JSON TEXT             TEXT, the JSON as given
//	XML             XML TEXT              TEXT, as is
//
// _connector_synced is UTC_DATETIME TEXT and _connector_deleted BOOLEAN
// INTEGER NOT NULL DEFAULT 0. Times always carry nine fraction digits, so
// that their text sorts as the times do and SQLite's date functions read
// them; they must fall in the years 0 to 9999 (a time outside is an
// error). NULL is NULL in every type; an empty BLOB and an empty TEXT are
// values, not NULL.
//
// # Schema evolution
//
// A table that exists is compared with its declaration at Prepare:
//
//   - a declared column the table lacks is added with ALTER TABLE ADD
//     COLUMN; the rows already there hold NULL in it;
//   - a column the table has but the schema no longer declares is kept
//     with its data (nothing is dropped); upserts set it to NULL, since
//     they replace whole rows, and reads ignore it;
//   - a column whose declared type differs from the one its schema type
//     maps to, or a primary key that differs (a key column removed, added
//     or reordered), is an error wrapping [ops.ErrSchemaChange] that
//     names the table, the column and both types.
//
// Prepare's changes run in one transaction: a failing Prepare changes
// nothing.
package sqldest
