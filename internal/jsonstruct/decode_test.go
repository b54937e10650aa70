package jsonstruct

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/go-cmp/cmp"
)

// options are the rest package's decode options.
var options = json.JoinOptions(
	json.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

type named string

// upper decodes through a method of its own.
type upper string

func (u *upper) UnmarshalText(b []byte) error {
	*u = upper(strings.ToUpper(string(b)))
	return nil
}

type inner struct {
	A int    `json:"a"`
	B string `json:"b"`
}

// record has a field of every kind a plan decodes and some it leaves to
// json.Unmarshal.
type record struct {
	S      string            `json:"s"`
	B      bool              `json:"b,omitempty"`
	I      int               `json:"i"`
	I8     int8              `json:"i8"`
	I16    int16             `json:"i16"`
	I32    int32             `json:"i32"`
	I64    int64             `json:"i64"`
	U      uint              `json:"u"`
	U8     uint8             `json:"u8"`
	U16    uint16            `json:"u16"`
	U32    uint32            `json:"u32"`
	U64    uint64            `json:"u64,omitzero"`
	F      float64           `json:"f"`
	F32    float32           `json:"f32"`
	T      time.Time         `json:"t"`
	Named  named             `json:"named"`
	Upper  upper             `json:"upper"`
	Inner  inner             `json:"inner"`
	Ptr    *inner            `json:"ptr"`
	List   []string          `json:"list"`
	Map    map[string]any    `json:"map"`
	Any    any               `json:"any"`
	Raw    jsontext.Value    `json:"raw"`
	Camel  string            `json:"camelCase"`
	NoTag  string            //
	Ints   map[string]int    `json:"ints"`
	Skip   string            `json:"-"`
	hidden string            //
	Nested map[string]*inner `json:"nested"`
}

var recordPlan = For(reflect.TypeFor[record](), options)

// decode decodes the value at the start of input with the plan and, if
// the plan took it, checks that jsontext reads the same value there and
// decodes it with json.Unmarshal too.
func decode(t *testing.T, input []byte) (fast record, ok bool, slow record, slowErr error) {
	t.Helper()
	end, ok := recordPlan.DecodeAt(unsafe.Pointer(&fast), string(input), 0)
	if !ok {
		return fast, false, slow, nil
	}
	dec := jsontext.NewDecoder(bytes.NewReader(input[:end]), options)
	raw, err := dec.ReadValue()
	if err != nil || dec.InputOffset() != int64(end) {
		t.Fatalf("DecodeAt(%q) took %q, which jsontext reads as %q (offset %d), %v", input, input[:end], raw, dec.InputOffset(), err)
	}
	slowErr = json.Unmarshal(raw, &slow, options)
	return fast, true, slow, slowErr
}

var equalTimes = cmp.Comparer(func(a, b time.Time) bool {
	return a.Equal(b) && a.Location().String() == b.Location().String() && a.Format(time.RFC3339Nano) == b.Format(time.RFC3339Nano)
})

func check(t *testing.T, input []byte) (fastPath bool) {
	t.Helper()
	fast, ok, slow, slowErr := decode(t, input)
	if !ok {
		return false
	}
	if slowErr != nil {
		t.Fatalf("DecodeAt(%q) succeeded, json.Unmarshal failed: %v", input, slowErr)
	}
	if diff := cmp.Diff(slow, fast, equalTimes, cmp.AllowUnexported(record{})); diff != "" {
		t.Fatalf("DecodeAt(%q) differs from json.Unmarshal (-unmarshal +plan):\n%s", input, diff)
	}
	return true
}

// seeds are records of the shapes APIs send, and the edges of each kind.
var seeds = []string{
	`{"s":"plain","b":true,"i":-42,"u":7,"f":1.5,"t":"2024-01-02T03:04:05Z","named":"n","camelCase":"c","NoTag":"x"}`,
	`{ "s" : "spaced" , "i" : 1 }`,
	"{\n\t\"s\": \"tabs\",\r\n\"b\": false\n}",
	`{}`,
	`{"unknown":{"s":"nested","deep":[1,{"x":"]}"}]},"s":"after","other":[true,null,"\"q"]}`,
	`{"s":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00"}`,
	`{"s":"caf` + "\u00e9" + ` ` + "\u4e16\u754c" + `"}`,
	"{\"s\":\"bad \xff utf8\"}",
	"{\"s\":\"bad \\ud800 surrogate\"}",
	`{"s":null,"b":null,"i":null,"t":null,"f":null}`,
	`{"s":1}`, `{"s":true}`, `{"b":"true"}`, `{"b":0}`, `{"i":"1"}`, `{"i":1.0}`, `{"i":1e2}`, `{"i":-0}`,
	`{"i8":127,"i16":-32768,"i32":2147483647,"i64":-9223372036854775808}`,
	`{"i8":128}`, `{"i8":-129}`, `{"i64":9223372036854775808}`, `{"i64":-9223372036854775809}`,
	`{"u8":255,"u16":65535,"u32":4294967295,"u64":18446744073709551615}`,
	`{"u8":256}`, `{"u":-1}`, `{"u64":18446744073709551616}`, `{"u":-0}`,
	`{"f":-0}`, `{"f":1e308}`, `{"f":1e309}`, `{"f32":3.4028235e38}`, `{"f32":3.5e38}`, `{"f":5e-324}`, `{"f":1e-400}`, `{"f":"1"}`,
	`{"t":"2024-01-02T03:04:05.123456789+05:30"}`, `{"t":"2024-01-02T03:04:05.1234567891Z"}`,
	`{"t":"2024-01-02T03:04:05-23:59"}`, `{"t":"2024-01-02T03:04:05+24:00"}`, `{"t":"2024-01-02T03:04:05+01:60"}`,
	`{"t":"2024-01-02t03:04:05z"}`, `{"t":"2024-01-02T3:04:05Z"}`, `{"t":"2024-01-02T03:04:05,5Z"}`, `{"t":"2024-13-02T03:04:05Z"}`,
	`{"t":"2024-02-30T03:04:05Z"}`, `{"t":"2024-01-02T03:04:60Z"}`, `{"t":"0000-01-01T00:00:00Z"}`, `{"t":"2024-01-02T03:04:05."}`,
	`{"t":1}`, `{"t":"2024-01-02 03:04:05Z"}`, `{"t":"2024-01-02T03:04:05\u005a"}`,
	`{"upper":"abc","named":"n"}`,
	`{"inner":{"a":1,"b":"x"},"ptr":{"a":2},"list":["a","b"],"map":{"k":[1]},"any":{"x":1},"raw":[1, 2]}`,
	`{"inner":{"a":1},"inner":{"b":"y"}}`, `{"ptr":null,"list":null,"map":null}`, `{"inner":5}`,
	`{"S":"upper name","CAMEL_CASE":"folded","camel-case":"dashes","notag":"lower"}`,
	`{"s":"first","s":"second","i":1,"i":2}`,
	`{"\u0073":"escaped name"}`, `{"ś":"non-ASCII name"}`, `{"Skip":"ignored?","hidden":"h","-":"dash"}`,
	`{"ints":{"a":1,"b":2},"nested":{"x":{"a":1},"y":null}}`,
	`[1,2]`, `"s"`, `null`, `3`,
}

func TestDecodeMatchesUnmarshal(t *testing.T) {
	if recordPlan == nil {
		t.Fatal("For(record) = nil, want a plan")
	}
	fast := 0
	for _, s := range seeds {
		if check(t, []byte(s)) {
			fast++
		}
	}
	// Most seeds are edges the plan leaves to json.Unmarshal, but the
	// common shapes must take the fast path.
	for _, s := range seeds[:7] {
		if _, ok, _, _ := decode(t, []byte(s)); !ok {
			t.Errorf("DecodeAt(%s) = false, want the fast path", s)
		}
	}
	t.Logf("%d of %d seeds decoded by the plan", fast, len(seeds))
}

// FuzzDecodeAt checks that whatever the plan decodes, it decodes as
// json.Unmarshal does.
func FuzzDecodeAt(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		check(t, input)
	})
}

// The plan's strings are substrings of the page.
func TestStringsShareThePage(t *testing.T) {
	page := `[{"s":"shared","named":"esc\naped"}]`
	var r record
	if end, ok := recordPlan.DecodeAt(unsafe.Pointer(&r), page, 1); !ok || end != len(page)-1 {
		t.Fatalf("DecodeAt = %d, %v; want %d, true", end, ok, len(page)-1)
	}
	if r.S != "shared" || r.Named != "esc\naped" {
		t.Fatalf("DecodeAt = %q, %q", r.S, r.Named)
	}
	if unsafe.StringData(r.S) != unsafe.StringData(page[7:]) {
		t.Errorf("the string without escapes is a copy, want a substring of the page")
	}
}

func TestForDeclines(t *testing.T) {
	type embedded struct{ inner }
	type withString struct {
		N int `json:"n,string"`
	}
	type withFormat struct {
		T time.Time `json:"t,format:'2006-01-02'"`
	}
	type inline struct {
		M jsontext.Value `json:",unknown"`
	}
	type collide struct {
		A string `json:"name"`
		B string `json:"Name"`
	}
	type trailingComma struct {
		//lint:ignore SA5008 the malformed tag is the case under test
		A string `json:"a,"`
	}
	type quoted struct {
		A string `json:"'a,b'"`
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[int](), reflect.TypeFor[map[string]any](), reflect.TypeFor[*record](),
		reflect.TypeFor[embedded](), reflect.TypeFor[withString](), reflect.TypeFor[withFormat](),
		reflect.TypeFor[inline](), reflect.TypeFor[collide](), reflect.TypeFor[quoted](), reflect.TypeFor[trailingComma](),
		reflect.TypeFor[time.Time](), reflect.TypeFor[upper](),
	} {
		if p := For(typ, options); p != nil {
			t.Errorf("For(%v) = a plan, want nil", typ)
		}
	}
}

// scanString finds the end of a string, its escapes and its bytes outside
// ASCII wherever they fall around its eight-byte steps.
func TestScanString(t *testing.T) {
	pieces := []string{"a", `\"`, `\\`, `\n`, `\u00e9`, "é", "\U0001F600", `\/`}
	for n := range 24 {
		for _, p := range pieces {
			for at := 0; at <= n; at++ {
				content := strings.Repeat("x", at) + p + strings.Repeat("y", n-at)
				raw := `"` + content + `",` + `"next"`
				end, escaped, ascii, ok := ScanString(raw, 0)
				wantEscaped := strings.Contains(content, `\`)
				wantASCII := !strings.ContainsFunc(content, func(r rune) bool { return r >= 0x80 })
				if !ok || end != len(content)+2 || escaped != wantEscaped || ascii != wantASCII {
					t.Errorf("ScanString(%s) = %d, %v, %v, %v; want %d, %v, %v, true", raw, end, escaped, ascii, ok, len(content)+2, wantEscaped, wantASCII)
				}
			}
		}
	}
}

// What SkipValue accepts, jsontext reads as the same one value.
func FuzzSkipValue(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	for _, s := range []string{` [1, -0.5e+3, "x\u0041", {"a": [true, false, null]}] `, `{"a":1,}`, `[01]`, `1.`, `-`, `"\ud83d\ude00"`, "\"\x01\"", `{"a" 1}`, `nul`, `[1 2]`, `{"a":1}x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end, ok := SkipValue(s, 0)
		if !ok {
			return
		}
		dec := jsontext.NewDecoder(strings.NewReader(s[:end]), options)
		if _, err := dec.ReadValue(); err != nil || dec.InputOffset() != int64(end) {
			t.Fatalf("SkipValue(%q) = %d, true; jsontext reads %q to offset %d: %v", s, end, s[:end], dec.InputOffset(), err)
		}
		if end < len(s) && !delimiter(s[end]) && s[end] != '"' && s[end] != '{' && s[end] != '[' {
			// A value ends at a delimiter or where the next token starts.
			if c := s[end-1]; c != '"' && c != '}' && c != ']' {
				t.Fatalf("SkipValue(%q) = %d ends a scalar before %q", s, end, s[end])
			}
		}
	})
}

// SkipValue takes the values of real API pages.
func TestSkipValueTakesValidJSON(t *testing.T) {
	for _, s := range []string{`{}`, `[]`, ` {"a" : [ 1 , 2.5e-3 , -0 , "\u00e9\n" , { } , [ ] , true , false , null ] } `, `"é"`, `0`, `-1.5E+10`} {
		end, ok := SkipValue(s, 0)
		if !ok || strings.TrimSpace(s[end:]) != "" {
			t.Errorf("SkipValue(%q) = %d, %v; want the whole value", s, end, ok)
		}
	}
}
