package ops

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/schema"
)

func TestStoredRoundTrip(t *testing.T) {
	ts := time.Date(2024, 5, 1, 10, 2, 3, 450000001, time.UTC)
	for _, tc := range []struct {
		typ  schema.Type
		v    any
		want any // nil: v
	}{
		{schema.String, "", nil},
		{schema.String, "a\x00\"\\\n é 😀", nil},
		{schema.String, strings.Repeat("x", 1000), nil},
		{schema.Boolean, true, nil},
		{schema.Boolean, false, nil},
		{schema.Long, int64(0), nil},
		{schema.Long, int64(math.MinInt64), nil},
		{schema.Long, int64(math.MaxInt64), nil},
		{schema.Double, 0.1, nil},
		{schema.Double, math.Copysign(0, -1), nil},
		{schema.Double, math.MaxFloat64, nil},
		{schema.Double, math.SmallestNonzeroFloat64, nil},
		{schema.UTCDateTime, ts, nil},
		{schema.UTCDateTime, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{schema.UTCDateTime, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), nil},
		{schema.UTCDateTime, time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC), nil},
		{schema.NaiveDate, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), nil},
		{schema.Binary, []byte{}, nil},
		{schema.Binary, []byte{0, 1, 255}, nil},
		{schema.JSON, json.RawMessage(`{ "a" : [1, 2] }`), json.RawMessage(`{"a":[1,2]}`)},
		{schema.Decimal, "-12.50", nil},
		{schema.String, nil, nil},
	} {
		cols := []schema.Column{{Name: "c", Type: tc.typ}, {Name: "n", Type: schema.String}}
		data, _, err := appendStored(nil, nil, cols, []any{tc.v, nil})
		if err != nil {
			t.Errorf("appendStored(%T %v): %v", tc.v, tc.v, err)
			continue
		}
		got, err := decodeStored(data, len(cols))
		if err != nil {
			t.Errorf("decodeStored(appendStored(%T %v)): %v", tc.v, tc.v, err)
			continue
		}
		want := tc.want
		if want == nil {
			want = tc.v
		}
		// == on a time also compares the location and the monotonic
		// reading: the stored form gives the canonical UTC time.
		if w, ok := want.(time.Time); ok && got[0] != w {
			t.Errorf("%v round trip: got %#v, want %#v", tc.v, got[0], w)
		}
		if diff := cmp.Diff([]any{want, nil}, got); diff != "" {
			t.Errorf("%T %v round trip (-want +got):\n%s", tc.v, tc.v, diff)
		}
	}
}

func TestStoredRejects(t *testing.T) {
	cols := []schema.Column{{Name: "c", Type: schema.Double}}
	for _, v := range []any{
		math.NaN(), math.Inf(1),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC),
		json.RawMessage(`{`), 12, float32(1),
	} {
		if _, _, err := appendStored(nil, nil, cols, []any{v}); err == nil || !strings.Contains(err.Error(), `column "c"`) {
			t.Errorf("appendStored(%T %v) = %v, want an error naming the column", v, v, err)
		}
	}
}

func TestDecodeStoredMalformed(t *testing.T) {
	good, _, err := appendStored(nil, nil, []schema.Column{{Name: "s", Type: schema.String}, {Name: "t", Type: schema.UTCDateTime}, {Name: "f", Type: schema.Double}},
		[]any{"abc", time.Unix(1, 2).UTC(), 1.5})
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation, an extra byte and an unknown tag fail without a
	// panic.
	for i := range good {
		if _, err := decodeStored(good[:i], 3); err == nil {
			t.Errorf("decodeStored(first %d bytes) = nil error", i)
		}
	}
	if _, err := decodeStored(append(good[:len(good):len(good)], 0), 3); err == nil {
		t.Error("decodeStored(an extra byte) = nil error")
	}
	if _, err := decodeStored([]byte{99}, 1); err == nil {
		t.Error("decodeStored(an unknown tag) = nil error")
	}
}

func FuzzDecodeStored(f *testing.F) {
	f.Add([]byte{tagString, 3, 'a', 'b', 'c'}, 1)
	f.Add([]byte{tagTime, 2, 4}, 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 0 || n > 100 {
			return
		}
		_, _ = decodeStored(data, n) // no panic
	})
}

// TestCheckYear compares checkYear, which compares Unix seconds, with the
// year in UTC it stands for, around the bounds and at random times, in
// zones other than UTC too.
func TestCheckYear(t *testing.T) {
	east, west := time.FixedZone("east", 14*3600), time.FixedZone("west", -12*3600)
	var times []time.Time
	for _, b := range []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0),
	} {
		for _, d := range []time.Duration{-time.Second - 1, -time.Second, -1, 0, 1, time.Second - 1, time.Second} {
			times = append(times, b.Add(d), b.Add(d).In(east), b.Add(d).In(west))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		sec := r.Int64N(2*endYearUnix) - endYearUnix
		times = append(times, time.Unix(sec, r.Int64N(1e9)).In(east))
	}
	for _, tm := range times {
		y := tm.UTC().Year()
		if ok := checkYear(tm) == nil; ok != (y >= 0 && y <= 9999) {
			t.Errorf("checkYear(%v) (year %d in UTC) = ok %v", tm, y, ok)
		}
	}
}
