package mockapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// marshal is json.Marshal for values that always marshal.
func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%#v): %v", v, err)
	}
	return b
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and backslash \`, "<a href='x'>&amp;</a>",
		"tab\tnewline\ncr\rbackspace\bformfeed\f", "\x00\x01\x1f\x7f",
		"héllo wörld ✓ 日本", "\u2028 and \u2029", "bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate",
		"emoji 😀", "\xf0\x9f\x98", // a truncated 4-byte sequence
	} {
		if got, want := appendJSONString(nil, s), marshal(t, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, want %s (encoding/json)", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\u2028", "\xff", "<>&", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendJSONString([]byte("x"), s), append([]byte("x"), marshal(t, s)...); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s (encoding/json)", s, got, want)
		}
	})
}

func TestAppendTime(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1600, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC),
		time.Unix(0, 0),
		time.Date(2000, 2, 29, 1, 2, 3, 40000000, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 12, 31, 23, 59, 59, 123456789, time.FixedZone("X", -5*3600)),
		time.Date(2100, 2, 28, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		sec := minRFC3339 + rng.Int64N(maxRFC3339-minRFC3339)
		ns := 0
		if rng.IntN(2) == 0 {
			ns = rng.IntN(1e9)
		}
		times = append(times, time.Unix(sec, int64(ns)))
	}
	for _, tm := range times {
		want := marshal(t, tm.UTC())
		if got := appendJSONTime(nil, tm); !bytes.Equal(got, want) {
			t.Errorf("appendJSONTime(%v) = %s, want %s (encoding/json)", tm, got, want)
		}
	}
	// Beyond RFC 3339 years encoding/json fails; the server still writes
	// something rather than nothing.
	for _, tm := range []time.Time{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got := appendTime(nil, tm); len(got) == 0 {
			t.Errorf("appendTime(%v) is empty", tm)
		}
	}
}

// The served JSON of every kind of user is what encoding/json writes for
// the User the accessors return: base users, changed users, inserted
// users, tombstones, and users that the MissingFieldRate fault strips.
func TestUserEncoding(t *testing.T) {
	for _, opts := range []Options{
		{Users: 300},
		{Users: 50, Seed: 9, Start: time.Date(1999, 12, 31, 23, 59, 59, 250000000, time.UTC), Step: 333 * time.Millisecond, TiesPerTimestamp: 1},
	} {
		s := NewUnstartedServer(opts)
		for i := 0; i < 40; i += 3 {
			s.Update(s.UserAt(i).ID)
		}
		s.Advance(time.Second)
		s.Insert()
		s.Delete(s.UserAt(4).ID)
		s.Delete(s.UserAt(5).ID)
		for _, rate := range []float64{0, 0.5} {
			e := newUserEncoder(s.cfg, rate)
			refs, _ := s.store.rowsAt(filter{deleted: true}.sel(), 0, 1<<20)
			for _, r := range refs {
				var u User
				if r.base {
					u = s.cfg.base(r.idx)
				} else {
					u = *r.v
				}
				if !u.Deleted && missing(u.ID, rate) {
					u.Email, u.UpdatedAt = "", time.Time{}
				}
				want := marshal(t, u)
				var got []byte
				if r.base {
					got = e.base(nil, r.idx)
				} else {
					got = e.user(nil, r.v)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("encoded user (missing rate %v):\n got %s\nwant %s (encoding/json)", rate, got, want)
				}
			}
		}
	}
}

func TestUUID(t *testing.T) {
	c := newIDCodec(3)
	for _, i := range []int{0, 1, 77, 1 << 30} {
		hi, lo := c.bits(i)
		id := string(appendUUID(nil, hi, lo))
		h2, l2, ok := parseUUID(id)
		if !ok || h2 != hi || l2 != lo {
			t.Errorf("parseUUID(appendUUID(%#x, %#x) = %q) = %#x, %#x, %v", hi, lo, id, h2, l2, ok)
		}
	}
}
