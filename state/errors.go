package state

import "errors"

// ErrCorrupt is wrapped by the errors of [Decode] and of the stores for a
// state document that cannot be read back: invalid JSON, an unknown field,
// an invalid cursor, a version newer than [Version]. Such a document is
// never overwritten by a store of this package; a person has to fix or
// remove it.
var ErrCorrupt = errors.New("corrupt state")
