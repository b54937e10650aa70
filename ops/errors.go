package ops

import "errors"

// ErrCorrupt is wrapped by the errors of [OpenDir], [ReadDir] and the
// [Dir] methods for a destination directory that does not hold what its
// last checkpoint recorded, or that cannot be read back: an invalid
// schema.json or checkpoint journal, a table log missing, shorter than
// the checkpoint covers or whose covered bytes changed, or an invalid
// line a crash cannot leave (see the package documentation; a last line
// cut short by a crash is repaired, not an error). A checkpointed state
// that cannot be decoded gives an error wrapping [state.ErrCorrupt]
// instead. Other destinations wrap it for the same kind of damage: the
// SQLite destination of ops/sqldest for a table missing or holding
// another number of rows than its last checkpoint recorded.
var ErrCorrupt = errors.New("corrupt destination file")

// ErrSchemaChange is wrapped by the error of Prepare for a table declared
// before, in this process or in the directory of a [Dir], whose new
// declaration the stored rows cannot follow: a different primary key, a
// column dropped or a column whose type changed. Adding columns and
// tables is allowed.
var ErrSchemaChange = errors.New("incompatible schema change")
