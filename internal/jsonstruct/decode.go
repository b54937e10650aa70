package jsonstruct

import (
	"encoding/binary"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Decode fills the struct at v, a pointer to a zero value of the plan's
// type, from raw, one JSON value that a jsontext.Decoder has read (and so
// validated) from page at byte offset at: page[at:at+len(raw)] is raw.
// Strings without escapes become substrings of page.
//
// It returns false when raw is not an object the plan decodes exactly as
// json.Unmarshal would: then *v holds a partial result, and the caller
// zeroes it and decodes raw with json.Unmarshal and the plan's options.
func (p *Plan) Decode(v unsafe.Pointer, raw []byte, page string, at int) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var scratch []byte // for unquoting strings with escapes
	next := 0          // the field expected next: members usually come in one order
	i := skipSpace(raw, 1)
	if raw[i] == '}' {
		return true
	}
	for {
		// The member's name.
		end, escaped, ascii := scanString(raw, i)
		name := raw[i+1 : end-1]
		if escaped {
			return false
		}
		f := -1
		if next < len(p.fields) && string(name) == p.fields[next].name {
			f = next
		} else {
			for j := range p.fields {
				if string(name) == p.fields[j].name {
					f = j
					break
				}
			}
			if f < 0 && (!ascii || p.foldsAsField(name)) {
				return false
			}
		}
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // the ':'
		// The member's value.
		var vend int
		escaped, ascii = false, true
		if raw[i] == '"' {
			vend, escaped, ascii = scanString(raw, i)
		} else {
			vend = skipValue(raw, i)
		}
		if f >= 0 {
			val := value{raw: raw[i:vend], at: at + i, escaped: escaped, ascii: ascii}
			if !p.set(&p.fields[f], unsafe.Add(v, p.fields[f].off), val, page, &scratch) {
				return false
			}
			next = f + 1
		}
		i = skipSpace(raw, vend)
		if raw[i] == '}' {
			return true
		}
		i = skipSpace(raw, i+1) // the ','
	}
}

// foldsAsField reports whether name, not a field's name, is one a field's
// matches case-insensitively.
func (p *Plan) foldsAsField(name []byte) bool {
	var arr [64]byte
	b := arr[:0]
	for _, c := range name {
		switch {
		case c == '_' || c == '-':
		case 'a' <= c && c <= 'z':
			b = append(b, c-('a'-'A'))
		default:
			b = append(b, c)
		}
	}
	return p.folded[string(b)]
}

// value is a member's value in a record.
type value struct {
	raw            []byte // the JSON value
	at             int    // its offset in the page
	escaped, ascii bool   // of a string: whether it has escapes, is all ASCII
}

// set decodes the value into the field at ptr; false means the value is
// not one the plan decodes exactly.
func (p *Plan) set(f *field, ptr unsafe.Pointer, val value, page string, scratch *[]byte) bool {
	raw := val.raw
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
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return false
		}
		// The error, which would hold the view of raw, is dropped.
		x, err := strconv.ParseFloat(unsafe.String(&raw[0], len(raw)), f.bits)
		if err != nil {
			return false
		}
		if f.bits == 32 {
			*(*float32)(ptr) = float32(x)
		} else {
			*(*float64)(ptr) = x
		}
	case kindTime:
		if raw[0] != '"' || !strictRFC3339(raw[1:len(raw)-1]) {
			return false
		}
		if err := (*time.Time)(ptr).UnmarshalText(raw[1 : len(raw)-1]); err != nil {
			return false
		}
	default:
		if err := json.Unmarshal(raw, reflect.NewAt(f.typ, ptr).Interface(), p.opts); err != nil {
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
func parseDigits(raw []byte) (uint64, bool) {
	if len(raw) == 0 || len(raw) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range raw {
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
func text(val value, page string, scratch *[]byte) (string, bool) {
	if !val.escaped {
		if !val.ascii && !utf8.Valid(val.raw[1:len(val.raw)-1]) {
			return "", false
		}
		return page[val.at+1 : val.at+len(val.raw)-1], true
	}
	b, err := jsontext.AppendUnquote((*scratch)[:0], val.raw)
	if err != nil {
		return "", false
	}
	*scratch = b
	return string(b), true
}

// skipSpace returns the offset of the first byte at or after i in raw
// that is not JSON white space.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the offset just past the JSON string starting at
// raw[i] (a '"'), whether it has escapes and whether it is all ASCII.
// raw is valid JSON. It looks at eight bytes at a time for a quote, a
// backslash or a byte outside ASCII, and byte by byte only around those.
func scanString(raw []byte, i int) (end int, escaped, ascii bool) {
	const (
		ones        = 0x0101010101010101
		high        = 0x8080808080808080
		quotes      = ones * '"'
		backslashes = ones * '\\'
	)
	ascii = true
	j := i + 1
	for j < len(raw) {
		for j+8 <= len(raw) {
			w := binary.LittleEndian.Uint64(raw[j:])
			// A byte of x is zero where (x-ones)&^x has its high bit set
			// (the lowest such byte is exact, which is all this needs).
			q, b := w^quotes, w^backslashes
			if ((q-ones)&^q|(b-ones)&^b|w)&high != 0 {
				break
			}
			j += 8
		}
		for stop := min(j+8, len(raw)); j < stop; {
			switch c := raw[j]; {
			case c == '"':
				return j + 1, escaped, ascii
			case c == '\\':
				escaped = true
				j += 2 // the escaped byte is ASCII in valid JSON
			case c >= utf8.RuneSelf:
				ascii = false
				j++
			default:
				j++
			}
		}
	}
	return len(raw), escaped, false
}

// skipValue returns the offset just past the JSON value starting at
// raw[i]. raw is valid JSON.
func skipValue(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		end, _, _ := scanString(raw, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				end, _, _ := scanString(raw, j)
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(raw)
	}
	// A number or a literal: up to the next delimiter.
	j := i
	for j < len(raw) {
		switch raw[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}
