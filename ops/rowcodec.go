package ops

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/connectkit/connector/schema"
)

// The stored form of a row of a rowSet: for each declared column, in
// order, a tag byte giving the value's canonical Go type, then the value:
//
//	tagNull                      nothing
//	tagFalse, tagTrue            nothing
//	tagInt                       a varint
//	tagFloat                     8 bytes, the IEEE 754 bits, little endian
//	tagTime                      a varint of Unix seconds, a uvarint of nanoseconds
//	tagString, tagBytes, tagJSON a uvarint length, then the bytes
//
// It carries exactly the canonical values (those of [schema.Type]), so
// that a stored row decodes to the values it was given without a
// conversion, and it refuses what a [Dir]'s JSON line cannot carry (a
// time outside the years 0 to 9999, a NaN or infinite float, invalid
// JSON), so that a Memory and the replay of a Dir agree on every write.
const (
	tagNull byte = iota
	tagFalse
	tagTrue
	tagInt
	tagFloat
	tagTime
	tagString
	tagBytes
	tagJSON
)

// appendStored appends the stored form of vals, one canonical value per
// column of cols. scratch is a buffer for compacting JSON values; the
// grown buffer is returned.
func appendStored(b, scratch []byte, cols []schema.Column, vals []any) (out, grown []byte, err error) {
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, tagNull)
		case string:
			b = append(b, tagString)
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case bool:
			if x {
				b = append(b, tagTrue)
			} else {
				b = append(b, tagFalse)
			}
		case int64:
			b = append(b, tagInt)
			b = binary.AppendVarint(b, x)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, scratch, fmt.Errorf("column %q: number %v cannot be written as JSON", cols[i].Name, x)
			}
			b = append(b, tagFloat)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		case time.Time:
			sec := x.Unix()
			if !yearOK(sec) {
				return nil, scratch, fmt.Errorf("column %q: %w", cols[i].Name, checkYear(x))
			}
			b = append(b, tagTime)
			b = binary.AppendVarint(b, sec)
			b = binary.AppendUvarint(b, uint64(x.Nanosecond()))
		case []byte:
			b = append(b, tagBytes)
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case json.RawMessage:
			buf := bytes.NewBuffer(scratch[:0])
			if err := json.Compact(buf, x); err != nil {
				return nil, scratch, fmt.Errorf("column %q: invalid JSON value: %w", cols[i].Name, err)
			}
			scratch = buf.Bytes()
			b = append(b, tagJSON)
			b = binary.AppendUvarint(b, uint64(len(scratch)))
			b = append(b, scratch...)
		default:
			return nil, scratch, fmt.Errorf("column %q: value of type %T is not a canonical value of a %v column", cols[i].Name, v, cols[i].Type)
		}
	}
	return b, scratch, nil
}

// errStored reports a stored row that does not decode, which appendStored
// never makes.
var errStored = errors.New("malformed stored row")

// decodeStored returns the values of a row stored by appendStored for n
// columns: strings, []byte and json.RawMessage values are copies.
func decodeStored(data []byte, n int) ([]any, error) {
	vals := make([]any, n)
	for i := range vals {
		if len(data) == 0 {
			return nil, errStored
		}
		tag := data[0]
		data = data[1:]
		switch tag {
		case tagNull:
		case tagFalse:
			vals[i] = false
		case tagTrue:
			vals[i] = true
		case tagInt:
			x, k := binary.Varint(data)
			if k <= 0 {
				return nil, errStored
			}
			vals[i], data = x, data[k:]
		case tagFloat:
			if len(data) < 8 {
				return nil, errStored
			}
			vals[i], data = math.Float64frombits(binary.LittleEndian.Uint64(data)), data[8:]
		case tagTime:
			sec, k := binary.Varint(data)
			if k <= 0 {
				return nil, errStored
			}
			data = data[k:]
			ns, k := binary.Uvarint(data)
			if k <= 0 || ns >= 1e9 {
				return nil, errStored
			}
			vals[i], data = time.Unix(sec, int64(ns)).UTC(), data[k:]
		case tagString, tagBytes, tagJSON:
			l, k := binary.Uvarint(data)
			if k <= 0 || l > uint64(len(data)-k) {
				return nil, errStored
			}
			p := data[k : k+int(l)]
			data = data[k+int(l):]
			switch tag {
			case tagString:
				vals[i] = string(p)
			case tagBytes:
				vals[i] = bytes.Clone(p)
			default:
				vals[i] = json.RawMessage(bytes.Clone(p))
			}
		default:
			return nil, errStored
		}
	}
	if len(data) != 0 {
		return nil, errStored
	}
	return vals, nil
}

// checkYear rejects a time that RFC 3339 cannot write: one outside the
// years 0 to 9999 in UTC.
func checkYear(t time.Time) error {
	if !yearOK(t.Unix()) {
		return fmt.Errorf("time %v: year outside [0, 9999] cannot be written", t)
	}
	return nil
}

// The Unix times of 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
const (
	minYearUnix = -62167219200
	endYearUnix = 253402300800
)

// yearOK reports whether the time whose Unix seconds (rounded down, as
// time.Time.Unix gives them) are sec falls in the years 0 to 9999 in UTC:
// the bounds are whole seconds, so the nanoseconds do not matter. It is
// checkYear without computing the date.
func yearOK(sec int64) bool { return sec >= minYearUnix && sec < endYearUnix }
