package state

import "context"

// Store keeps the last checkpointed State between runs.
//
// Load returns the state last saved, or [New] when the store holds
// nothing yet, which is not an error. A store holding a document it
// cannot read returns an error wrapping [ErrCorrupt] and never overwrites
// that document.
//
// Implementations copy states in and out: Save never keeps the caller's
// *State (later changes to it do not reach the store) and Load returns a
// state the caller owns. They are safe for concurrent use.
type Store interface {
	Load(ctx context.Context) (*State, error)
	Save(ctx context.Context, s *State) error
}
