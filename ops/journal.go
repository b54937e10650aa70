package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/connectkit/connector/state"
)

// The checkpoint journal of a Dir, checkpoints.jsonl: one line per
// checkpoint, appended and fsynced after the logs it covers,
//
//	{"seq":7,"at":"2024-05-01T10:00:00Z","logs":{"users":{"bytes":51234,"lines":300,"crc32c":"1c291ca3"}},"state":{...}}
//
// where logs records, for every table log of the directory, how much of
// it the checkpoint covers: its first bytes bytes, holding lines
// operations, whose CRC-32C (Castagnoli) is crc32c in hex; and state is
// the checkpointed state document (see state.State.Encode), compacted.
// The last complete line is the directory's checkpoint. A crash while a
// line is appended leaves it without its "\n", and it is ignored (and cut
// by the next Dir); any other invalid line is corruption. When the
// journal grows past journalCompactSize it is replaced, atomically, by
// its last line.

// journalFileName is the name of the checkpoint journal.
const journalFileName = "checkpoints.jsonl"

// journalCompactSize is the size past which a checkpoint rewrites the
// journal as its last line (or past 8 lines of the size of the last one,
// for large states).
const journalCompactSize = 1 << 20

// crcTable is the CRC-32C table of the logs' checksums, computed in
// hardware on common CPUs.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// logMark is how much of a table log a checkpoint covers.
type logMark struct {
	Bytes int64  `json:"bytes"`
	Lines int64  `json:"lines"`
	CRC   crcHex `json:"crc32c"`
}

// crcHex is a CRC-32C written as 8 hex digits.
type crcHex uint32

func (c crcHex) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%08x", uint32(c)), nil
}

func (c *crcHex) UnmarshalText(b []byte) error {
	if len(b) != 8 {
		return fmt.Errorf("crc32c %q is not 8 hex digits", b)
	}
	n, err := strconv.ParseUint(string(b), 16, 32)
	if err != nil {
		return fmt.Errorf("crc32c %q is not 8 hex digits", b)
	}
	*c = crcHex(n)
	return nil
}

// record is one line of the journal.
type record struct {
	Seq   int64              `json:"seq"`
	At    time.Time          `json:"at"`
	Logs  map[string]logMark `json:"logs"`
	State json.RawMessage    `json:"state"`
}

// encodeRecord returns the journal line of r, with its "\n".
func encodeRecord(r *record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// compactState returns the document of st on one line.
func compactState(st *state.State) (json.RawMessage, error) {
	doc, err := st.Encode()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// journal is the content of a journal file as read.
type journal struct {
	last  *record      // the last checkpoint; nil if none
	state *state.State // its state; nil if it cannot be decoded
	// stateErr is the error decoding last's state, wrapping
	// state.ErrCorrupt.
	stateErr error
	size     int64 // the bytes of the complete lines
	torn     int64 // the bytes of a torn last line after them
}

// readJournal reads the journal at path. A missing journal has no
// checkpoint. A line that is not a valid record, or whose seq does not
// follow the line before, is an error wrapping ErrCorrupt; a torn last
// line is reported in journal.torn. A state that cannot be decoded is
// reported in stateErr, not as an error, so that the rows stay readable.
func readJournal(path string) (*journal, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &journal{}, nil
	}
	if err != nil {
		return nil, err
	}
	j := &journal{}
	for lineNo := 1; len(data) > 0; lineNo++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			j.torn = int64(len(data)) // a line cut short by a crash
			break
		}
		var r record
		if err := decodeStrictJSON(data[:i], &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w: %w", path, lineNo, ErrCorrupt, err)
		}
		switch {
		case j.last != nil && r.Seq != j.last.Seq+1:
			return nil, fmt.Errorf("%s line %d: %w: checkpoint %d follows checkpoint %d", path, lineNo, ErrCorrupt, r.Seq, j.last.Seq)
		case len(r.State) == 0:
			return nil, fmt.Errorf("%s line %d: %w: no state", path, lineNo, ErrCorrupt)
		}
		for name, m := range r.Logs {
			if m.Bytes < 0 || m.Lines < 0 || m.Lines > m.Bytes {
				return nil, fmt.Errorf("%s line %d: %w: impossible coverage of table %q: %d lines in %d bytes", path, lineNo, ErrCorrupt, name, m.Lines, m.Bytes)
			}
		}
		j.last = &r
		j.size += int64(i + 1)
		data = data[i+1:]
	}
	if j.last != nil {
		st, err := state.Decode(j.last.State)
		if err != nil {
			j.stateErr = fmt.Errorf("%s, checkpoint %d: %w", path, j.last.Seq, err)
		}
		j.state = st
	}
	return j, nil
}

// decodeStrictJSON decodes the one JSON object of data into v, rejecting
// unknown fields and trailing data.
func decodeStrictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}
