package jsonstruct

// strictRFC3339 reports whether b is a timestamp in the RFC 3339 form
// json.Unmarshal accepts for a time.Time, which time.Time.UnmarshalText
// alone is too loose to ensure: YYYY-MM-DDTHH:MM:SS, an optional fraction
// of 1 to 9 digits after a '.', then 'Z' or an offset ±HH:MM of at most
// 23:59. A timestamp it rejects may still be valid; the caller leaves
// those to json.Unmarshal.
func strictRFC3339(b string) bool {
	if len(b) < len("2006-01-02T15:04:05Z") {
		return false
	}
	if !(digit(b[0]) && digit(b[1]) && digit(b[2]) && digit(b[3]) && b[4] == '-' &&
		digit(b[5]) && digit(b[6]) && b[7] == '-' && digit(b[8]) && digit(b[9]) && b[10] == 'T' &&
		digit(b[11]) && digit(b[12]) && b[13] == ':' && digit(b[14]) && digit(b[15]) && b[16] == ':' &&
		digit(b[17]) && digit(b[18])) {
		return false
	}
	rest := b[len("2006-01-02T15:04:05"):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && digit(rest[n]) {
			n++
		}
		if n == 1 || n > 10 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
		digit(rest[1]) && digit(rest[2]) && digit(rest[4]) && digit(rest[5]):
		return two(rest[1:]) < 24 && two(rest[4:]) < 60
	}
	return false
}

func digit(c byte) bool { return '0' <= c && c <= '9' }

func two(b string) int { return int(b[0]-'0')*10 + int(b[1]-'0') }
