package schema

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalidTable reports a bad table definition: a missing name or
// primary key, a duplicate or reserved column name, an invalid type, or a
// struct field [Struct] cannot map to a column. [Table.Validate],
// [Table.Compile] and [Struct] return errors that wrap it.
var ErrInvalidTable = errors.New("schema: invalid table")

// ErrUnknownTable reports a row for a table that was not declared. This
// package does not return it; it is shared by the packages that look
// tables up by name.
var ErrUnknownTable = errors.New("schema: unknown table")

// ErrUnknownColumn reports a row holding a column its table does not
// declare.
var ErrUnknownColumn = errors.New("schema: unknown column")

// ErrMissingKey reports a row whose primary key column is absent or NULL.
var ErrMissingKey = errors.New("schema: primary key missing")

// ErrWrongType reports a value that its column's type does not accept:
// a Go type the column type does not take, text that does not parse, or a
// number out of the type's range. For the latter the error also matches
// [strconv.ErrRange].
var ErrWrongType = errors.New("schema: wrong type")

// ValueError is the error the Normalize methods return for a bad row: the
// table, the column and the value that was being checked.
type ValueError struct {
	// Table is the table's name.
	Table string
	// Column is the column's name.
	Column string
	// Value is the value as the row held it (nil for a missing key).
	Value any
	// Type is the column's type; zero for an unknown column.
	Type Type
	// Err is ErrWrongType, ErrMissingKey or ErrUnknownColumn, or an error
	// wrapping one of them with more detail, such as a value out of range
	// or a parse error.
	Err error
}

// Error describes the check that failed, for example
//
//	schema: table "user", column "id": value 12 (int): want STRING
//
// Long values are cut to about 64 characters.
func (e *ValueError) Error() string {
	var b strings.Builder
	b.WriteString("schema: table ")
	b.WriteString(strconv.Quote(e.Table))
	b.WriteString(", column ")
	b.WriteString(strconv.Quote(e.Column))
	b.WriteString(": ")
	switch {
	case errors.Is(e.Err, ErrMissingKey):
		b.WriteString("primary key column is missing or null")
	case errors.Is(e.Err, ErrUnknownColumn):
		b.WriteString("not a column of the table (value ")
		b.WriteString(describe(e.Value))
		b.WriteString(")")
	default:
		b.WriteString("value ")
		b.WriteString(describe(e.Value))
		if e.Type.Valid() {
			b.WriteString(": want ")
			b.WriteString(e.Type.String())
		}
		if e.Err != nil && e.Err != ErrWrongType {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
	}
	return b.String()
}

// Unwrap returns Err.
func (e *ValueError) Unwrap() error { return e.Err }

// maxShown bounds how much of a value an error message shows.
const maxShown = 64

// describe renders a value for an error message: quoted if it is a
// string, cut to maxShown bytes, followed by its Go type.
func describe(v any) string {
	if v == nil {
		return "<nil>"
	}
	var s string
	if str, ok := v.(string); ok {
		s = strconv.Quote(truncate(str, maxShown))
		if len(str) > maxShown {
			s += "..."
		}
	} else {
		s = fmt.Sprint(v)
		if len(s) > maxShown {
			s = truncate(s, maxShown) + "..."
		}
	}
	return s + " (" + fmt.Sprintf("%T", v) + ")"
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// causeError details why a value was rejected. Its text has no "schema:"
// prefix because a ValueError prints it after its own; it matches a
// sentinel and possibly an underlying error such as strconv.ErrRange or a
// base64 or JSON error.
type causeError struct {
	msg  string
	errs []error
}

func (e *causeError) Error() string   { return e.msg }
func (e *causeError) Unwrap() []error { return e.errs }

// wrongType returns an ErrWrongType with a detail message and an optional
// underlying error, which it matches too.
func wrongType(msg string, err error) error {
	if err == nil {
		return &causeError{msg: msg, errs: []error{ErrWrongType}}
	}
	return &causeError{msg: msg + ": " + err.Error(), errs: []error{ErrWrongType, err}}
}

// outOfRange returns an ErrWrongType for a number outside t's range; it
// also matches strconv.ErrRange.
func outOfRange(t Type) error {
	return &causeError{msg: "out of range for " + t.String() + rangeOf(t), errs: []error{ErrWrongType, strconv.ErrRange}}
}

// invalidTable returns an ErrInvalidTable for the named table.
func invalidTable(table, format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidTable, table, fmt.Sprintf(format, args...))
}
