package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Memory is a [Store] in memory, for tests and demos. It is safe for
// concurrent use; the zero value is an empty store.
type Memory struct {
	mu    sync.Mutex
	st    *State
	saves int
}

var _ Store = (*Memory)(nil)

// Load returns a copy of the last state saved, or [New] if none was.
func (m *Memory) Load(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: loading from memory: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st == nil {
		return New(), nil
	}
	return m.st.Clone(), nil
}

// Save keeps a copy of s.
func (m *Memory) Save(ctx context.Context, s *State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: saving to memory: %w", err)
	}
	if s == nil {
		return errors.New("state: saving to memory: nil state")
	}
	c := s.Clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st = c
	m.saves++
	return nil
}

// Saves returns how many times Save succeeded.
func (m *Memory) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}
