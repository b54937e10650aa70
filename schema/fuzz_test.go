package schema

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzNormalize builds rows of the every-type table from fuzzed values and
// checks that Normalize never panics, fails only with a *ValueError, and
// is idempotent: normalizing a normalized row changes nothing.
func FuzzNormalize(f *testing.F) {
	f.Add("k", int64(1), 1.5, []byte(`{"a":1}`), uint32(0xffff))
	f.Add("2024-02-29", int64(-32769), math.Copysign(0, -1), []byte("AQI="), uint32(0x3fff))
	f.Add("-12.50e-3", int64(1<<40), 3.4e38, []byte{0xff}, uint32(0x5555))
	f.Add("2024-03-01T10:20:30.5+02:00", int64(0), 1e300, []byte(nil), uint32(0xaaaa))
	f.Add("", int64(-1<<63), 0.1, []byte("null"), uint32(0x10000))
	f.Add("AQI=", int64(32767), 2.0, []byte(`"x"`), uint32(0x7fff0001))
	f.Add("1e1001", int64(1<<31), -1e-300, []byte("[1,"), uint32(0x7ffe))
	c := mustCompile(f, allTypes)
	cols := allTypes.Columns[1:]
	f.Fuzz(func(t *testing.T, s string, n int64, x float64, b []byte, sel uint32) {
		values := []any{
			s, n, x, b, json.Number(s), int(n), float32(x), uint64(n), n%2 == 0,
			json.RawMessage(b), time.Unix(n%(1<<40), n%1e9).In(tokyo), int16(n), nil,
		}
		row := Row{"id": s}
		if sel&(1<<16) != 0 {
			row["id"] = values[int(sel>>17)%len(values)]
		}
		for i, col := range cols {
			if sel&(1<<i) != 0 {
				row[col.Name] = values[(i+int(sel>>24))%len(values)]
			}
		}
		// Decimal text keeps its value exactly.
		if d, err := canonicalDecimal(s); err == nil {
			var in, out big.Rat
			if _, ok := in.SetString(s); ok {
				if _, ok := out.SetString(d); !ok || in.Cmp(&out) != 0 {
					t.Fatalf("canonicalDecimal(%q) = %q, a different number", s, d)
				}
			}
		}
		got, err := normRow(c, row)
		if err != nil {
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Table != "all" || ve.Error() == "" {
				t.Fatalf("Normalize(%v) = %v, want a *ValueError", row, err)
			}
			return
		}
		_ = keyOf(c, got)
		again, err := normRow(c, copyRow(got))
		if err != nil {
			t.Fatalf("Normalize(Normalize(row)) = %v for %v", err, got)
		}
		if diff := cmp.Diff(got, again, strictTime); diff != "" {
			t.Fatalf("Normalize is not idempotent (-first +second):\n%s", diff)
		}
	})
}
