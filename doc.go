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
//   - A [Connector] is a set of [Table]s, each a schema (name, primary key,
//     typed columns) with a priority and a [SyncFunc].
//   - A SyncFunc emits operations through its [Sync]: Upsert, Update,
//     Delete (soft), Truncate (soft), and commits its state at each page
//     boundary with [Sync.Commit].
//   - The state ([state.State]) is a JSON document with each table's
//     cursor and incremental mark. It is bounded: marks and cursors, never
//     lists of seen ids.
//   - A destination ([ops.Destination]) receives the operations and the
//     checkpoints: in memory ([ops.Memory]) or as JSON Lines files with a
//     state.json ([ops.Dir]).
//   - [Connector.Run] loads the state, syncs the tables in priority order,
//     checkpoints, logs progress and returns a [Summary].
//
// # Quick start
//
// A table of users synced incrementally from an offset API:
//
//	users := schema.MustStruct[User]("user", "id")
//	c := &connector.Connector{Name: "users", Tables: []connector.Table{{
//		Table: users.Table(),
//		Sync: func(ctx context.Context, s *connector.Sync) error {
//			return connector.Incremental[User]{
//				Pages: func(w connector.Window) *paginate.Paginator[User] {
//					return paginate.New(api.Users(w.Since), paginate.Offset(100))
//				},
//				Key: func(u User) state.Mark { return state.Mark{UpdatedAt: u.UpdatedAt, ID: u.ID} },
//			}.Sync(ctx, s, func(ctx context.Context, u User) error {
//				return s.Upsert(ctx, users.Row(&u))
//			})
//		},
//	}}}
//	summary, err := c.Run(ctx, ops.NewMemory(), connector.Options{})
//
// # Guarantees
//
// Checkpoint order: the operations of a page are handed to the
// destination, the destination makes them durable, then the state that
// covers them is saved. A crash at any point replays at most the pages
// after the last checkpoint: delivery is at least once, and because
// upserts are idempotent the final tables are exact.
//
// Incremental sync keeps the mark (updatedAt, id) of the last checkpointed
// row; the next pass drops the rows at or before it. Ties at the boundary
// timestamp are neither repeated nor lost.
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
// Errors are never swallowed. A table's fatal error ends that table's sync
// and is returned from Run as a [*TableError] with the state the table
// resumes from; the other tables go on. A record the connector chooses not
// to write is passed to [Sync.Skip], which logs and counts it.
package connector
