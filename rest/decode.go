package rest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/connectkit/connector/internal/jsonstruct"
)

// ErrTooManyItems reports a page with more records than Client.MaxItems.
var ErrTooManyItems = errors.New("too many records in one page")

// tooManyError is the error of a page over MaxItems; it is not retried.
type tooManyError struct{ max int }

func (e *tooManyError) Error() string {
	return fmt.Sprintf("the page holds more than %d records (Client.MaxItems)", e.max)
}

func (e *tooManyError) Unwrap() error { return ErrTooManyItems }

// maxSizeHint bounds the records decodePage makes room for before it
// has seen them.
const maxSizeHint = 1000

// ErrNoRecords reports a body without the declared records field.
var ErrNoRecords = errors.New("records not found in the body")

// decodeOptions make the decoding of records behave as encoding/json
// does for the struct types users declare: names match case-insensitively,
// a duplicate name keeps the last value, and invalid UTF-8 is replaced,
// not an error.
var decodeOptions = json.JoinOptions(
	json.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

// layout is where the parts of a page are in a body, as dotted paths.
type layout struct {
	records []string // nil: the body is the array
	fields  map[string]int
}

// meta is what a pass over a body found besides the records: the raw
// JSON value of each field of the layout, by index, and the byte range of
// each record (bounds[i] to bounds[i+1]; a range starts after the token
// before the record, a comma or '[').
type meta struct {
	values [][]byte
	bounds []int64
}

// record returns the raw JSON of record i.
func (m *meta) record(body []byte, i int) []byte {
	return bytes.TrimLeft(body[m.bounds[2*i]:m.bounds[2*i+1]], ", \t\r\n")
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, ".")
}

// decodePage decodes body in one pass: it walks to the records, decodes
// each into T, counts them against maxItems, and keeps the raw values of
// the fields the layout names (has_more, next, total, ...). Everything
// else is skipped without being decoded. sizeHint is the number of
// records expected (the page size asked for; 0 if unknown), which sizes
// the slices up front.
//
// With a plan (T is a struct jsonstruct handles), scanPage tries first;
// when it cannot vouch for the body, or without a plan, a
// jsontext.Decoder walks the body and json.UnmarshalDecode decodes each
// record straight from its token stream, which also reports what is
// wrong with a body.
func decodePage[T any](body []byte, l *layout, fieldPaths []string, maxItems, sizeHint int, plan *jsonstruct.Plan) ([]T, meta, error) {
	if plan != nil {
		if items, m, ok := scanPage[T](string(body), l, fieldPaths, maxItems, sizeHint, plan); ok {
			return items, m, nil
		}
	}
	m := meta{values: make([][]byte, len(fieldPaths))}
	// A *bytes.Buffer lets the decoder read body in place, without a copy.
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), decodeOptions)
	var items []T
	if n := min(sizeHint, maxItems, maxSizeHint); n > 0 {
		items = make([]T, 0, n)
		m.bounds = make([]int64, 0, 2*n)
	}
	found := false
	readRecords := func() error {
		found = true
		if dec.PeekKind() == 'n' {
			_, err := dec.ReadToken()
			return err
		}
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if tok.Kind() != '[' {
			return fmt.Errorf("%w: the records are a JSON %s, not an array", ErrNoRecords, kindName(tok.Kind()))
		}
		for dec.PeekKind() != ']' {
			if len(items) >= maxItems {
				return &tooManyError{maxItems}
			}
			start := dec.InputOffset()
			// Decode in place; the decoder's options apply.
			var zero T
			items = append(items, zero)
			if err := json.UnmarshalDecode(dec, &items[len(items)-1]); err != nil {
				return err
			}
			m.bounds = append(m.bounds, start, dec.InputOffset())
		}
		_, err = dec.ReadToken()
		return err
	}
	var walk func(path string, depth int) error
	walk = func(path string, depth int) error {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if tok.Kind() != '{' {
			return fmt.Errorf("%w: %q is a JSON %s, not an object", ErrNoRecords, path, kindName(tok.Kind()))
		}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return err
			}
			p := name.String()
			if path != "" {
				p = path + "." + p
			}
			switch {
			case l.records != nil && p == strings.Join(l.records, "."):
				if err := readRecords(); err != nil {
					return err
				}
			case l.fields[p] > 0:
				v, err := dec.ReadValue()
				if err != nil {
					return err
				}
				m.values[l.fields[p]-1] = bytes.Clone(v)
			case dec.PeekKind() == '{' && wanted(l, fieldPaths, p):
				if err := walk(p, depth+1); err != nil {
					return err
				}
			default:
				if err := dec.SkipValue(); err != nil {
					return err
				}
			}
		}
		_, err = dec.ReadToken()
		return err
	}
	var err error
	if l.records == nil {
		if dec.PeekKind() != '[' {
			// Read the token for the syntax error, if any.
			if _, err := dec.ReadValue(); err != nil {
				return nil, m, err
			}
			return nil, m, fmt.Errorf("%w: the body is not a JSON array", ErrNoRecords)
		}
		err = readRecords()
	} else {
		err = walk("", 0)
		if err == nil && !found {
			err = fmt.Errorf("%w: no field %q", ErrNoRecords, strings.Join(l.records, "."))
		}
	}
	if err == nil {
		// Anything but white space after the value is malformed.
		if _, e := dec.ReadToken(); e == nil {
			err = &jsontext.SyntacticError{ByteOffset: dec.InputOffset(), Err: errors.New("invalid data after the top-level value")}
		} else if !errors.Is(e, io.EOF) {
			err = e
		}
	}
	return items, m, err
}

// wanted reports whether a field or the records lie under the object p.
func wanted(l *layout, fieldPaths []string, p string) bool {
	prefix := p + "."
	if l.records != nil && strings.HasPrefix(strings.Join(l.records, "."), prefix) {
		return true
	}
	for _, f := range fieldPaths {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

// valueAt returns the raw value at the dotted path in the JSON object
// raw, or nil.
func valueAt(raw []byte, path string) []byte {
	dec := jsontext.NewDecoder(bytes.NewReader(raw), decodeOptions)
	parts := splitPath(path)
	for i, part := range parts {
		if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
			return nil
		}
		for {
			if dec.PeekKind() == '}' || dec.PeekKind() == 0 {
				return nil
			}
			name, err := dec.ReadToken()
			if err != nil {
				return nil
			}
			if name.String() == part {
				break
			}
			if dec.SkipValue() != nil {
				return nil
			}
		}
		if i == len(parts)-1 {
			v, err := dec.ReadValue()
			if err != nil {
				return nil
			}
			return v
		}
	}
	return nil
}

// scalar returns a raw JSON scalar as text: a string unquoted, a number
// or boolean as written, "" for null or a missing value.
func scalar(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case raw[0] == '{' || raw[0] == '[':
		return "", fmt.Errorf("a JSON %s, not a string or number", kindName(jsontext.Kind(raw[0])))
	}
	return string(raw), nil
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "value"
}
