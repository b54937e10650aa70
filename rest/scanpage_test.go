package rest

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/internal/jsonstruct"
)

// scanRecord is a record type with a jsonstruct plan.
type scanRecord struct {
	ID    string         `json:"id"`
	N     int            `json:"n"`
	At    time.Time      `json:"at"`
	Tags  []string       `json:"tags"`
	Extra map[string]any `json:"extra"`
}

// FuzzScanPage checks that whatever scanPage decodes, the token path
// decodes alike: the records, the fields kept and the records' ranges.
func FuzzScanPage(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"id":"a","n":1,"at":"2024-01-01T00:00:00Z"},{"id":"b","tags":["x"],"extra":{"k":[1,{}]}}],"has_more":true,"meta":{"next":"c","x":[1]}}`,
		` { "meta" : { "next" : null } , "data" : [ { "ID" : "folded" } , { "n" : "1" } ] } `,
		`{"data":null,"has_more":false}`, `{"data":[]}`, `{"data":{}}`, `{"data":[1]}`, `{"data":[{"n":1.5}]}`,
		`{"data":[{}],"data":[{}]}`, `{"d\u0061ta":[{}]}`, `{"data":[{}]} x`, `{"data":[{},]}`, `{"data":[{"id":"\ud800"}]}`,
		"{\"data\":[{\"id\":\"\xff\"}]}",
	} {
		f.Add(s)
	}
	lo := &layout{records: []string{"data"}, fields: map[string]int{"has_more": 1, "meta.next": 2}}
	fields := []string{"has_more", "meta.next"}
	plan := jsonstruct.For(reflect.TypeFor[scanRecord](), decodeOptions)
	if plan == nil {
		f.Fatal("no plan for scanRecord")
	}
	f.Fuzz(func(t *testing.T, body string) {
		fast, fm, ok := scanPage[scanRecord](body, lo, fields, 5, 2, plan)
		if !ok {
			return
		}
		slow, sm, err := decodePage[scanRecord]([]byte(body), lo, fields, 5, 2, nil)
		if err != nil {
			t.Fatalf("scanPage(%q) succeeded, the token path failed: %v", body, err)
		}
		if diff := cmp.Diff(slow, fast, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) && a.Location().String() == b.Location().String() })); diff != "" {
			t.Fatalf("scanPage(%q) records differ (-token path +scanPage):\n%s", body, diff)
		}
		if diff := cmp.Diff(sm.values, fm.values); diff != "" {
			t.Fatalf("scanPage(%q) fields differ (-token path +scanPage):\n%s", body, diff)
		}
		for i := range len(slow) {
			if string(sm.record([]byte(body), i)) != string(fm.record([]byte(body), i)) {
				t.Fatalf("scanPage(%q) record %d is %q, the token path's %q", body, i, fm.record([]byte(body), i), sm.record([]byte(body), i))
			}
		}
	})
}
