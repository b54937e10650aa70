package ops

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/connectkit/connector/schema"
)

// logScan is what scanLog found in a table log.
type logScan struct {
	// end is the offset of the end of the last complete line, where a
	// torn last line starts, if any: the log's size once repaired.
	end int64
	// torn is the size of a torn last line after end: a write cut short
	// by a crash, past the last checkpoint.
	torn int64
	// mark is the coverage of the whole log up to end: its lines and the
	// CRC-32C of its bytes.
	mark logMark
	// pending counts the lines after the checkpoint's coverage.
	pending int64
}

// scanLog checks the table log r, of size bytes, of table t, against
// covered, what the last checkpoint recorded of it:
//
//   - the first covered.Bytes bytes must be exactly what the checkpoint
//     covered (as many lines, the same CRC-32C): a log shorter than that,
//     emptied, or changed, is damaged or written by someone else;
//   - every complete line after them must be a valid operation of t,
//     since a crash cannot leave a line with its "\n" but invalid;
//   - a last line without its "\n" past the coverage is a write cut
//     short by a crash, reported in logScan.torn.
//
// Every problem is an error wrapping ErrCorrupt that names the file, the
// line and what the checkpoint covers. The lines the checkpoint covers
// are decoded only if replay is not nil; replay, if not nil, gets every
// operation of the complete lines, in order.
func scanLog(r io.ReaderAt, size int64, path string, t *schema.Compiled, covered logMark, replay func(op *Op, at time.Time)) (logScan, error) {
	var s logScan
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", path, ErrCorrupt, fmt.Sprintf(format, args...))
	}
	if size < covered.Bytes {
		return s, corrupt("the last checkpoint covers its first %d bytes (%d operations), but it has %d: it was truncated or replaced", covered.Bytes, covered.Lines, size)
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 64<<10)
	var crc uint32
	var offset, lines int64
	var line []byte
	var decodeErr error // the first covered line that does not decode
	checkCoverage := func() error {
		if lines != covered.Lines || crcHex(crc) != covered.CRC {
			return corrupt("its first %d bytes are not those the last checkpoint covered (%d operations, CRC-32C %08x; found %d operations, CRC-32C %08x): it was damaged or written by another program",
				covered.Bytes, covered.Lines, uint32(covered.CRC), lines, crc)
		}
		return decodeErr
	}
	if covered.Bytes == 0 && covered.Lines != 0 {
		return s, corrupt("the last checkpoint covers %d operations in 0 bytes", covered.Lines)
	}
	for lineNo := int64(1); ; lineNo++ {
		var err error
		line, err = readLine(br, line[:0])
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, fmt.Errorf("reading %s: %w", path, err)
		}
		start := offset
		offset += int64(len(line))
		inCovered := offset <= covered.Bytes
		if start < covered.Bytes && offset > covered.Bytes {
			return s, corrupt("line %d runs across the end of what the last checkpoint covers (%d bytes)", lineNo, covered.Bytes)
		}
		if line[len(line)-1] != '\n' {
			// The last line, without its "\n".
			if inCovered {
				return s, corrupt("the last checkpoint covers %d bytes, which end inside line %d", covered.Bytes, lineNo)
			}
			s.torn = int64(len(line))
			offset = start
			break
		}
		crc = crc32.Update(crc, crcTable, line)
		lines++
		if !inCovered || replay != nil {
			op, at, err := decodeOp(t, line[:len(line)-1])
			switch {
			case err != nil && inCovered:
				if decodeErr == nil {
					decodeErr = corrupt("line %d, which the last checkpoint covers, is not a valid operation: %v", lineNo, err)
				}
			case err != nil:
				return s, corrupt("line %d, after what the last checkpoint covers (%d bytes), is not a valid operation, and a crash cannot leave such a line: %v (cutting the file to %d bytes would drop the operations after the checkpoint, which a sync writes again)",
					lineNo, covered.Bytes, err, covered.Bytes)
			case replay != nil:
				replay(&op, at)
			}
		}
		if !inCovered {
			s.pending++
		}
		if offset == covered.Bytes {
			if err := checkCoverage(); err != nil {
				return s, err
			}
		}
	}
	if covered.Bytes == 0 && covered.CRC != 0 {
		return s, corrupt("the last checkpoint covers 0 bytes with CRC-32C %08x", uint32(covered.CRC))
	}
	s.end = offset
	s.mark = logMark{Bytes: offset, Lines: lines, CRC: crcHex(crc)}
	return s, nil
}

// readLine appends to buf the next line of r, with its "\n" unless it is
// the last line and has none; it returns io.EOF at the end.
func readLine(r *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		frag, err := r.ReadSlice('\n')
		buf = append(buf, frag...)
		switch {
		case err == nil:
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) > 0:
			return buf, nil
		default:
			return buf, err
		}
	}
}

// decodeOp decodes a log line, without its "\n", into the operation it
// stores for table t and its time.
func decodeOp(t *schema.Compiled, data []byte) (Op, time.Time, error) {
	if bytes.IndexByte(data, '\n') >= 0 {
		return Op{}, time.Time{}, errors.New("newline inside a line")
	}
	l, err := decodeLine(data)
	if err != nil {
		return Op{}, time.Time{}, err
	}
	op := Op{Kind: l.op, Table: t.Name()}
	if l.row != nil {
		if op, err = decodeRow(t, l.op, l.row); err != nil {
			return Op{}, time.Time{}, err
		}
	}
	return op, l.at, nil
}
