package rest

import (
	"strings"
	"unsafe"

	"github.com/go-json-experiment/json"

	"github.com/connectkit/connector/internal/jsonstruct"
)

// scanPage is decodePage's one pass for a record type with a jsonstruct
// plan: jsonstruct's scanner walks page (the body as a string) to the
// records and the layout's fields, validating everything it passes, and
// the plan decodes each record, its strings substrings of page. A record
// the plan declines is decoded by json.Unmarshal.
//
// It returns false, and nothing else, for anything it cannot vouch for:
// malformed JSON, records missing or not an array, more than maxItems, a
// record json.Unmarshal rejects, a name with escapes on the way to the
// records, the records field twice. decodePage then decodes the body
// with jsontext, which gives the result or the error it should have.
func scanPage[T any](page string, l *layout, fieldPaths []string, maxItems, sizeHint int, plan *jsonstruct.Plan) ([]T, meta, bool) {
	m := meta{values: make([][]byte, len(fieldPaths))}
	var items []T
	if n := min(sizeHint, maxItems, maxSizeHint); n > 0 {
		items = make([]T, 0, n)
		m.bounds = make([]int64, 0, 2*n)
	}
	found := false
	// readRecords reads the records at page[i] and returns the offset
	// past them.
	readRecords := func(i int) (int, bool) {
		if found {
			return i, false
		}
		found = true
		if i < len(page) && page[i] == 'n' {
			return jsonstruct.SkipValue(page, i)
		}
		if i >= len(page) || page[i] != '[' {
			return i, false
		}
		// A record's range starts after the '[' or ',' before it.
		return jsonstruct.ScanArray(page, i, func(start int) (int, bool) {
			if len(items) >= maxItems {
				return start, false
			}
			i := jsonstruct.SkipSpace(page, start)
			var zero T
			items = append(items, zero)
			item := &items[len(items)-1]
			end, ok := plan.DecodeAt(unsafe.Pointer(item), page, i)
			if !ok {
				*item = zero
				if end, ok = jsonstruct.SkipValue(page, i); !ok {
					return end, false
				}
				if json.Unmarshal([]byte(page[i:end]), item, decodeOptions) != nil {
					return end, false
				}
			}
			m.bounds = append(m.bounds, int64(start), int64(end))
			return end, true
		})
	}
	recordsPath := strings.Join(l.records, ".")
	// walk reads the object at page[i], whose dotted path is path, and
	// returns the offset past it.
	var walk func(i int, path string) (int, bool)
	walk = func(i int, path string) (int, bool) {
		return jsonstruct.ScanObject(page, i, func(name string, escaped, _ bool, i int) (int, bool) {
			if escaped {
				return i, false
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			switch f := l.fields[p]; {
			case l.records != nil && p == recordsPath:
				return readRecords(i)
			case f > 0:
				e, ok := jsonstruct.SkipValue(page, i)
				if ok {
					m.values[f-1] = []byte(page[i:e])
				}
				return e, ok
			case i < len(page) && page[i] == '{' && wanted(l, fieldPaths, p):
				return walk(i, p)
			}
			return jsonstruct.SkipValue(page, i)
		})
	}
	i := jsonstruct.SkipSpace(page, 0)
	var ok bool
	if l.records == nil {
		if i >= len(page) || page[i] != '[' {
			return nil, meta{}, false
		}
		i, ok = readRecords(i)
	} else {
		i, ok = walk(i, "")
		ok = ok && found
	}
	// Anything but white space after the value is malformed.
	if !ok || jsonstruct.SkipSpace(page, i) != len(page) {
		return nil, meta{}, false
	}
	return items, m, true
}
