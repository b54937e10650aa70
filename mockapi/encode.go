package mockapi

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The response bodies are appended by hand instead of through
// encoding/json's reflection, which was most of the cost of a page. The
// helpers below write exactly what encoding/json writes for the same Go
// values (the tests compare them byte for byte), so the exported body
// types still decode, and re-encode, to the bytes served.

// jsonPlain marks the ASCII bytes that encoding/json copies into a string
// as they are: printable ASCII except the quote, the backslash and the
// three characters it escapes for HTML (<, > and &).
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = true
	}
	for _, b := range []byte{'"', '\\', '<', '>', '&'} {
		t[b] = false
	}
	return t
}()

// appendJSONString appends s as a JSON string, quotes included.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendJSONText(dst, s)
	return append(dst, '"')
}

// appendJSONText appends the JSON escape of s without the quotes, as
// encoding/json escapes it: the quote, the backslash and control
// characters; <, > and & as \u003c, \u003e and \u0026; invalid UTF-8 as
// \ufffd; U+2028 and U+2029 as \u2028 and \u2029.
func appendJSONText(dst []byte, s string) []byte {
	done := 0 // s[:done] is written
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonPlain[b] {
				i++
				continue
			}
			dst = append(dst, s[done:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[done:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[done:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	return append(dst, s[done:]...)
}

// jsonText is a string of the fake data with its JSON escape computed once.
type jsonText struct {
	raw string // the Go string
	esc string // its JSON escape, without quotes
}

func newJSONText(s string) jsonText {
	return jsonText{raw: s, esc: string(appendJSONText(nil, s))}
}

// appendTime appends t in RFC 3339 with nanoseconds, trailing zeros of
// the fraction removed, in UTC: what encoding/json writes for a UTC
// time.Time. Quotes are not included.
func appendTime(dst []byte, t time.Time) []byte {
	return appendUnixTime(dst, t.Unix(), t.Nanosecond())
}

// Seconds from the Unix epoch to 0000-01-01 and to 10000-01-01, the years
// RFC 3339 can write.
const (
	minRFC3339 = -62167219200
	maxRFC3339 = 253402300800
)

// appendUnixTime is appendTime of time.Unix(sec, nsec), 0 <= nsec < 1e9,
// computed on the integers: the civil date of a day count, as in Howard
// Hinnant's "chrono-compatible low-level date algorithms".
func appendUnixTime(dst []byte, sec int64, nsec int) []byte {
	if sec < minRFC3339 || sec >= maxRFC3339 {
		return time.Unix(sec, int64(nsec)).UTC().AppendFormat(dst, time.RFC3339Nano) // encoding/json refuses these
	}
	days := (sec - minRFC3339) / 86400 // days since 0000-01-01, >= 0
	sod := int(sec - minRFC3339 - days*86400)
	z := days - 60 // days since 0000-03-01: leap days fall at the end of a year
	era := (z + 146097) / 146097
	era-- // z >= -60, so era is -1 or more; z - era*146097 is in [0, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := int(doy - (153*mp+2)/5 + 1)
	m := int(mp + 3)
	y := int(yoe + era*400)
	if m > 12 {
		m -= 12
		y++
	}
	h, mi, s := sod/3600, sod/60%60, sod%60
	dst = append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10))
	if nsec != 0 {
		var frac [10]byte
		frac[0] = '.'
		for k := 9; k >= 1; k-- {
			frac[k] = byte('0' + nsec%10)
			nsec /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// appendJSONTime appends t as a quoted JSON time (see appendTime).
func appendJSONTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = appendTime(dst, t)
	return append(dst, '"')
}

// appendJSONBool appends true or false.
func appendJSONBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendField appends `,"name":` (or `"name":` after an opening brace:
// the caller writes the first field itself).
func appendKey(dst []byte, name string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// appendIntField appends `,"name":n`.
func appendIntField(dst []byte, name string, n int64) []byte {
	return strconv.AppendInt(appendKey(dst, name), n, 10)
}
