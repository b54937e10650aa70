// Package filelock takes an exclusive lock on a file, held until it is
// released or the process ends (a killed process releases it too), so
// that two processes, or two users in one process, cannot write the
// same destination at once.
package filelock

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is wrapped by the error of [Lock] when another holder has the
// lock.
var ErrLocked = errors.New("locked by another holder")

// File is a held lock.
type File struct {
	f *os.File
}

// Lock creates the file at path if needed (mode 0600) and takes an
// exclusive lock on it without waiting: if another open file, in this
// process or another, holds the lock, the error wraps [ErrLocked]. On
// Unix the lock is flock(2) (advisory: it binds only programs that take
// it); on Windows the file is opened without sharing, so a second open
// fails while the first is held.
func Lock(path string) (*File, error) {
	f, err := lock(path)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &File{f: f}, nil
}

// Unlock releases the lock and closes the file; the file stays. Calling
// it again does nothing.
func (l *File) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the file releases its lock
	l.f = nil
	return err
}
