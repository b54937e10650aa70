package jsonstruct

import (
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DecodeAt validates the JSON value starting at page[i] (white space
// skipped) and decodes it into the struct at v, a pointer to a zero value
// of the plan's type. It returns the offset just past the value. Strings
// without escapes become substrings of page.
//
// It returns false when the value is not valid JSON as the scanner judges
// it (see SkipValue) or not an object the plan decodes exactly as
// json.Unmarshal would: then *v holds a partial result, and the caller
// zeroes it and leaves the value to json.Unmarshal with the plan's
// options, or to a jsontext.Decoder, which report what is wrong.
func (p *Plan) DecodeAt(v unsafe.Pointer, page string, i int) (end int, ok bool) {
	var scratch []byte // for unquoting strings with escapes
	next := 0          // the field expected next: members usually come in one order
	return ScanObject(page, i, func(name string, escaped, ascii bool, i int) (int, bool) {
		if escaped {
			return i, false
		}
		f := -1
		if next < len(p.fields) && name == p.fields[next].name {
			f = next
		} else {
			for j := range p.fields {
				if name == p.fields[j].name {
					f = j
					break
				}
			}
			if f < 0 && (!ascii || p.foldsAsField(name)) {
				return i, false
			}
		}
		val := value{start: i}
		var ok bool
		if i < len(page) && page[i] == '"' {
			val.end, val.escaped, val.ascii, ok = ScanString(page, i)
		} else {
			val.end, ok = skipValue(page, i, 1)
		}
		if !ok || f < 0 {
			return val.end, ok
		}
		next = f + 1
		return val.end, p.set(&p.fields[f], unsafe.Add(v, p.fields[f].off), &val, page, &scratch)
	})
}

// foldsAsField reports whether name, an ASCII name that is not a field's,
// is one a field's matches case-insensitively.
func (p *Plan) foldsAsField(name string) bool {
	var arr [64]byte
	b, _ := appendFold(arr[:0], name)
	return p.folded[string(b)]
}

// value is a member's value in a record: page[start:end].
type value struct {
	start, end     int
	escaped, ascii bool // of a string: whether it has escapes, is all ASCII
}

// set decodes the value into the field at ptr; false means the value is
// not one the plan decodes exactly.
func (p *Plan) set(f *field, ptr unsafe.Pointer, val *value, page string, scratch *[]byte) bool {
	raw := page[val.start:val.end]
	if raw[0] == 'n' && f.kind != kindOther { // null: the zero value
		clear(unsafe.Slice((*byte)(ptr), f.typ.Size()))
		return true
	}
	switch f.kind {
	case kindString:
		if raw[0] != '"' {
			return false
		}
		s, ok := text(val, page, scratch)
		if !ok {
			return false
		}
		*(*string)(ptr) = s
	case kindBool:
		switch raw[0] {
		case 't':
			*(*bool)(ptr) = true
		case 'f':
			*(*bool)(ptr) = false
		default:
			return false
		}
	case kindInt:
		neg := raw[0] == '-'
		u, ok := parseDigits(raw[btoi(neg):])
		if !ok || u > 1<<(f.bits-1)-1+uint64(btoi(neg)) {
			return false
		}
		n := int64(u)
		if neg {
			n = -n
		}
		setInt(ptr, f.bits, n)
	case kindUint:
		u, ok := parseDigits(raw)
		if !ok || (f.bits < 64 && u >= 1<<f.bits) {
			return false
		}
		setInt(ptr, f.bits, int64(u))
	case kindFloat:
		if raw[0] != '-' && !digit(raw[0]) {
			return false
		}
		x, err := strconv.ParseFloat(raw, f.bits)
		if err != nil {
			return false
		}
		if f.bits == 32 {
			*(*float32)(ptr) = float32(x)
		} else {
			*(*float64)(ptr) = x
		}
	case kindTime:
		if raw[0] != '"' || val.escaped || !strictRFC3339(raw[1:len(raw)-1]) {
			return false
		}
		if err := (*time.Time)(ptr).UnmarshalText([]byte(raw[1 : len(raw)-1])); err != nil {
			return false
		}
	default:
		if err := json.Unmarshal([]byte(raw), reflect.NewAt(f.typ, ptr).Interface(), p.opts); err != nil {
			return false
		}
	}
	return true
}

// setInt stores n, already in range, in the integer of the given bits at
// ptr (signed and unsigned integers of a size share a representation).
func setInt(ptr unsafe.Pointer, bits int, n int64) {
	switch bits {
	case 8:
		*(*int8)(ptr) = int8(n)
	case 16:
		*(*int16)(ptr) = int16(n)
	case 32:
		*(*int32)(ptr) = int32(n)
	default:
		*(*int64)(ptr) = n
	}
}

// parseDigits returns the value of raw, 1 to 19 decimal digits; false
// for anything else (a sign, a fraction, an exponent, more digits), which
// the caller leaves to json.Unmarshal.
func parseDigits(raw string) (uint64, bool) {
	if len(raw) == 0 || len(raw) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range []byte(raw) {
		if !digit(c) {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	return u, true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// text returns the JSON string val as a Go string: a substring of page
// when it has no escapes. It reports false for a string with invalid
// UTF-8, which json.Unmarshal mangles.
func text(val *value, page string, scratch *[]byte) (string, bool) {
	if !val.escaped {
		s := page[val.start+1 : val.end-1]
		if !val.ascii && !utf8.ValidString(s) {
			return "", false
		}
		return s, true
	}
	b, err := jsontext.AppendUnquote((*scratch)[:0], page[val.start:val.end])
	if err != nil {
		return "", false
	}
	*scratch = b
	return string(b), true
}
