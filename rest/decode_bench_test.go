package rest

import (
	"bytes"
	stdjson "encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	goccy "github.com/goccy/go-json"

	"github.com/connectkit/connector/internal/jsonstruct"
	"github.com/connectkit/connector/mockapi"
)

// benchUser is the User struct of examples/users: the real payload's
// record type.
type benchUser struct {
	ID        string    `json:"id" col:"id"`
	Name      string    `json:"name" col:"name"`
	Email     string    `json:"email" col:"email"`
	Address   string    `json:"address" col:"address"`
	Company   string    `json:"company" col:"company"`
	Job       string    `json:"job" col:"job"`
	UpdatedAt time.Time `json:"updatedAt" col:"updatedAt"`
	CreatedAt time.Time `json:"createdAt" col:"createdAt"`
	Deleted   bool      `json:"deleted" col:"-"`
}

type benchPage struct {
	Data    []benchUser `json:"data"`
	Total   int64       `json:"total"`
	HasMore bool        `json:"has_more"`
}

// mockPage returns the body of one page of 100 users of mockapi's offset
// endpoint, as the examples fetch it.
func mockPage(b *testing.B) []byte {
	b.Helper()
	srv := mockapi.NewServer(mockapi.Options{Users: 1000})
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + mockapi.PathOffset + "?offset=300&limit=100")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET page: %d, %v", resp.StatusCode, err)
	}
	return body
}

// BenchmarkDecodePage decodes a page of 100 mockapi users (about 300
// bytes each) into examples/users' User, in the same run with:
//
//   - v1: encoding/json.Unmarshal into a page struct, the baseline (what
//     Client.GetJSON and the hand-written sources did: it scans the body
//     twice, checkValid then decode);
//   - v1stream: encoding/json's Decoder walking to "data" and decoding
//     each record (a dynamic records path, as a declared Endpoint needs);
//   - v2: decodePage without a plan (go-json-experiment/json's jsontext
//     walk to "data", UnmarshalDecode of each record, has_more and total
//     kept, records counted for MaxItems), one pass;
//   - plan: decodePage as a Source runs it for a struct record type with
//     a jsonstruct plan: scanPage, one validating pass over the body that
//     walks to "data", fills each record's fields and keeps has_more and
//     total, the strings shared with one copy of the body;
//   - v2struct: go-json-experiment/json.Unmarshal into the page struct;
//   - goccy: github.com/goccy/go-json.Unmarshal into the page struct.
//
// It reports ns/record and allocs/record, and x-v1, the time per record
// relative to v1 in this run.
func BenchmarkDecodePage(b *testing.B) {
	body := mockPage(b)
	lo := &layout{records: []string{"data"}, fields: map[string]int{"total": 1, "has_more": 2}}
	fields := []string{"total", "has_more"}
	plan := jsonstruct.For(reflect.TypeFor[benchUser](), decodeOptions)
	decoders := []struct {
		name   string
		decode func() (int, error)
	}{
		{"v1", func() (int, error) {
			var p benchPage
			err := stdjson.Unmarshal(body, &p)
			return len(p.Data), err
		}},
		{"v1stream", func() (int, error) {
			dec := stdjson.NewDecoder(bytes.NewReader(body))
			var users []benchUser
			if _, err := dec.Token(); err != nil {
				return 0, err
			}
			for dec.More() {
				name, err := dec.Token()
				if err != nil {
					return 0, err
				}
				if name != "data" {
					var skip stdjson.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return 0, err
					}
					continue
				}
				if _, err := dec.Token(); err != nil {
					return 0, err
				}
				for dec.More() {
					var u benchUser
					if err := dec.Decode(&u); err != nil {
						return 0, err
					}
					users = append(users, u)
				}
				if _, err := dec.Token(); err != nil {
					return 0, err
				}
			}
			return len(users), nil
		}},
		{"v2", func() (int, error) {
			users, _, err := decodePage[benchUser](body, lo, fields, DefaultMaxItems, 100, nil)
			return len(users), err
		}},
		{"plan", func() (int, error) {
			users, _, err := decodePage[benchUser](body, lo, fields, DefaultMaxItems, 100, plan)
			return len(users), err
		}},
		{"v2struct", func() (int, error) {
			var p benchPage
			err := jsonv2.Unmarshal(body, &p, decodeOptions)
			return len(p.Data), err
		}},
		{"goccy", func() (int, error) {
			var p benchPage
			err := goccy.Unmarshal(body, &p)
			return len(p.Data), err
		}},
	}
	var base float64
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				n, err := d.decode()
				if err != nil || n != 100 {
					b.Fatalf("%s: %d records, %v; want 100", d.name, n, err)
				}
				records += n
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(records)
			b.ReportMetric(ns, "ns/record")
			if d.name == "v1" {
				base = ns
			} else if base > 0 {
				b.ReportMetric(ns/base, "x-v1")
			}
		})
	}
	b.Logf("page: %d bytes, %d bytes/record", len(body), len(body)/100)
}
