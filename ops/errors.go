package ops

import "errors"

// ErrCorrupt is wrapped by the errors of [OpenDir], [ReadDir] and the
// [Dir] methods for a file of a destination directory that cannot be read
// back: an invalid schema.json, or an invalid line of a table's log that
// is not its last line (an invalid last line is a write cut short by a
// crash, which is repaired, not an error). A corrupt state.json gives an
// error wrapping [state.ErrCorrupt] instead.
var ErrCorrupt = errors.New("corrupt destination file")

// ErrSchemaChange is wrapped by the error of Prepare for a table declared
// before, in this process or in the directory of a [Dir], whose new
// declaration the stored rows cannot follow: a different primary key, a
// column dropped or a column whose type changed. Adding columns and
// tables is allowed.
var ErrSchemaChange = errors.New("incompatible schema change")
