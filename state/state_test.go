package state_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/state"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// sample returns a state using every field.
func sample() *state.State {
	s := state.New()
	o := s.Table("orders")
	o.Cursor = paginate.Cursor{Token: "https://api.example.com/orders?page_token=c2&x=<y>", Limit: 100}
	o.Mark = state.Mark{Cursor: state.Time(t0), ID: state.String("42")}
	o.Values = map[string]string{"b": "2", "a": "1"}
	c := s.Table("customers")
	c.Cursor = paginate.Cursor{Offset: 300, Done: true}
	c.Mark = state.Mark{Cursor: state.Time(t0.Add(time.Nanosecond))}
	c.History = &state.History{Until: t0.Add(-time.Hour), Mark: state.Mark{Cursor: state.Time(t0.Add(-2 * time.Hour)), ID: state.String("7")}}
	s.Table("empty")
	return s
}

func TestRoundTrip(t *testing.T) {
	for name, s := range map[string]*state.State{
		"new":    state.New(),
		"sample": sample(),
	} {
		t.Run(name, func(t *testing.T) {
			data, err := s.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !strings.HasSuffix(string(data), "}\n") {
				t.Errorf("Encode = %q, want a trailing newline", data)
			}
			got, err := state.Decode(data)
			if err != nil {
				t.Fatalf("Decode(%s): %v", data, err)
			}
			if diff := cmp.Diff(s, got); diff != "" {
				t.Errorf("Decode(Encode(s)) mismatch (-want +got):\n%s", diff)
			}
			again, err := got.Encode()
			if err != nil {
				t.Fatalf("Encode again: %v", err)
			}
			if string(again) != string(data) {
				t.Errorf("Encode is not deterministic:\nfirst:\n%s\nsecond:\n%s", data, again)
			}
		})
	}
}

func TestEncodeFormat(t *testing.T) {
	s := state.New()
	s.Table("orders").Mark = state.Mark{Cursor: state.Time(t0), ID: state.String("42")}
	s.Table("orders").Cursor = paginate.Cursor{Token: "a&b"}
	got, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 2,
  "tables": {
    "orders": {
      "cursor": {
        "token": "a&b"
      },
      "mark": {
        "cursor": {
          "time": "2024-05-01T10:00:00Z"
        },
        "id": {
          "string": "42"
        }
      }
    }
  }
}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Encode mismatch (-want +got):\n%s", diff)
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *state.State
	}{
		{"nil state", nil},
		{"newer version", &state.State{Version: state.Version + 1}},
		{"nil table", &state.State{Version: 1, Tables: map[string]*state.Table{"t": nil}}},
		{"negative offset", &state.State{Version: 1, Tables: map[string]*state.Table{"t": {Cursor: paginate.Cursor{Offset: -1}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if data, err := tc.s.Encode(); err == nil {
				t.Errorf("Encode = %s, want an error", data)
			}
		})
	}
}

func TestEncodeWritesCurrentVersion(t *testing.T) {
	data, err := (&state.State{}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), "{\n  \"version\": 2\n}\n"; got != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
}

func TestDecodeMissingVersion(t *testing.T) {
	got, err := state.Decode([]byte(`{"tables":{"t":{"mark":{"updatedAt":"2024-05-01T10:00:00Z"}}}}`))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := &state.State{Version: state.Version, Tables: map[string]*state.Table{"t": {Mark: state.Mark{Cursor: state.Time(t0)}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", "", "empty document"},
		{"blank", " \n", "empty document"},
		{"null", "null", "not a JSON object"},
		{"array", "[]", "not a JSON object"},
		{"truncated", `{"version":1,"tables":{"t":{`, "unexpected EOF"},
		{"invalid json", `{"version":1,}`, "invalid character"},
		{"trailing data", `{"version":1} {}`, "data after the document"},
		{"trailing garbage", `{"version":1}x`, "data after the document"},
		{"newer version", `{"version":3}`, "version 3 is newer than 2"},
		{"zero version", `{"version":0}`, "invalid version 0"},
		{"negative version", `{"version":-1}`, "invalid version -1"},
		{"version string", `{"version":"1"}`, "cannot unmarshal"},
		{"unknown field", `{"version":1,"marks":{}}`, "unknown field"},
		{"unknown table field", `{"version":1,"tables":{"t":{"mrak":{}}}}`, "unknown field"},
		{"null table", `{"version":1,"tables":{"t":null}}`, `table "t" is null`},
		{"negative offset", `{"version":1,"tables":{"t":{"cursor":{"offset":-5}}}}`, "negative offset"},
		{"negative limit", `{"version":1,"tables":{"t":{"cursor":{"limit":-1}}}}`, "negative limit"},
		{"bad time", `{"version":1,"tables":{"t":{"mark":{"updatedAt":"yesterday"}}}}`, "cannot parse"},
		{"v1 mark in v2", `{"version":2,"tables":{"t":{"mark":{"updatedAt":"2024-05-01T10:00:00Z"}}}}`, "unknown field"},
		{"untyped value", `{"version":2,"tables":{"t":{"mark":{"cursor":"2024-05-01T10:00:00Z"}}}}`, "cannot unmarshal"},
		{"two types", `{"version":2,"tables":{"t":{"mark":{"cursor":{"int":1,"string":"1"}}}}}`, "exactly one"},
		{"unknown type", `{"version":2,"tables":{"t":{"mark":{"id":{"uuid":"x"}}}}}`, "unknown type"},
		{"int too big", `{"version":2,"tables":{"t":{"mark":{"id":{"int":9223372036854775808}}}}}`, "within 64 bits"},
		{"int fraction", `{"version":2,"tables":{"t":{"mark":{"id":{"int":1.5}}}}}`, "within 64 bits"},
		{"bad v2 time", `{"version":2,"tables":{"t":{"mark":{"cursor":{"time":"soon"}}}}}`, "cannot parse"},
		{"wrong value type", `{"version":1,"tables":{"t":{"values":{"k":1}}}}`, "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := state.Decode([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want an error", tc.doc, s)
			}
			if !errors.Is(err, state.ErrCorrupt) {
				t.Errorf("Decode(%q) error %q does not wrap ErrCorrupt", tc.doc, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "state: decoding: ") {
				t.Errorf("Decode(%q) error = %q, want it to start with \"state: decoding: \" and contain %q", tc.doc, err, tc.want)
			}
		})
	}
}

func TestClone(t *testing.T) {
	orig := sample()
	want := sample()
	c := orig.Clone()
	if diff := cmp.Diff(orig, c); diff != "" {
		t.Fatalf("Clone mismatch (-orig +clone):\n%s", diff)
	}
	// Change every level of the clone; the original must not move.
	c.Version = 9
	c.Tables["orders"].Mark.ID = state.String("changed")
	c.Tables["orders"].Values["a"] = "changed"
	c.Tables["customers"].History.Done = true
	c.Tables["customers"].History.Mark.ID = state.String("changed")
	c.Table("new")
	delete(c.Tables, "empty")
	if diff := cmp.Diff(want, orig); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}
	// And the other way round.
	c2 := orig.Clone()
	orig.Tables["orders"].Values["z"] = "new"
	if _, ok := c2.Tables["orders"].Values["z"]; ok {
		t.Error("changing the original changed the clone")
	}

	if got := (*state.State)(nil).Clone(); got != nil {
		t.Errorf("nil Clone = %v, want nil", got)
	}
	if got := (&state.State{Version: 1}).Clone(); got.Tables != nil {
		t.Errorf("Clone made Tables %v from nil", got.Tables)
	}
}

func TestTable(t *testing.T) {
	var s state.State
	a := s.Table("a")
	a.Mark.ID = state.String("x")
	if got := s.Table("a"); got != a {
		t.Errorf("Table(a) returned a new table the second time")
	}
	if got, want := len(s.Tables), 1; got != want {
		t.Errorf("len(Tables) = %d, want %d", got, want)
	}
}

func TestMark(t *testing.T) {
	later := t0.Add(time.Second)
	paris := time.FixedZone("CEST", 2*3600)
	for _, tc := range []struct {
		a, b state.Mark
		want int
	}{
		{state.Mark{}, state.Mark{}, 0},
		{state.Mark{}, state.Mark{Cursor: state.Time(t0)}, -1},
		{state.Mark{Cursor: state.Time(t0), ID: state.String("b")}, state.Mark{Cursor: state.Time(later), ID: state.String("a")}, -1},
		{state.Mark{Cursor: state.Time(later), ID: state.String("a")}, state.Mark{Cursor: state.Time(t0), ID: state.String("b")}, 1},
		{state.Mark{Cursor: state.Time(t0), ID: state.String("a")}, state.Mark{Cursor: state.Time(t0), ID: state.String("b")}, -1},
		{state.Mark{Cursor: state.Time(t0), ID: state.String("b")}, state.Mark{Cursor: state.Time(t0), ID: state.String("a")}, 1},
		{state.Mark{Cursor: state.Time(t0), ID: state.String("a")}, state.Mark{Cursor: state.Time(t0.In(paris)), ID: state.String("a")}, 0},
		{state.Mark{Cursor: state.Time(t0)}, state.Mark{Cursor: state.Time(t0), ID: state.String("a")}, -1},
	} {
		if got := tc.a.Compare(tc.b); got != tc.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got, want := tc.a.Before(tc.b), tc.want < 0; got != want {
			t.Errorf("%v.Before(%v) = %t, want %t", tc.a, tc.b, got, want)
		}
	}

	for _, tc := range []struct {
		m      state.Mark
		zero   bool
		string string
	}{
		{state.Mark{}, true, "zero"},
		{state.Mark{ID: state.String("1")}, false, `none id="1"`},
		{state.Mark{Cursor: state.Int(7), ID: state.Int(1000000000)}, false, `7 id=1000000000`},
		{state.Mark{Cursor: state.Time(t0)}, false, "2024-05-01T10:00:00Z"},
		{state.Mark{Cursor: state.Time(t0.Add(5 * time.Millisecond)), ID: state.String("a b")}, false, `2024-05-01T10:00:00.005Z id="a b"`},
	} {
		if got := tc.m.IsZero(); got != tc.zero {
			t.Errorf("%#v.IsZero() = %t, want %t", tc.m, got, tc.zero)
		}
		if got := tc.m.String(); got != tc.string {
			t.Errorf("%#v.String() = %q, want %q", tc.m, got, tc.string)
		}
	}
}
