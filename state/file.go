package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"

	"github.com/connectkit/connector/internal/atomicfile"
)

// DefaultWarnSize is the state size, in bytes, above which a [File] logs
// a warning when WarnSize is zero.
const DefaultWarnSize = 1 << 20

// File is a [Store] keeping the state in one JSON file (see
// [State.Encode]). Make one with [NewFile]; set its fields before first
// use. It is safe for concurrent use: saves are serialized.
//
// Save replaces the file atomically: it writes a temporary file in the
// same directory, fsyncs and closes it, renames it over the path and
// fsyncs the directory, so that after a crash the file holds either the
// previous state or the new one, complete. A failed Save leaves no
// temporary file behind. The file is created with mode 0600, as a state
// may hold paging tokens.
//
// A File never overwrites a file it cannot read back: once Load (or the
// check Save makes before its first write) finds the file corrupt, Save
// fails with an error wrapping [ErrCorrupt] until the file is fixed or
// removed.
type File struct {
	// WarnSize is the encoded size, in bytes, above which a state logs a
	// warning, once per File: a state that large most likely collects
	// ids rather than marks. Zero means [DefaultWarnSize]; a negative
	// value disables the warning.
	WarnSize int
	// Logger receives the warnings; nil means [slog.Default].
	Logger *slog.Logger

	path string

	mu      sync.Mutex
	checked bool  // the existing file was read (or found absent) once
	corrupt error // the last check found the file corrupt
	warned  bool
}

var _ Store = (*File)(nil)

// NewFile returns a File store for the file at path. Nothing is read or
// written until Load or Save.
func NewFile(path string) *File {
	return &File{path: path}
}

// Path returns the path of the state file.
func (f *File) Path() string { return f.path }

// Load reads the state file. A missing file gives [New]. A file that
// cannot be read, or holds a corrupt document, is an error naming the
// path; the latter wraps [ErrCorrupt].
func (f *File) Load(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: loading %s: %w", f.path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, size, err := f.read()
	if err != nil {
		return nil, fmt.Errorf("state: loading %s: %w", f.path, err)
	}
	f.warnSize(size)
	return s, nil
}

// Save writes s to the file atomically. It refuses to overwrite a file
// found corrupt, with an error wrapping [ErrCorrupt].
func (f *File) Save(ctx context.Context, s *State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: saving %s: %w", f.path, err)
	}
	if s == nil {
		return fmt.Errorf("state: saving %s: nil state", f.path)
	}
	data, err := s.Encode()
	if err != nil {
		return fmt.Errorf("state: saving %s: %w", f.path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.checked || f.corrupt != nil {
		if _, _, err := f.read(); err != nil {
			return fmt.Errorf("state: saving %s: refusing to replace a file that cannot be read back (fix or remove it): %w", f.path, err)
		}
	}
	if err := atomicfile.WriteFile(f.path, data, 0o600); err != nil {
		return fmt.Errorf("state: saving %s: %w", f.path, err)
	}
	f.warnSize(len(data))
	return nil
}

// read reads and decodes the file, recording whether it was found corrupt.
// A missing file is New(). f.mu must be held.
func (f *File) read() (*State, int, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		f.checked, f.corrupt = true, nil
		return New(), 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	s, err := decode(data)
	if err != nil {
		f.corrupt = err
		return nil, 0, err
	}
	f.checked, f.corrupt = true, nil
	return s, len(data), nil
}

// warnSize logs the one warning of f if size is above the limit. f.mu
// must be held.
func (f *File) warnSize(size int) {
	limit := f.WarnSize
	if limit == 0 {
		limit = DefaultWarnSize
	}
	if limit < 0 || size <= limit || f.warned {
		return
	}
	f.warned = true
	log := f.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Warn("state: the state is large; it should hold marks and cursors, not lists of ids",
		"path", f.path, "size", size, "warn_size", limit)
}
