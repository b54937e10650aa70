// Package connector is a Go SDK for data connectors: programs that copy
// records from a paginated API (or any paged source) into a destination,
// incrementally, checkpointing their state so that a crash or a restart
// loses nothing.
//
// It does the job of the Fivetran Connector SDK, in Go: typed, streaming,
// concurrent where the source allows, and loss-free where the source
// allows.
//
// # Concepts
//
//   - A [paginate.Source] fetches one page at a [paginate.Cursor]; a
//     [paginate.Strategy] (offset, page number, token or Link header,
//     keyset) says how to reach the next page and when the collection
//     ends; a [paginate.Paginator] streams the items as an iter.Seq2.
//   - A [Connector] is a set of [Table]s: each a schema (name, primary
//     key, typed columns) with a priority and, usually, a [Stream] that
//     reads the source.
//   - A Stream writes through its [Writer]: Upsert, Update, Delete (soft),
//     Truncate (soft) and ReplaceChildren, to its own table or any other
//     table of the connector (a child table filled from nested arrays,
//     several endpoints into several tables), and commits its state at
//     each page boundary with [Writer.Commit]. Every row is checked and
//     normalized once, by the Writer, and counted per table.
//   - Drivers are Streams for the common cases: [FullRefresh] reads a
//     whole collection and resumes an interrupted pass; [Incremental]
//     reads what changed since a typed high-water mark, from sources
//     sorted oldest first or newest first, optionally priority-first.
//     A [StreamFunc] is a stream written by hand.
//   - The state ([state.State]) is a JSON document with each stream's
//     cursor and mark. It is bounded: marks and cursors, never lists of
//     seen ids. Marks are typed: times, integers and strings compare by
//     their own order.
//   - A destination ([ops.Destination]) receives the operations in
//     batches and the checkpoints: in memory ([ops.Memory]), JSON Lines
//     files ([ops.Dir]), SQLite (ops/sqldest) or Postgres (ops/pgdest).
//     Each keeps the state with its rows, so the destination alone is
//     enough to resume.
//   - [Connector.Run] loads the state, syncs the streams in priority
//     order, checkpoints, logs progress and returns a [Summary].
//
// # Quick start
//
// A table of users synced incrementally from an offset API:
//
//	users := schema.MustStruct[User]("user", "id")
//	c := &connector.Connector{Name: "users", Tables: []connector.Table{{
//		Table: users.Table(),
//		Stream: connector.Incremental[User]{
//			Pages: func(w connector.Window) *paginate.Paginator[User] {
//				return paginate.New(api.Users(w.Since), paginate.Offset(100))
//			},
//			Key: func(u User) state.Mark {
//				return state.Mark{Cursor: state.Time(u.UpdatedAt), ID: state.String(u.ID)}
//			},
//			Emit: func(ctx context.Context, w *connector.Writer, u User) error {
//				return w.Upsert(ctx, "user", users.Row(&u))
//			},
//		},
//	}}}
//	summary, err := c.Run(ctx, ops.NewMemory(), connector.Options{})
//
// # Guarantees
//
// Checkpoint order: the operations of a page are handed to the
// destination, the destination makes them durable, then the state that
// covers them is saved, in the same transaction where the destination has
// them. A crash at any point replays at most the pages after the last
// checkpoint: delivery is at least once, and because upserts are
// idempotent the final tables are exact.
//
// Incremental sync keeps the mark (cursor, id) of the last checkpointed
// row; the next pass drops the rows at or before it. Ties at the boundary
// cursor are neither repeated nor lost. A newest-first pass moves the
// mark only once it completes, so an interrupted pass resumes without
// losing the rows below it.
//
// Whether a sync is loss-free while the source changes under it depends on
// the paging. Keyset paging is: it asks for the rows after a key, so rows
// that move or vanish shift nothing. Offset and page-number paging are
// not: a row updated during the run moves to the end and every later row
// shifts left past the offset, so one row per change may be skipped until
// it changes again. The paginator logs a warning when it sees the total
// change during an offset run.
//
// # Errors
//
// Errors are never swallowed. A stream's fatal error ends that stream's
// sync and is returned from Run as a [*TableError] with the state the
// stream resumes from (its last checkpoint); the other streams go on. A
// record the connector chooses not to write is passed to [Writer.Skip],
// which counts it and logs the first few.
package connector
