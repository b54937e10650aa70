package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/connectkit/connector/paginate"
)

// Version is the format version of the state document this package
// writes. Version 2 types the values of marks (see [Value]); documents of
// version 1, whose marks hold an updatedAt time and a string id, are
// migrated when they are read.
const Version = 2

// State is a connector's progress, checkpointed as one JSON document.
//
// A State must stay bounded: see the package documentation.
type State struct {
	// Version is the format version; documents of a newer version are
	// rejected rather than misread.
	Version int `json:"version"`
	// Tables holds each table's progress by table name.
	Tables map[string]*Table `json:"tables,omitempty"`
}

// Table is the progress of one table's stream.
type Table struct {
	// Cursor is where paging resumes within the current pass: the pass of
	// a full refresh, or the newest-first pass in progress.
	Cursor paginate.Cursor `json:"cursor,omitzero"`
	// Mark is the incremental high-water mark: every row at or before it
	// is synced. An oldest-first pass moves it after every page; a
	// newest-first pass moves it when the pass completes.
	Mark Mark `json:"mark,omitzero"`
	// Pass is the progress of a newest-first pass, nil when none is under
	// way.
	Pass *Pass `json:"pass,omitempty"`
	// History is the progress of a priority-first backward pass, nil when
	// the table does not use one.
	History *History `json:"history,omitempty"`
	// Partitions is the plan of a partitioned stream, in the order the
	// stream made it, each part with its own progress: parts of the
	// stream's work that run, and resume, on their own. Nil for a stream
	// without partitions.
	Partitions []*Partition `json:"partitions,omitempty"`
	// Values holds connector-defined strings.
	Values map[string]string `json:"values,omitempty"`
}

// Mark is a position in a collection ordered by (Cursor, ID): the cursor
// value of a row (its updatedAt, sequence number or version) and a
// tie-breaker (its id) for the rows that share a cursor value. Ordering by
// the cursor alone loses or repeats the rows that share it. Each part
// compares by its own type (see [Value]).
type Mark struct {
	Cursor Value `json:"cursor,omitzero"`
	ID     Value `json:"id,omitzero"`
}

// Pass is the progress of a newest-first pass: rows are read from the
// newest down to the table's Mark, and the Mark moves only once the pass
// is complete, since until then rows between the Mark and the pass's
// position are not yet read.
type Pass struct {
	// Top is the key of the first (newest) row of the pass: the Mark once
	// the pass completes.
	Top Mark `json:"top,omitzero"`
	// Last is the key of the last row the pass has handled, the lowest so
	// far: rows after it and up to Top are synced.
	Last Mark `json:"last,omitzero"`
}

// History is the progress of the backward pass of a priority-first sync.
type History struct {
	// Start is where the first forward pass began (now minus the recent
	// window at the first sync): the forward pass starts there again as
	// long as the table's Mark is zero, so that a recent window without
	// rows does not send the next sync back to the history edge.
	Start time.Time `json:"start,omitzero"`
	// Until is the lower edge of what is synced: rows with a cursor
	// before Until are not yet synced, unless Done.
	Until time.Time `json:"until"`
	// Mark is the progress within the window being filled, which ends at
	// Until.
	Mark Mark `json:"mark,omitzero"`
	// Done reports that history is complete down to the limit.
	Done bool `json:"done,omitempty"`
}

// Partition is one part of a stream's work: a time window, a key range
// or a shard the source names, with its own progress. A stream plans its
// partitions once and keeps the plan in its state, so that a restarted
// sync, or another machine, finds the same parts.
type Partition struct {
	// ID names the partition within its stream: stable, unique, short.
	ID string `json:"id"`
	// Since and Until bound a time window: [Since, Until).
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Lo and Hi bound a key range: [Lo, Hi), a zero bound open.
	Lo Value `json:"lo,omitzero"`
	Hi Value `json:"hi,omitzero"`
	// Shard names a part the source itself divides its data into (an
	// account, a region, a queue).
	Shard string `json:"shard,omitempty"`
	// Cursor is where paging resumes within the partition.
	Cursor paginate.Cursor `json:"cursor,omitzero"`
	// Mark is the partition's incremental high-water mark.
	Mark Mark `json:"mark,omitzero"`
	// Done reports that the partition is complete.
	Done bool `json:"done,omitempty"`
}

// Partition returns the partition of t with the given ID, nil if t has
// none.
func (t *Table) Partition(id string) *Partition {
	for _, p := range t.Partitions {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// New returns an empty State of the current [Version], the state of a
// connector that has not synced anything yet.
func New() *State {
	return &State{Version: Version, Tables: make(map[string]*Table)}
}

// Table returns the progress of the table name, adding an empty one if
// s has none yet.
func (s *State) Table(name string) *Table {
	if s.Tables == nil {
		s.Tables = make(map[string]*Table)
	}
	t := s.Tables[name]
	if t == nil {
		t = new(Table)
		s.Tables[name] = t
	}
	return t
}

// Clone returns a deep copy of s: changing one never changes the other.
// A nil map stays nil. Clone of a nil State is nil.
func (s *State) Clone() *State {
	if s == nil {
		return nil
	}
	c := &State{Version: s.Version}
	if s.Tables != nil {
		c.Tables = make(map[string]*Table, len(s.Tables))
		for name, t := range s.Tables {
			c.Tables[name] = t.Clone()
		}
	}
	return c
}

// Clone returns a deep copy of t, or nil for a nil t.
func (t *Table) Clone() *Table {
	if t == nil {
		return nil
	}
	c := *t
	if t.History != nil {
		h := *t.History
		c.History = &h
	}
	if t.Pass != nil {
		p := *t.Pass
		c.Pass = &p
	}
	if t.Partitions != nil {
		c.Partitions = make([]*Partition, len(t.Partitions))
		for i, p := range t.Partitions {
			if p != nil {
				q := *p
				c.Partitions[i] = &q
			}
		}
	}
	c.Values = maps.Clone(t.Values)
	return &c
}

// Encode returns s as an indented JSON document with a trailing newline.
// Equal states give equal bytes. The document always carries the current
// [Version]; Encode fails for a state of a newer version and for a state
// that [Decode] would reject, such as a nil table or a negative cursor
// offset, so that a store never writes what it cannot load.
func (s *State) Encode() ([]byte, error) {
	if s == nil {
		return nil, errors.New("state: encoding: nil state")
	}
	if s.Version > Version {
		return nil, fmt.Errorf("state: encoding: version %d is newer than %d, the newest this library writes", s.Version, Version)
	}
	doc := *s
	doc.Version = Version
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("state: encoding: %w", err)
	}
	if _, err := decode(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("state: encoding: invalid state: %v", err)
	}
	return buf.Bytes(), nil
}

// Decode parses a state document written by [State.Encode] (or by hand).
// Every error wraps [ErrCorrupt]; see the package documentation for what
// is rejected. A document without a version is read as version 1. A
// version 1 document is migrated (see [Version]): the returned state is
// of the current Version, and has a non-nil Tables map.
func Decode(data []byte) (*State, error) {
	s, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("state: decoding: %w", err)
	}
	return s, nil
}

// envelope is the first reading of a document: its version, telling a
// missing version from a zero one, and its tables, read by version.
type envelope struct {
	Version *int            `json:"version"`
	Tables  json.RawMessage `json:"tables"`
}

// decode is Decode without the message prefix; its errors wrap ErrCorrupt.
func decode(data []byte) (*State, error) {
	var env envelope
	if err := decodeStrict(data, &env); err != nil {
		return nil, err
	}
	v := 1
	if env.Version != nil {
		v = *env.Version
	}
	s := &State{Version: Version}
	switch {
	case v < 1:
		return nil, fmt.Errorf("%w: invalid version %d", ErrCorrupt, v)
	case v > Version:
		return nil, fmt.Errorf("%w: version %d is newer than %d, the newest this library reads", ErrCorrupt, v, Version)
	case v == 1:
		tables, err := decodeV1(env.Tables)
		if err != nil {
			return nil, err
		}
		s.Tables = tables
	case len(env.Tables) > 0 && !bytes.Equal(env.Tables, []byte("null")):
		if err := decodeStrict(env.Tables, &s.Tables); err != nil {
			return nil, fmt.Errorf("%w: tables: %w", ErrCorrupt, err)
		}
	}
	if s.Tables == nil {
		s.Tables = make(map[string]*Table)
	}
	for name, t := range s.Tables {
		if t == nil {
			return nil, fmt.Errorf("%w: table %q is null", ErrCorrupt, name)
		}
		ids := make(map[string]bool, len(t.Partitions))
		for i, p := range t.Partitions {
			switch {
			case p == nil:
				return nil, fmt.Errorf("%w: table %q: partition %d is null", ErrCorrupt, name, i)
			case p.ID == "":
				return nil, fmt.Errorf("%w: table %q: partition %d has no id", ErrCorrupt, name, i)
			case ids[p.ID]:
				return nil, fmt.Errorf("%w: table %q: partition %q is listed twice", ErrCorrupt, name, p.ID)
			}
			ids[p.ID] = true
		}
	}
	return s, nil
}

// decodeStrict decodes the JSON object in data into v: unknown fields and
// trailing data are errors wrapping ErrCorrupt.
func decodeStrict(data []byte, v any) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return fmt.Errorf("%w: empty document", ErrCorrupt)
	}
	if trimmed[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrCorrupt)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, ErrCorrupt) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the document", ErrCorrupt)
	}
	return nil
}

// IsZero reports whether m is the zero Mark, the position before every
// row.
func (m Mark) IsZero() bool { return m.Cursor.IsZero() && m.ID.IsZero() }

// Compare returns -1, 0 or +1 as m is before, at or after o: by Cursor,
// then by ID, each by its own type (see [Value.Compare]).
func (m Mark) Compare(o Mark) int {
	if c := m.Cursor.Compare(o.Cursor); c != 0 {
		return c
	}
	return m.ID.Compare(o.ID)
}

// Before reports whether m is before o in (Cursor, ID) order.
func (m Mark) Before(o Mark) bool { return m.Compare(o) < 0 }

// As returns m with its cursor converted to type cursor and its ID to
// type id (see [Value.As]); a zero type leaves that part as it is. A
// driver calls it on a checkpointed mark before comparing rows with it,
// so that a mark written before the types were declared (version 1
// documents hold ids as strings) compares by the declared types.
func (m Mark) As(cursor, id Type) (Mark, error) {
	var err error
	if cursor != 0 {
		if m.Cursor, err = m.Cursor.As(cursor); err != nil {
			return Mark{}, fmt.Errorf("state: mark cursor: %w", err)
		}
	}
	if id != 0 {
		if m.ID, err = m.ID.As(id); err != nil {
			return Mark{}, fmt.Errorf("state: mark id: %w", err)
		}
	}
	return m, nil
}

// String describes m for logs, as `2024-05-01T10:00:00Z id="42"` or
// `1000 id=7`, or "zero" for the zero Mark.
func (m Mark) String() string {
	if m.IsZero() {
		return "zero"
	}
	s := m.Cursor.String()
	if !m.ID.IsZero() {
		s += " id=" + m.ID.String()
	}
	return s
}
