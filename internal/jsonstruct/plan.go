// Package jsonstruct decodes JSON objects into flat Go structs without
// the general machinery of github.com/go-json-experiment/json, for the
// shapes API records usually have: fields of strings, booleans, numbers
// and RFC 3339 times, named by json tags, among members the struct does
// not declare. It reads JSON text held in a string with a scanner that
// validates as it goes ([SkipValue], [ScanObject], [ScanArray],
// [ScanString]), so that a page is read once.
//
// It is a fast path, not a second decoder. The scanner is sound, not
// complete: what it accepts, jsontext accepts; anything else it reports
// as not ok, for jsontext to judge. A [Plan] decodes only what it can
// decode exactly as json.Unmarshal would with the options the rest
// package uses (names matched case-insensitively, duplicate names allowed,
// the last one kept, invalid UTF-8 replaced); whatever it is not sure of,
// [Plan.DecodeAt] reports as not ok, and the caller decodes the record
// with json.Unmarshal, which gives the result, or the error, the record
// would have had without a plan. A field of another type (a nested
// struct, a slice, a map, a pointer, a type with its own unmarshal
// method) is decoded on its own by json.Unmarshal.
//
// A decoded string without escapes is a substring of the page it came
// from: the strings of all the records of a page share one copy of it.
package jsonstruct

import (
	"encoding"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
)

// kind is how a field is decoded.
type kind uint8

const (
	kindString kind = iota
	kindBool
	kindInt
	kindUint
	kindFloat
	kindTime
	kindOther // by json.Unmarshal into the field
)

// field is a struct field a plan fills.
type field struct {
	name string       // the JSON name
	off  uintptr      // offset in the struct
	kind kind         // how it is decoded
	bits int          // of an integer or a float
	typ  reflect.Type // the field's type
}

// Plan decodes JSON objects into one struct type. It is safe for
// concurrent use.
type Plan struct {
	fields []field
	// folded holds the folded names of the fields (see appendFold): a member
	// whose name is not a field's but folds as one matches it
	// case-insensitively, which the plan leaves to json.Unmarshal.
	folded map[string]bool
	opts   json.Options
}

var (
	unmarshalerJSON = reflect.TypeFor[json.Unmarshaler]()
	unmarshalerFrom = reflect.TypeFor[json.UnmarshalerFrom]()
	unmarshalerText = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// hasMethods reports whether values of t decode through methods of their
// own, which json.Unmarshal calls.
func hasMethods(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(unmarshalerJSON) || p.Implements(unmarshalerFrom) || p.Implements(unmarshalerText) ||
		t.Implements(unmarshalerJSON) || t.Implements(unmarshalerFrom) || t.Implements(unmarshalerText)
}

// For returns the plan of the struct type t, or nil when t is not a type
// a plan decodes: not a struct, a struct with embedded fields, tag options
// other than omitempty and omitzero, names that collide, or a type with
// unmarshal methods of its own. opts are the options json.Unmarshal gets
// for the fields a plan leaves to it; they must be the options the caller
// decodes the whole record with when DecodeAt returns false.
func For(t reflect.Type, opts json.Options) *Plan {
	if t.Kind() != reflect.Struct || hasMethods(t) {
		return nil
	}
	p := &Plan{folded: make(map[string]bool), opts: opts}
	names := make(map[string]bool)
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil
		}
		if !sf.IsExported() {
			continue
		}
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, options, hasOptions := strings.Cut(tag, ",")
		if !hasTag || name == "" {
			name = sf.Name
		}
		if strings.ContainsAny(name, `'"\`) || !utf8.ValidString(name) {
			return nil
		}
		for o := range strings.SplitSeq(options, ",") {
			if hasOptions && o != "omitempty" && o != "omitzero" {
				return nil
			}
		}
		b, ok := appendFold(nil, name)
		f := string(b)
		if !ok || names[name] || p.folded[f] {
			return nil
		}
		names[name], p.folded[f] = true, true
		p.fields = append(p.fields, field{name: name, off: sf.Offset, typ: sf.Type, kind: kindOf(sf.Type), bits: bitsOf(sf.Type)})
	}
	return p
}

func kindOf(t reflect.Type) kind {
	if t == timeType {
		return kindTime
	}
	if hasMethods(t) {
		return kindOther
	}
	switch t.Kind() {
	case reflect.String:
		return kindString
	case reflect.Bool:
		return kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return kindUint
	case reflect.Float32, reflect.Float64:
		return kindFloat
	}
	return kindOther
}

func bitsOf(t reflect.Type) int {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return t.Bits()
	}
	return 0
}

// appendFold appends name in ASCII upper case without '_' and '-' to b;
// false when name has a byte outside ASCII. Two ASCII names
// json.Unmarshal matches case-insensitively fold alike.
func appendFold(b []byte, name string) ([]byte, bool) {
	for i := range len(name) {
		c := name[i]
		switch {
		case c >= utf8.RuneSelf:
			return b, false
		case c == '_' || c == '-':
		case 'a' <= c && c <= 'z':
			b = append(b, c-('a'-'A'))
		default:
			b = append(b, c)
		}
	}
	return b, true
}
