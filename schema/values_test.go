package schema

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValuesThroughNormalize(t *testing.T) {
	type item struct {
		ID   *string         `col:"id"`
		Qty  uint64          `col:"qty,long"`
		Raw  json.RawMessage `col:"raw"`
		Name string          `col:"name"`
	}
	codec := MustStruct[item]("item", "id")
	other := MustStruct[struct {
		ID string `col:"id"`
	}]("other", "id")
	id := "k"
	tests := []struct {
		name string
		row  AnyRow
		want error
	}{
		{"ok", codec.Row(&item{ID: &id}), nil},
		{"nil key", codec.Row(&item{}), ErrMissingKey},
		{"nil struct", codec.Row(nil), nil},
		{"zero Values", Values{}, ErrWrongTable},
		{"values of another table", other.Row(&struct {
			ID string `col:"id"`
		}{"x"}), ErrWrongTable},
		{"uint64 beyond LONG", codec.Row(&item{ID: &id, Qty: math.MaxUint64}), ErrWrongType},
		{"invalid JSON", codec.Row(&item{ID: &id, Raw: json.RawMessage("{")}), ErrWrongType},
		{"invalid UTF-8", codec.Row(&item{ID: &id, Name: "a\xffb"}), ErrWrongType},
	}
	for _, tc := range tests {
		for _, m := range []mode{upsert, update, remove} {
			_, _, err := codec.Compiled().normalize(tc.row, m)
			switch {
			case tc.name == "ok" && err != nil:
				t.Errorf("%s (mode %d): Normalize = %v, want nil", tc.name, m, err)
			case tc.name == "nil struct" && err == nil:
				t.Errorf("%s (mode %d): Normalize = nil, want an error", tc.name, m)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("%s (mode %d): Normalize = %v, want %v", tc.name, m, err, tc.want)
			}
		}
	}
	if _, _, err := codec.Compiled().normalize(codec.Row(&item{ID: &id}), parent); err == nil {
		t.Errorf("a parent key given as Values: Normalize = nil, want an error")
	}
}

func TestNormalizeParent(t *testing.T) {
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"a", "b", "c"},
		Columns: []Column{{"a", Long}, {"b", String}, {"c", String}, {"x", String}}})
	tests := []struct {
		row     Row
		wantLen int // 0: an error
	}{
		{Row{"a": 1}, 1},
		{Row{"a": 1, "b": "p"}, 2},
		{Row{"a": 1, "b": "p", "c": "q"}, 0}, // the whole key
		{Row{"b": "p"}, 0},                   // not a prefix
		{Row{"a": 1, "x": "y"}, 0},           // a non-key column
		{Row{"a": nil}, 0},                   // NULL
		{Row{"a": "one"}, 0},                 // wrong type
		{Row{}, 0},
	}
	for _, tc := range tests {
		vals, set, err := c.NormalizeParent(tc.row)
		if tc.wantLen == 0 {
			if err == nil {
				t.Errorf("NormalizeParent(%v) = %v, nil; want an error", tc.row, vals)
			}
			continue
		}
		if err != nil || set.Len() != tc.wantLen || vals[0] != int64(1) {
			t.Errorf("NormalizeParent(%v) = %v, %v, %v; want %d leading columns", tc.row, vals, set, err, tc.wantLen)
		}
	}
}

func TestColumnSet(t *testing.T) {
	s := NewColumnSet(130)
	for _, i := range []int{0, 63, 64, 129} {
		s.Add(i)
	}
	for i := range 130 {
		want := i == 0 || i == 63 || i == 64 || i == 129
		if s.Has(i) != want {
			t.Errorf("Has(%d) = %v, want %v", i, s.Has(i), want)
		}
	}
	if s.Len() != 4 || ColumnSet(nil).Has(3) || ColumnSet(nil).Len() != 0 {
		t.Errorf("Len = %d, want 4; the nil set must be empty", s.Len())
	}
}

func TestInvalidUTF8IsRejected(t *testing.T) {
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}, {"x", XML}}})
	for _, row := range []Row{{"k": "k\xff"}, {"k": "k", "x": "<a>\xfe</a>"}} {
		if _, err := c.Normalize(row); !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), "UTF-8") {
			t.Errorf("Normalize(%q) = %v, want ErrWrongType for invalid UTF-8", row, err)
		}
	}
	// Two keys that differ only in invalid bytes can no longer become
	// one row in a destination that replaces them.
	if _, err := c.Normalize(Row{"k": "k\u00ff"}); err != nil {
		t.Errorf("Normalize of valid UTF-8 = %v", err)
	}
	for _, bad := range []Table{
		{Name: "t\xff", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}}},
		{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}, {"c\xff", String}}},
	} {
		if _, err := bad.Compile(); !errors.Is(err, ErrInvalidTable) {
			t.Errorf("Compile(%q) = %v, want ErrInvalidTable for a name that is not UTF-8", bad.Name, err)
		}
	}
}

func TestJSONDepthAndNull(t *testing.T) {
	c := mustCompile(t, Table{Name: "t", PrimaryKey: []string{"k"}, Columns: []Column{{"k", String}, {"j", JSON}}})
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		v  any
		ok bool
	}{
		{json.RawMessage(nest(MaxJSONDepth)), true},
		{json.RawMessage(nest(MaxJSONDepth + 1)), false},
		{[]byte(nest(MaxJSONDepth + 1)), false},
		{json.RawMessage(`"[[[[` + strings.Repeat("[", 600) + `"`), true}, // brackets in a string
	} {
		_, err := c.Normalize(Row{"k": "a", "j": tc.v})
		if (err == nil) != tc.ok {
			t.Errorf("Normalize(JSON of depth %d) = %v, want ok %v", len(tc.v.([]byte)), err, tc.ok)
		}
	}
	var deep any = "x"
	for range MaxJSONDepth + 1 {
		deep = []any{deep}
	}
	if _, err := c.Normalize(Row{"k": "a", "j": deep}); !errors.Is(err, ErrWrongType) {
		t.Errorf("Normalize(a marshalled value nested too deep) = %v, want ErrWrongType", err)
	}
	for _, null := range []any{json.RawMessage("null"), []byte(" null "), map[string]any(nil)} {
		vals, err := c.Normalize(Row{"k": "a", "j": null})
		if err != nil || vals[1] != nil {
			t.Errorf("Normalize(JSON %#v) = %#v, %v; want NULL", null, vals[1], err)
		}
	}
}

func TestInlineStructs(t *testing.T) {
	type Owner struct {
		Login string `json:"login"`
		Org   struct {
			Name string `json:"name"`
		} `json:"org" col:"org_,inline"`
	}
	type Issue struct {
		ID      int64  `json:"id"`
		User    Owner  `json:"user" col:"user_,inline"`
		Closer  *Owner `json:"closer" col:"closer_,inline"`
		Comment string
	}
	codec, err := Struct[Issue]("issue", "id")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range codec.Table().Columns {
		names = append(names, c.Name)
	}
	if want := "id user_login user_org_name closer_login closer_org_name Comment"; strings.Join(names, " ") != want {
		t.Errorf("columns = %v, want %s", names, want)
	}
	is := Issue{ID: 1}
	is.User.Login, is.User.Org.Name = "ann", "acme"
	row := codec.Row(&is).Map()
	if row["user_login"] != "ann" || row["user_org_name"] != "acme" || row["closer_login"] != nil {
		t.Errorf("Row = %v, want the user's columns set and the nil closer's NULL", row)
	}
	is.Closer = &Owner{Login: "bob"}
	if row := codec.Row(&is).Map(); row["closer_login"] != "bob" {
		t.Errorf("Row with a closer = %v, want closer_login bob", row)
	}

	type Dup struct {
		UserLogin string `col:"user_login"`
		User      Owner  `col:"user_,inline"`
	}
	if _, err := Struct[Dup]("dup", "user_login"); !errors.Is(err, ErrInvalidTable) {
		t.Errorf("Struct with an inline column named like a field = %v, want ErrInvalidTable", err)
	}
	type NotStruct struct {
		ID   int64    `col:"id"`
		Tags []string `col:"tags,inline"`
	}
	if _, err := Struct[NotStruct]("n", "id"); !errors.Is(err, ErrInvalidTable) {
		t.Errorf("Struct with an inline slice = %v, want ErrInvalidTable", err)
	}
}

func TestStructRejectsTypesJSONCannotHold(t *testing.T) {
	type withChan struct {
		ID int64    `col:"id"`
		C  chan int `col:"c,json"`
	}
	type withFunc struct {
		ID int64  `col:"id"`
		F  func() `col:"f,json"`
	}
	type withComplex struct {
		ID int64      `col:"id"`
		Z  complex128 `col:"z,json"`
	}
	type withMapKey struct {
		ID int64                   `col:"id"`
		M  map[struct{ X int }]int `col:"m,json"`
	}
	type withNested struct {
		ID int64 `col:"id"`
		S  struct {
			F func()
		} `col:"s,json"`
	}
	for name, err := range map[string]error{
		"chan":    errOf(Struct[withChan]("t", "id")),
		"func":    errOf(Struct[withFunc]("t", "id")),
		"complex": errOf(Struct[withComplex]("t", "id")),
		"map key": errOf(Struct[withMapKey]("t", "id")),
		"nested":  errOf(Struct[withNested]("t", "id")),
	} {
		if !errors.Is(err, ErrInvalidTable) {
			t.Errorf("Struct with a %s field = %v, want ErrInvalidTable", name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("MustStruct of an invalid struct did not panic")
		}
	}()
	MustStruct[withChan]("t", "id")
}

func errOf[T any](_ *Codec[T], err error) error { return err }
