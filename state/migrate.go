package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/connectkit/connector/paginate"
)

// The tables of a version 1 document, whose marks were an updatedAt time
// and a string id.
type (
	tableV1 struct {
		Cursor  paginate.Cursor   `json:"cursor"`
		Mark    markV1            `json:"mark"`
		History *historyV1        `json:"history"`
		Values  map[string]string `json:"values"`
	}
	markV1 struct {
		UpdatedAt time.Time `json:"updatedAt"`
		ID        string    `json:"id"`
	}
	historyV1 struct {
		Until time.Time `json:"until"`
		Mark  markV1    `json:"mark"`
		Done  bool      `json:"done"`
	}
)

// decodeV1 reads the tables of a version 1 document and migrates them:
// a mark's updatedAt becomes a [Time] cursor and its id a [String] (which
// [Mark.As] converts to an integer for a stream with numeric ids), and a
// history's Start is its Until, where version 1 began the forward pass
// while the mark was zero.
func decodeV1(data json.RawMessage) (map[string]*Table, error) {
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, nil
	}
	var old map[string]*tableV1
	if err := decodeStrict(data, &old); err != nil {
		return nil, fmt.Errorf("%w: version 1 tables: %w", ErrCorrupt, err)
	}
	tables := make(map[string]*Table, len(old))
	for name, t := range old {
		if t == nil {
			return nil, fmt.Errorf("%w: table %q is null", ErrCorrupt, name)
		}
		nt := &Table{Cursor: t.Cursor, Mark: t.Mark.migrate(), Values: t.Values}
		if h := t.History; h != nil {
			nt.History = &History{Start: h.Until, Until: h.Until, Mark: h.Mark.migrate(), Done: h.Done}
		}
		tables[name] = nt
	}
	return tables, nil
}

func (m markV1) migrate() Mark {
	var out Mark
	if !m.UpdatedAt.IsZero() {
		out.Cursor = Time(m.UpdatedAt)
	}
	if m.ID != "" {
		out.ID = String(m.ID)
	}
	return out
}
