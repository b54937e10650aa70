package ops

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// repairTail cuts a torn last line off a table log: a last line without
// its "\n", or whose JSON is not a valid line (see decodeLine), is what a
// crash in the middle of a write leaves. It never looks at, nor cuts, an
// earlier line. It returns the size of the log before and after; the
// file is synced when it was cut.
func repairTail(f *os.File) (before, after int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size := fi.Size()
	if size == 0 {
		return 0, 0, nil
	}
	last, err := lastNewline(f, size)
	if err != nil {
		return 0, 0, err
	}
	cut := size
	if last != size-1 {
		cut = last + 1 // no "\n" at the end: the last line is torn
	} else {
		prev, err := lastNewline(f, size-1)
		if err != nil {
			return 0, 0, err
		}
		start := prev + 1
		data := make([]byte, size-1-start)
		if _, err := f.ReadAt(data, start); err != nil {
			return 0, 0, err
		}
		if _, err := decodeLine(data); err != nil {
			cut = start
		}
	}
	if cut == size {
		return size, size, nil
	}
	if err := f.Truncate(cut); err != nil {
		return 0, 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, 0, err
	}
	return size, cut, nil
}

// lastNewline returns the offset of the last "\n" of f before end, or -1.
func lastNewline(f *os.File, end int64) (int64, error) {
	const chunk = 32 << 10
	buf := make([]byte, chunk)
	for end > 0 {
		start := max(end-chunk, 0)
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil && err != io.EOF {
			return 0, fmt.Errorf("reading at offset %d: %w", start, err)
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i), nil
		}
		end = start
	}
	return -1, nil
}
