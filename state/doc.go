// Package state holds a connector's progress: a JSON document with a
// resume cursor and an incremental high-water mark per table, and the
// [Store]s that keep it, in memory or in a file written atomically.
//
// # Bounded state
//
// A state is checkpointed after every page, so it must stay small and of
// bounded size whatever the amount of data synced: it holds marks
// ([Mark], the (cursor, id) of the last row synced), paging cursors and
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
//	  "version": 2,
//	  "tables": {
//	    "orders": {
//	      "cursor": {
//	        "token": "c2"
//	      },
//	      "mark": {
//	        "cursor": {
//	          "time": "2024-05-01T10:00:00Z"
//	        },
//	        "id": {
//	          "int": 1000000000
//	        }
//	      }
//	    }
//	  }
//	}
//
// # Typed marks
//
// A mark's cursor and id are [Value]s that carry their type (time,
// integer or string) and compare by it, so numeric ids compare as numbers
// and an id of 1000000000 comes after 999999999. Version 1 documents,
// whose marks held an updatedAt time and a string id, are migrated when
// read: the time becomes a Time value and the id a String, which a stream
// with numeric ids converts with [Mark.As].
//
// [Decode] is strict, because a state misread is a sync silently restarted
// from the wrong place: invalid JSON, a value that is not an object,
// unknown fields, trailing data, a version newer than [Version], an
// invalid cursor or a null table are errors wrapping [ErrCorrupt]. A
// document without a "version" field is read as version 1, the first
// format, and migrated.
package state
