package schema

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// validText agrees with utf8.ValidString at every length around its
// eight-byte steps, wherever the byte outside ASCII falls.
func TestValidText(t *testing.T) {
	inputs := []string{"", "a", "é", "\xff", "\xe2\x82", "\xed\xa0\x80", "€", "\U0001F600"}
	for n := range 20 {
		for _, odd := range []string{"é", "\xff", "\xe2\x82", "\U0001F600", "\xc0\xaf"} {
			for at := 0; at <= n; at++ {
				inputs = append(inputs, strings.Repeat("a", at)+odd+strings.Repeat("b", n-at))
			}
		}
		inputs = append(inputs, strings.Repeat("x", n))
	}
	for _, s := range inputs {
		if got, want := validText(s), utf8.ValidString(s); got != want {
			t.Errorf("validText(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzValidText(f *testing.F) {
	f.Add("plain ASCII text, longer than eight bytes")
	f.Add("caf\u00e9 \xff")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validText(s), utf8.ValidString(s); got != want {
			t.Errorf("validText(%q) = %v, want %v", s, got, want)
		}
	})
}
