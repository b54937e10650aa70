package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/connectkit/connector/paginate"
)

// Version is the format version of the state document this package writes.
const Version = 1

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

// Table is the progress of one table.
type Table struct {
	// Cursor is where paging resumes within the current pass.
	Cursor paginate.Cursor `json:"cursor,omitzero"`
	// Mark is the incremental high-water mark: the (updatedAt, id) of the
	// last row of the last checkpointed page.
	Mark Mark `json:"mark,omitzero"`
	// History is the progress of a priority-first backward pass, nil when
	// the table does not use one.
	History *History `json:"history,omitempty"`
	// Values holds connector-defined strings.
	Values map[string]string `json:"values,omitempty"`
}

// Mark is a position in a collection ordered by (UpdatedAt, ID). Ordering
// by the timestamp alone loses or repeats rows that share it.
type Mark struct {
	UpdatedAt time.Time `json:"updatedAt"`
	ID        string    `json:"id,omitempty"`
}

// History is the progress of the backward pass of a priority-first sync.
type History struct {
	// Until is the lower edge of what is synced: rows updated before
	// Until are not yet synced, unless Done.
	Until time.Time `json:"until"`
	// Mark is the progress within the window being filled, which ends at
	// Until.
	Mark Mark `json:"mark,omitzero"`
	// Done reports that history is complete down to the limit.
	Done bool `json:"done,omitempty"`
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

// clone returns a deep copy of t.
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
// is rejected. A document without a version is read as version 1. The
// returned state has a non-nil Tables map.
func Decode(data []byte) (*State, error) {
	s, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("state: decoding: %w", err)
	}
	return s, nil
}

// document is the decoding form of State, telling a missing version from
// a zero one.
type document struct {
	Version *int              `json:"version"`
	Tables  map[string]*Table `json:"tables"`
}

// decode is Decode without the message prefix; its errors wrap ErrCorrupt.
func decode(data []byte) (*State, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrCorrupt)
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrCorrupt)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var doc document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the document", ErrCorrupt)
	}
	v := 1
	if doc.Version != nil {
		v = *doc.Version
	}
	switch {
	case v < 1:
		return nil, fmt.Errorf("%w: invalid version %d", ErrCorrupt, v)
	case v > Version:
		return nil, fmt.Errorf("%w: version %d is newer than %d, the newest this library reads", ErrCorrupt, v, Version)
	}
	s := &State{Version: v, Tables: doc.Tables}
	if s.Tables == nil {
		s.Tables = make(map[string]*Table)
	}
	for name, t := range s.Tables {
		if t == nil {
			return nil, fmt.Errorf("%w: table %q is null", ErrCorrupt, name)
		}
	}
	return s, nil
}

// IsZero reports whether m is the zero Mark, the position before every
// row.
func (m Mark) IsZero() bool { return m.UpdatedAt.IsZero() && m.ID == "" }

// Compare returns -1, 0 or +1 as m is before, at or after o: by UpdatedAt
// (as instants, whatever their time zones), then by ID as bytes.
func (m Mark) Compare(o Mark) int {
	if c := m.UpdatedAt.Compare(o.UpdatedAt); c != 0 {
		return c
	}
	return strings.Compare(m.ID, o.ID)
}

// Before reports whether m is before o in (UpdatedAt, ID) order.
func (m Mark) Before(o Mark) bool { return m.Compare(o) < 0 }

// String describes m for logs, as "2024-05-01T10:00:00Z id=\"42\"", or
// "zero" for the zero Mark.
func (m Mark) String() string {
	if m.IsZero() {
		return "zero"
	}
	s := m.UpdatedAt.Format(time.RFC3339Nano)
	if m.ID != "" {
		s += " id=" + strconv.Quote(m.ID)
	}
	return s
}
