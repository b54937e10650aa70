package schema

import "strings"

// maxDecimalExp bounds the exponent of decimal text, so that "1e999999999"
// cannot make a gigabyte of zeros.
const maxDecimalExp = 1000

// canonicalDecimal checks decimal text, an optional sign, digits with an
// optional fraction (".5" and "5." are accepted) and an optional exponent,
// and returns its canonical form: an optional "-", the integer digits
// without leading zeros, and the fraction digits as given, if any. An
// exponent is applied exactly, keeping the scale: "1.50e1" is "15.0". A
// zero has no sign. When s is canonical it is returned as is.
func canonicalDecimal(s string) (string, error) {
	i := 0
	neg, plus := false, false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg, plus = s[i] == '-', s[i] == '+'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	whole := s[start:i]
	dot, frac := false, ""
	if i < len(s) && s[i] == '.' {
		dot = true
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[start:i]
	}
	if whole == "" && frac == "" {
		return "", wrongType("not a decimal number", nil)
	}
	exp, hasExp := 0, false
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		hasExp = true
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			if exp <= maxDecimalExp { // saturate: no overflow
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == start {
			return "", wrongType("not a decimal number", nil)
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return "", wrongType("not a decimal number", nil)
	}
	if exp > maxDecimalExp || exp < -maxDecimalExp {
		return "", outOfRange(Decimal)
	}
	zero := allZeros(whole) && allZeros(frac)
	if hasExp {
		whole, frac = shift(whole, frac, exp)
	}
	w := strings.TrimLeft(whole, "0")
	if w == "" {
		w = "0"
	}
	if !hasExp && !plus && !(neg && zero) && !(dot && frac == "") && w == whole {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(w) + len(frac) + 2)
	if neg && !zero {
		b.WriteByte('-')
	}
	b.WriteString(w)
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String(), nil
}

// shift multiplies whole.frac by 10^exp exactly, keeping the number of
// significant fraction digits: the result has max(0, len(frac)-exp)
// fraction digits.
func shift(whole, frac string, exp int) (string, string) {
	digits := whole + frac
	e := exp - len(frac) // value = digits × 10^e
	if e >= 0 {
		return digits + strings.Repeat("0", e), ""
	}
	scale := -e
	if len(digits) > scale {
		return digits[:len(digits)-scale], digits[len(digits)-scale:]
	}
	return "", strings.Repeat("0", scale-len(digits)) + digits
}

// splitDecimal splits canonical decimal text into its integer digits,
// with the sign, and its fraction digits.
func splitDecimal(d string) (whole, frac string) {
	if i := strings.IndexByte(d, '.'); i >= 0 {
		return d[:i], d[i+1:]
	}
	return d, ""
}

// validNumber reports whether s is a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allZeros(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
