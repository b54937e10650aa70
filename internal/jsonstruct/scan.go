package jsonstruct

import (
	"math/bits"
	"unicode/utf8"
)

// The scanner reads JSON text in a string and validates it as it goes:
// each function returns ok false where the text is not JSON, and also
// where it is JSON that a jsontext.Decoder might judge otherwise (a lone
// surrogate escape, nesting deeper than maxDepth). It is sound, not
// complete: what it accepts, jsontext accepts; what it does not, the
// caller gives to jsontext, which decides.

// maxDepth is the deepest nesting of objects and arrays the scanner
// follows; deeper values are left to jsontext.
const maxDepth = 256

// SkipSpace returns the offset of the first byte at or after i in s that
// is not JSON white space.
func SkipSpace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// load64 returns the eight bytes of s at i as a little-endian word (the
// compiler makes it one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// ScanString validates the JSON string starting at s[i], which must be a
// '"', and returns the offset just past it, whether it has escapes and
// whether it is all ASCII.
func ScanString(s string, i int) (end int, escaped, ascii, ok bool) {
	ascii = true
	nonASCII := uint64(high) // flag bytes outside ASCII, until one is seen
	j := i + 1
	for {
		j = nextSpecial(s, j, nonASCII)
		if j >= len(s) {
			return len(s), escaped, ascii, false
		}
		switch c := s[j]; {
		case c == '"':
			return j + 1, escaped, ascii, true
		case c == '\\':
			n := escapeLen(s, j)
			if n == 0 {
				return j, escaped, ascii, false
			}
			escaped = true
			j += n
		case c < 0x20:
			return j, escaped, ascii, false
		case c >= utf8.RuneSelf:
			ascii, nonASCII = false, 0
			j++
		default:
			j++
		}
	}
}

// PlainLen returns the length of the longest prefix of s that a JSON
// string holds as it is: no quote, backslash, control character or byte
// outside ASCII.
func PlainLen(s string) int { return nextSpecial(s, 0, high) }

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// nextSpecial returns the offset of the first quote, backslash or control
// character at or after s[j], or byte outside ASCII when nonASCII is
// high (with nonASCII 0 those pass); len(s) if there is none. It looks
// at eight bytes at a time.
func nextSpecial(s string, j int, nonASCII uint64) int {
	const (
		quotes      = ones * '"'
		backslashes = ones * '\\'
		controls    = ones * 0x20
	)
	for ; j+8 <= len(s); j += 8 {
		w := load64(s, j)
		// For a byte value c, (x-ones*c)&^x has the high bit of a byte of
		// x set where the byte is below c: exactly so for the lowest such
		// byte, which is the one used.
		q, b := w^quotes, w^backslashes
		if m := ((q-ones)&^q | (b-ones)&^b | (w-controls)&^w | w&nonASCII) & high; m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
	}
	for ; j < len(s); j++ {
		if c := s[j]; c == '"' || c == '\\' || c < 0x20 || (c >= utf8.RuneSelf && nonASCII != 0) {
			return j
		}
	}
	return j
}

// escapeLen returns the length of the escape sequence at s[j] (a '\\'),
// a surrogate pair's two \u escapes counting as one; 0 for an invalid
// escape or a lone surrogate, which is left to jsontext.
func escapeLen(s string, j int) int {
	if j+1 >= len(s) {
		return 0
	}
	switch s[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		r := hex4(s, j+2)
		switch {
		case r < 0:
			return 0
		case 0xD800 <= r && r < 0xDC00: // a high surrogate, then a low one
			if j+8 > len(s) || s[j+6] != '\\' || s[j+7] != 'u' {
				return 0
			}
			if lo := hex4(s, j+8); lo < 0xDC00 || lo > 0xDFFF {
				return 0
			}
			return 12
		case 0xDC00 <= r && r <= 0xDFFF:
			return 0
		}
		return 6
	}
	return 0
}

// hex4 returns the value of the four hexadecimal digits at s[i], or -1.
func hex4(s string, i int) int {
	if i+4 > len(s) {
		return -1
	}
	r := 0
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

// scanNumber validates the JSON number starting at s[i] and returns the
// offset just past it.
func scanNumber(s string, i int) (end int, ok bool) {
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && '1' <= s[j] && s[j] <= '9':
		for j < len(s) && digit(s[j]) {
			j++
		}
	default:
		return j, false
	}
	if j < len(s) && s[j] == '.' {
		j++
		k := j
		for j < len(s) && digit(s[j]) {
			j++
		}
		if j == k {
			return j, false
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for j < len(s) && digit(s[j]) {
			j++
		}
		if j == k {
			return j, false
		}
	}
	// A number ends at a delimiter; "1x" or "01" is not JSON.
	if j < len(s) && !delimiter(s[j]) {
		return j, false
	}
	return j, true
}

// delimiter reports whether c may follow a number or a literal.
func delimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// scanLiteral validates the literal lit (true, false or null) at s[i].
func scanLiteral(s string, i int, lit string) (end int, ok bool) {
	end = i + len(lit)
	if end > len(s) || s[i:end] != lit || (end < len(s) && !delimiter(s[end])) {
		return i, false
	}
	return end, true
}

// SkipValue validates the JSON value starting at s[i] (white space
// skipped) and returns the offset just past it.
func SkipValue(s string, i int) (end int, ok bool) {
	return skipValue(s, SkipSpace(s, i), 0)
}

func skipValue(s string, i, depth int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch s[i] {
	case '"':
		end, _, _, ok := ScanString(s, i)
		return end, ok
	case 't':
		return scanLiteral(s, i, "true")
	case 'f':
		return scanLiteral(s, i, "false")
	case 'n':
		return scanLiteral(s, i, "null")
	case '{', '[':
		if depth >= maxDepth {
			return i, false
		}
		if s[i] == '{' {
			return ScanObject(s, i, func(_ string, _, _ bool, v int) (int, bool) { return skipValue(s, v, depth+1) })
		}
		return ScanArray(s, i, func(start int) (int, bool) { return skipValue(s, SkipSpace(s, start), depth+1) })
	}
	return scanNumber(s, i)
}

// ScanObject validates the JSON object at s[i] (white space skipped),
// the values by member: for each member it calls member with the name
// (the text between its quotes, with escapes if escaped, with bytes
// outside ASCII unless ascii) and the offset of the value, and member
// returns the offset just past the value, having validated it, or false.
// ScanObject returns the offset just past the object.
func ScanObject(s string, i int, member func(name string, escaped, ascii bool, value int) (end int, ok bool)) (end int, ok bool) {
	i = SkipSpace(s, i)
	if i >= len(s) || s[i] != '{' {
		return i, false
	}
	i = SkipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return i, false
		}
		end, escaped, ascii, ok := ScanString(s, i)
		if !ok {
			return end, false
		}
		name := s[i+1 : end-1]
		if i = SkipSpace(s, end); i >= len(s) || s[i] != ':' {
			return i, false
		}
		if i, ok = member(name, escaped, ascii, SkipSpace(s, i+1)); !ok {
			return i, false
		}
		if i = SkipSpace(s, i); i < len(s) && s[i] == '}' {
			return i + 1, true
		}
		if i >= len(s) || s[i] != ',' {
			return i, false
		}
		i = SkipSpace(s, i+1)
	}
}

// ScanArray validates the JSON array at s[i], which must be a '[', the
// values by elem: for each element it calls elem with the offset just
// past the '[' or ',' before it (white space may follow), and elem
// returns the offset just past the element, having validated it, or
// false. ScanArray returns the offset just past the array.
func ScanArray(s string, i int, elem func(start int) (end int, ok bool)) (end int, ok bool) {
	if j := SkipSpace(s, i+1); j < len(s) && s[j] == ']' {
		return j + 1, true
	}
	start := i + 1
	for {
		if i, ok = elem(start); !ok {
			return i, false
		}
		if i = SkipSpace(s, i); i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		if i >= len(s) || s[i] != ',' {
			return i, false
		}
		start = i + 1
	}
}
