package connector

import (
	"log/slog"
	"time"

	"github.com/connectkit/connector/state"
)

// Options tune [Connector.Run]. The zero value means defaults: state from
// the destination when it keeps state (else in memory), one stream at a
// time, a checkpoint a second (DefaultCheckpointEvery), progress logged
// every 10 seconds to slog.Default().
type Options struct {
	// Config is the connector's configuration, which every stream reads
	// with Writer.Config. Secret-looking
	// values are redacted in logs.
	Config Config

	// Store keeps the state for a destination that cannot: it loads the
	// state at the start and saves it at each checkpoint, after the
	// destination has made the rows durable. It must be nil for a
	// destination that keeps the state with its rows (an
	// ops.StateLoader, as ops.Memory, ops.Dir and ops/sqldest are):
	// Run fails with [ErrStateOwner] otherwise, since two owners of the
	// state can disagree. Nil with a destination that keeps no state
	// means the state lives in memory for the run.
	Store state.Store

	// Concurrency is the number of streams synced at once, started in
	// priority order. Zero means 1.
	Concurrency int

	// Partitions is the number of partitions of one partitioned stream
	// that run at once. Zero means DefaultPartitions.
	Partitions int

	// Checkpointed, if set, is called after every checkpoint with the
	// state it saved (a copy the function may keep): for metrics, or to
	// heartbeat the progress of a task that runs one Part.
	Checkpointed func(st *state.State)

	// Checkpoint decides how often progress is checkpointed. The zero
	// value checkpoints at the first page boundary after
	// DefaultCheckpointEvery has passed since the last checkpoint.
	Checkpoint CheckpointPolicy

	// Logger receives progress, skipped records and the summary. Nil
	// means slog.Default().
	Logger *slog.Logger

	// Progress is the interval between progress logs while the run
	// lasts. Zero means 10 seconds; a negative value turns them off.
	Progress time.Duration

	// Now is the clock, for the synced-at times of the run's decisions
	// (priority-first windows and budgets). Nil means time.Now.
	Now func() time.Time
}

// DefaultPartitions is the number of partitions of a stream that run at
// once when Options.Partitions is zero.
const DefaultPartitions = 4

// DefaultCheckpointEvery is the interval between checkpoints of the zero
// CheckpointPolicy. BenchmarkCheckpointPolicy chose it: a checkpoint costs
// two fsyncs in a directory and a commit in SQLite or Postgres, so a
// checkpoint per page of 100 rows bounds a sync by the disk's fsync rate
// (about 15,000 rows/s into a directory on the development machine),
// while one a second costs a few percent of a fast sync and bounds what a
// crash replays to a second of rows; a slow source (100 ms a page) is
// then checkpointed about every 10 pages.
const DefaultCheckpointEvery = time.Second

// CheckpointPolicy decides when a committed page is checkpointed. A
// checkpoint always falls on a page boundary (a call of [Writer.Commit]),
// a stream's last commit is always checkpointed, and so is every commit
// when a run ends early (an error, a cancelled context). With both fields
// zero, a commit is checkpointed once DefaultCheckpointEvery has passed
// since the last checkpoint; EveryRecords 1 checkpoints every page that
// wrote anything.
type CheckpointPolicy struct {
	// EveryRecords checkpoints once a stream has written this many
	// operations since its last checkpoint.
	EveryRecords int
	// Every checkpoints once this much time has passed since the
	// stream's last checkpoint.
	Every time.Duration
}

// due reports whether a table with records operations and elapsed time
// since its last checkpoint should checkpoint now.
func (p CheckpointPolicy) due(records int64, elapsed time.Duration) bool {
	if p.EveryRecords <= 0 && p.Every <= 0 {
		p.Every = DefaultCheckpointEvery
	}
	return (p.EveryRecords > 0 && records >= int64(p.EveryRecords)) || (p.Every > 0 && elapsed >= p.Every)
}
