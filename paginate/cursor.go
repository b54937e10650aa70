package paginate

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/connectkit/connector/internal/redact"
)

// Cursor is a position in a paged collection. The zero value is the start.
//
// Which fields matter depends on the [Strategy]: Offset for [Offset], Page
// for [PageNumber], Token for [Token] (an opaque token or a next URL) and Key
// for [Keyset]. Limit carries the page size the strategy asks for, so that a
// Source need not be told it twice. Done marks the position after the last
// page of a finished run: a Paginator started at a Done cursor yields
// nothing. Offset and Keyset cursors keep their position when Done, so
// clearing Done continues with the items added since.
//
// Cursor is comparable and round-trips through JSON, so it can be
// checkpointed into state and resumed in another process.
type Cursor struct {
	Offset int64  `json:"offset,omitempty"`
	Page   int64  `json:"page,omitempty"`
	Token  string `json:"token,omitempty"`
	Key    string `json:"key,omitempty"`
	Limit  int    `json:"limit,omitempty"`
	Done   bool   `json:"done,omitempty"`
}

// IsZero reports whether c is the zero Cursor, the start of a collection.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// String describes c for logs and error messages. Secret-looking query
// values of a next URL are redacted and long tokens are shortened.
func (c Cursor) String() string {
	var parts []string
	if c.Offset != 0 {
		parts = append(parts, "offset="+strconv.FormatInt(c.Offset, 10))
	}
	if c.Page != 0 {
		parts = append(parts, "page="+strconv.FormatInt(c.Page, 10))
	}
	if c.Token != "" {
		parts = append(parts, "token="+shorten(redact.URL(c.Token)))
	}
	if c.Key != "" {
		parts = append(parts, "key="+shorten(c.Key))
	}
	if c.Limit != 0 {
		parts = append(parts, "limit="+strconv.Itoa(c.Limit))
	}
	if c.Done {
		parts = append(parts, "done")
	}
	if len(parts) == 0 {
		return "start"
	}
	return strings.Join(parts, " ")
}

func shorten(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "…"
}

// UnmarshalJSON decodes a Cursor and rejects values no run can produce, such
// as a negative offset, so that a damaged checkpoint is an error rather than
// a silent restart from the wrong place.
func (c *Cursor) UnmarshalJSON(b []byte) error {
	type plain Cursor
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("paginate: decoding cursor: %w", err)
	}
	if err := Cursor(v).validate(); err != nil {
		return err
	}
	*c = Cursor(v)
	return nil
}

// ErrBadCursor is returned for a Cursor that no run could have produced,
// or that a run of another strategy produced (a Token cursor given to an
// Offset strategy): a run started at it yields this error and fetches
// nothing.
var ErrBadCursor = errors.New("paginate: invalid cursor")

func (c Cursor) validate() error {
	switch {
	case c.Offset < 0:
		return fmt.Errorf("%w: negative offset %d", ErrBadCursor, c.Offset)
	case c.Page < 0:
		return fmt.Errorf("%w: negative page %d", ErrBadCursor, c.Page)
	case c.Limit < 0:
		return fmt.Errorf("%w: negative limit %d", ErrBadCursor, c.Limit)
	}
	return nil
}

// fits reports a cursor that another strategy produced: a position field
// that strategy k never sets. Passing it on would hand the Source stale
// fields (a Token cursor to an Offset source restarts it at offset 0).
func (c Cursor) fits(k Kind) error {
	var foreign []string
	if c.Offset != 0 && k != KindOffset {
		foreign = append(foreign, "offset")
	}
	if c.Page != 0 && k != KindPageNumber {
		foreign = append(foreign, "page")
	}
	if c.Token != "" && k != KindToken {
		foreign = append(foreign, "token")
	}
	if c.Key != "" && k != KindKeyset {
		foreign = append(foreign, "key")
	}
	if len(foreign) > 0 {
		return fmt.Errorf("%w: a %s strategy cannot resume from a cursor with %s (%v): it comes from another strategy", ErrBadCursor, k, strings.Join(foreign, " and "), c)
	}
	return nil
}
