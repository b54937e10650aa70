package schema

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestKeyOfSingle(t *testing.T) {
	tests := []struct {
		typ  Type
		v    any
		want string
	}{
		{String, "a|b", "a|b"},
		{String, "", ""},
		{Long, int64(-12), "-12"},
		{Boolean, true, "true"},
		{Double, 0.5, "0.5"},
		{Double, math.Copysign(0, -1), "0"},
		{Decimal, "12.50", "12.50"},
		{UTCDateTime, date(2024, 3, 1, 10, 20, 30, 5), "2024-03-01T10:20:30.000000005Z"},
		{NaiveDate, date(2024, 3, 1, 0, 0, 0, 0), "2024-03-01T00:00:00Z"},
		{Long, nil, ""},
		{Long, 7, "7"}, // not normalized: written with fmt
	}
	for _, tc := range tests {
		tbl := Table{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", tc.typ}}}
		c := mustCompile(t, tbl)
		row := Row{"k": tc.v}
		if got := keyOf(c, row); got != tc.want {
			t.Errorf("KeyOf(%#v) = %q, want %q", row, got, tc.want)
		}
	}
}

func TestKeyOfStringDoesNotAllocate(t *testing.T) {
	c := mustCompile(t, userTable)
	vals, err := c.Normalize(Row{"id": "42", "name": "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	allocs := testing.AllocsPerRun(100, func() { got = c.KeyOf(vals) })
	if got != "42" || allocs != 0 {
		t.Errorf("KeyOf(%v) = %q with %v allocations, want %q with 0", vals, got, allocs, "42")
	}
}

// TestKeyOfInjective checks that composite keys are equal exactly when
// their parts are, over parts built to confuse separators and lengths.
func TestKeyOfInjective(t *testing.T) {
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"a", "b"}, Columns: []Column{{"a", String}, {"b", String}}})
	parts := []any{"", "a", "b", "a|b", "b|c", "c", "|", ":", "1:", "1:a", "0:", "-", "--", "2:ab", "10:", "a:b", nil, "\x00", "ü"}
	seen := map[string][2]any{}
	for _, x := range parts {
		for _, y := range parts {
			k := keyOf(c, Row{"a": x, "b": y})
			if prev, dup := seen[k]; dup {
				t.Errorf("KeyOf(%q, %q) = KeyOf(%q, %q) = %q", x, y, prev[0], prev[1], k)
			}
			seen[k] = [2]any{x, y}
		}
	}
	if a, b := keyOf(c, Row{"a": "a|b", "b": "c"}), keyOf(c, Row{"a": "a", "b": "b|c"}); a == b {
		t.Errorf(`KeyOf("a|b", "c") = KeyOf("a", "b|c") = %q`, a)
	}
	if got, want := keyOf(c, Row{"a": "ab", "b": "c"}), "2:ab1:c"; got != want {
		t.Errorf(`KeyOf("ab", "c") = %q, want %q`, got, want)
	}
}

// TestKeyOfNormalized checks that different inputs for the same key give
// the same KeyOf once normalized, and that mixed types stay apart.
func TestKeyOfNormalized(t *testing.T) {
	c := mustCompile(t, Table{
		Name: "t", PrimaryKey: []string{"n", "at", "s"},
		Columns: []Column{{"n", Long}, {"at", UTCDateTime}, {"s", String}},
	})
	key := func(r Row) string {
		t.Helper()
		vals, err := c.Normalize(r)
		if err != nil {
			t.Fatalf("Normalize(%v) = %v", r, err)
		}
		return c.KeyOf(vals)
	}
	a := key(Row{"n": 7, "at": "2024-03-01T10:00:00+09:00", "s": "x"})
	b := key(Row{"n": uint8(7), "at": time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC), "s": "x"})
	if a != b {
		t.Errorf("KeyOf of the same key differs: %q and %q", a, b)
	}
	if d := key(Row{"n": 7, "at": "2024-03-01T10:00:00+09:00", "s": "y"}); d == a {
		t.Errorf("KeyOf of different keys is the same: %q", d)
	}
	if want := "1:720:2024-03-01T01:00:00Z1:x"; a != want {
		t.Errorf("KeyOf = %q, want %q", a, want)
	}
}

func TestKeyPrefixIsAPrefixOfKeyOf(t *testing.T) {
	c := mustCompile(t, Table{
		Name: "t", PrimaryKey: []string{"a", "b", "c"},
		Columns: []Column{{"a", Long}, {"b", String}, {"c", UTCDateTime}},
	})
	vals, err := c.Normalize(Row{"a": 1000000000, "b": "x:y", "c": "2024-03-01T10:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	key := c.KeyOf(vals)
	for n := 1; n <= 3; n++ {
		if p := c.KeyPrefix(vals, n); !strings.HasPrefix(key, p) || (n == 3) != (p == key) {
			t.Errorf("KeyPrefix(%d) = %q, want a prefix of KeyOf %q (all of it for n = 3)", n, p, key)
		}
	}
}

// TestKeyPrefixOfParent checks that a child's KeyOf starts with the
// KeyPrefix of a parent key exactly when the child's leading key columns
// equal the parent's, for prefixes of 1 and 2 columns of a 3-column key
// and values built to confuse lengths and separators.
func TestKeyPrefixOfParent(t *testing.T) {
	c := mustCompile(t, Table{
		Name: "t", PrimaryKey: []string{"a", "b", "c"},
		Columns: []Column{{"note", String}, {"c", String}, {"b", String}, {"a", Long}},
	})
	norm := func(r Row) []any {
		t.Helper()
		vals, err := c.Normalize(r)
		if err != nil {
			t.Fatalf("Normalize(%v) = %v", r, err)
		}
		return vals
	}
	children := []Row{
		{"a": 1, "b": "x", "c": "y"},
		{"a": 1, "b": "x", "c": ""},
		{"a": 1, "b": "xy", "c": "z"},
		{"a": 1, "b": "", "c": "x"},
		{"a": 10, "b": "x", "c": "y"},
		{"a": 11, "b": ":x", "c": "y"},
		{"a": -1, "b": "1:x", "c": "y"},
	}
	parents := []Row{
		{"a": 1}, {"a": 10}, {"a": -1},
		{"a": 1, "b": "x"}, {"a": 1, "b": "xy"}, {"a": 1, "b": ""}, {"a": 1, "b": "1:x"}, {"a": 11, "b": ":x"},
	}
	for _, p := range parents {
		pv, set, err := c.NormalizeParent(p)
		if err != nil {
			t.Fatalf("NormalizeParent(%v) = %v", p, err)
		}
		prefix := c.KeyPrefix(pv, set.Len())
		for _, ch := range children {
			cv := norm(ch)
			want := true // the parent's columns are equal in the child
			for i := range pv {
				want = want && (!set.Has(i) || cmp.Equal(pv[i], cv[i]))
			}
			if got := strings.HasPrefix(c.KeyOf(cv), prefix); got != want {
				t.Errorf("KeyOf(%v) = %q starts with KeyPrefix(%v) = %q: %v, want %v", ch, c.KeyOf(cv), p, prefix, got, want)
			}
		}
	}
	if got := c.KeyPrefix(norm(Row{"a": 1, "b": "x", "c": "y"}), 0); got != "" {
		t.Errorf("KeyPrefix(0) = %q, want empty", got)
	}
	if got, want := c.KeyPrefix([]any{nil, nil, "x", nil}, 2), "-1:x"; got != want {
		t.Errorf("KeyPrefix with a NULL = %q, want %q", got, want)
	}
}
