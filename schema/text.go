package schema

import "unicode/utf8"

// validText reports whether s is valid UTF-8, as utf8.ValidString does,
// with a shorter path for what most text is: ASCII, looked at eight bytes
// at a time, the last eight overlapping the ones before.
func validText(s string) bool {
	const high = 0x8080808080808080
	n := len(s)
	if n < 8 {
		for i := range n {
			if s[i] >= utf8.RuneSelf {
				return utf8.ValidString(s)
			}
		}
		return true
	}
	var or uint64
	for i := 0; i+8 <= n; i += 8 {
		or |= load64(s[i : i+8])
	}
	or |= load64(s[n-8:])
	return or&high == 0 || utf8.ValidString(s)
}

// load64 returns the first eight bytes of s as a little-endian word (the
// compiler makes it one load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
