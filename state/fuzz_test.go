package state_test

import (
	"bytes"
	"testing"

	"github.com/connectkit/connector/state"
)

// FuzzDecode checks that Decode never panics and that a decoded state
// encodes to a fixed point: Encode(Decode(Encode(Decode(x)))) equals
// Encode(Decode(x)).
func FuzzDecode(f *testing.F) {
	valid, _ := sample().Encode()
	for _, seed := range []string{
		string(valid),
		string(valid[:len(valid)/2]),
		`{"version":1}`,
		`{}`,
		`{"tables":{"t":{}}}`,
		`{"version":1,"tables":{"t":{"cursor":{"offset":5,"limit":10,"done":true},"mark":{"updatedAt":"2024-05-01T10:00:00.123+02:00","id":"a"}}}}`,
		`{"version":1,"tables":{"t":{"history":{"until":"2024-01-01T00:00:00Z","mark":{"updatedAt":"2023-12-01T00:00:00Z"},"done":true},"values":{"k":"v"}}}}`,
		`{"version":"1"}`,
		`{"version":1,"tables":[]}`,
		`{"version":1,"tables":{"t":null}}`,
		`{"version":1,"tables":{"t":{"cursor":{"offset":-1}}}}`,
		`{"version":1,"tables":{"t":{"mark":{"updatedAt":12}}}}`,
		`{"version":1,"tables":{"t":{"values":{"k":null}}}}`,
		`{"version":2}`,
		`null`,
		``,
		`{"version":1}{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := state.Decode(data)
		if err != nil {
			return
		}
		first, err := s.Encode()
		if err != nil {
			t.Fatalf("Encode of a decoded state: %v\ninput: %q", err, data)
		}
		s2, err := state.Decode(first)
		if err != nil {
			t.Fatalf("Decode of an encoded state: %v\ndocument: %s", err, first)
		}
		second, err := s2.Encode()
		if err != nil {
			t.Fatalf("second Encode: %v", err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("Encode(Decode(x)) is not stable:\nfirst:\n%s\nsecond:\n%s", first, second)
		}
	})
}
