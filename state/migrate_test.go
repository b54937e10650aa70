package state_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/state"
)

// A version 1 document, as this library wrote it before marks were typed.
const v1Document = `{
  "version": 1,
  "tables": {
    "customers": {
      "cursor": {
        "offset": 300,
        "done": true
      },
      "mark": {
        "updatedAt": "2024-05-01T10:00:00.000000001Z"
      },
      "history": {
        "until": "2024-05-01T09:00:00Z",
        "mark": {
          "updatedAt": "2024-05-01T08:00:00Z",
          "id": "7"
        }
      }
    },
    "empty": {},
    "orders": {
      "cursor": {
        "token": "https://api.example.com/orders?page_token=c2",
        "limit": 100
      },
      "mark": {
        "updatedAt": "2024-05-01T12:00:00+02:00",
        "id": "999999999"
      },
      "values": {
        "a": "1"
      }
    }
  }
}
`

func TestDecodeMigratesVersion1(t *testing.T) {
	got, err := state.Decode([]byte(v1Document))
	if err != nil {
		t.Fatalf("Decode(v1): %v", err)
	}
	want := &state.State{Version: 2, Tables: map[string]*state.Table{
		"customers": {
			Cursor: paginate.Cursor{Offset: 300, Done: true},
			Mark:   state.Mark{Cursor: state.Time(t0.Add(time.Nanosecond))},
			History: &state.History{
				Start: t0.Add(-time.Hour), Until: t0.Add(-time.Hour),
				Mark: state.Mark{Cursor: state.Time(t0.Add(-2 * time.Hour)), ID: state.String("7")},
			},
		},
		"empty": {},
		"orders": {
			Cursor: paginate.Cursor{Token: "https://api.example.com/orders?page_token=c2", Limit: 100},
			Mark:   state.Mark{Cursor: state.Time(t0), ID: state.String("999999999")},
			Values: map[string]string{"a": "1"},
		},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode(v1) mismatch (-want +got):\n%s", diff)
	}

	// Written again, it is a version 2 document that reads back the same.
	data, err := got.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	again, err := state.Decode(data)
	if err != nil {
		t.Fatalf("Decode(Encode(migrated)): %v\n%s", err, data)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("round trip of the migrated state mismatch (-want +got):\n%s", diff)
	}

	// The string id of a v1 mark becomes an integer for a stream with
	// numeric ids, which then compares numerically.
	m, err := got.Tables["orders"].Mark.As(state.TypeTime, state.TypeInt)
	if err != nil {
		t.Fatalf("Mark.As(time, int): %v", err)
	}
	next := state.Mark{Cursor: state.Time(t0), ID: state.Int(1000000000)}
	if !m.Before(next) {
		t.Errorf("migrated mark %v is not before %v", m, next)
	}
}

func TestValueCompare(t *testing.T) {
	paris := time.FixedZone("Paris", 2*3600)
	for _, tc := range []struct {
		a, b state.Value
		want int
	}{
		{state.Value{}, state.Value{}, 0},
		{state.Value{}, state.Int(-1 << 63), -1},
		{state.Int(999999999), state.Int(1000000000), -1},
		{state.Int(-5), state.Int(3), -1},
		{state.Int(7), state.Int(7), 0},
		{state.String("999999999"), state.String("1000000000"), 1},
		{state.String("a"), state.String("b"), -1},
		{state.Time(t0), state.Time(t0.In(paris)), 0},
		{state.Time(t0), state.Time(t0.Add(time.Nanosecond)), -1},
		{state.Time(time.Time{}), state.Value{}, 1},
	} {
		if got := tc.a.Compare(tc.b); got != tc.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.Compare(tc.a); got != -tc.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestValueAs(t *testing.T) {
	for _, tc := range []struct {
		v       state.Value
		to      state.Type
		want    state.Value
		wantErr bool
	}{
		{state.String("42"), state.TypeInt, state.Int(42), false},
		{state.String("-9223372036854775808"), state.TypeInt, state.Int(-1 << 63), false},
		{state.String("9223372036854775808"), state.TypeInt, state.Value{}, true},
		{state.String("4x"), state.TypeInt, state.Value{}, true},
		{state.Int(42), state.TypeString, state.String("42"), false},
		{state.String("2024-05-01T10:00:00Z"), state.TypeTime, state.Time(t0), false},
		{state.Time(t0), state.TypeInt, state.Value{}, true},
		{state.Value{}, state.TypeInt, state.Value{}, false},
		{state.Int(1), state.TypeInt, state.Int(1), false},
	} {
		got, err := tc.v.As(tc.to)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v.As(%v) error = %v, want error %v", tc.v, tc.to, err, tc.wantErr)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("%v.As(%v) = %v, want %v", tc.v, tc.to, got, tc.want)
		}
	}
}

func TestValueJSONRoundTrip(t *testing.T) {
	for _, v := range []state.Value{
		state.Time(t0.Add(123 * time.Nanosecond)),
		state.Int(-1 << 63), state.Int(1<<63 - 1), state.Int(0),
		state.String(""), state.String("a \"quoted\" <b> ü"),
	} {
		s := state.New()
		s.Table("t").Mark = state.Mark{Cursor: v, ID: v}
		data, err := s.Encode()
		if err != nil {
			t.Fatalf("Encode(%v): %v", v, err)
		}
		got, err := state.Decode(data)
		if err != nil {
			t.Fatalf("Decode(%s): %v", data, err)
		}
		if m := got.Tables["t"].Mark; !m.Cursor.Equal(v) || !m.ID.Equal(v) || m.Cursor.Type() != v.Type() {
			t.Errorf("round trip of %v gave %v", v, m)
		}
	}
}
