// Package state holds a connector's progress: a JSON document with a
// resume cursor and an incremental high-water mark per table, and the
// [Store]s that keep it, in memory or in a file written atomically.
//
// # Bounded state
//
// A state is checkpointed after every page, so it must stay small and of
// bounded size whatever the amount of data synced: it holds marks
// ([Mark], the (updatedAt, id) of the last row synced), paging cursors and
// a few connector-defined values, never lists of ids seen or rows
// processed. A connector that needs to know which rows it has written
// relies on idempotent upserts at the destination instead. [File] logs a
// warning when a state grows above [File.WarnSize].
//
// # Format
//
// [State.Encode] writes an indented JSON document with a trailing newline,
// its keys in a fixed order (map keys sorted), so that equal states give
// equal bytes and a state file diffs well:
//
//	{
//	  "version": 1,
//	  "tables": {
//	    "orders": {
//	      "cursor": {
//	        "token": "c2"
//	      },
//	      "mark": {
//	        "updatedAt": "2024-05-01T10:00:00Z",
//	        "id": "42"
//	      }
//	    }
//	  }
//	}
//
// [Decode] is strict, because a state misread is a sync silently restarted
// from the wrong place: invalid JSON, a value that is not an object,
// unknown fields, trailing data, a version newer than [Version], an
// invalid cursor or a null table are errors wrapping [ErrCorrupt]. A
// document without a "version" field is read as version 1, the first
// format, so that a hand-written starting state need not carry one.
package state
