package schema

// This file holds all of the package's unsafe code: loading the fields of
// a struct from memory without reflection.
//
// It is safe because:
//   - every offset is reflect.StructField.Offset of the exact type T the
//     Codec was derived for (summed along embedded structs held by value),
//     so base+off is inside the *T's object;
//   - every load reads a value of the field's own type (a named type is
//     read as its underlying type, which has the same layout), chosen by
//     the kind classify gave that field type;
//   - base comes from a live, non-nil *T that Row's caller holds for the
//     duration of the call, and unsafe.Pointer values keep it reachable;
//     no address is ever kept as a uintptr;
//   - the loaded values are copied (strings and slices share their
//     immutable or caller-owned backing arrays, as an assignment would).

import (
	"encoding/json"
	"math"
	"reflect"
	"time"
	"unsafe"
)

// kind is how a field is loaded from memory.
type kind uint8

const (
	kindString kind = iota + 1
	kindBool
	kindInt
	kindInt8
	kindInt16
	kindInt32
	kindInt64
	kindUint
	kindUint8
	kindUint16
	kindUint32
	kindUint64
	kindFloat32
	kindFloat64
	kindTime
	kindBytes
	kindRaw
	kindOther // anything else, loaded with reflect and encoded as JSON
)

// field is a precompiled accessor for one struct field.
type field struct {
	name   string
	typ    Type
	kind   kind
	off    uintptr      // from the start of T
	ptr    bool         // the field is a pointer to its kind
	direct bool         // see isDirect
	rtype  reflect.Type // kindOther: the type at the (dereferenced) address
}

// Row returns v as a row of the derived table, with every exported,
// non-skipped field as a column and each value in its column's canonical
// Go type, as [Compiled.Normalize] would return it. A nil v gives nil.
//
// Row reads the fields through offsets computed by [Struct], without
// reflection, except for maps, slices, arrays, interfaces and structs
// (JSON columns), which are read with reflect and encoded with
// json.Marshal on each call; so is a scalar field given the JSON type.
// For the other fields Row allocates the map and the boxed values only. A field
// value that cannot be converted (a NaN float, an uint64 beyond LONG,
// invalid JSON in a json.RawMessage, an unencodable map) is put in the
// row as it is, so that [Compiled.Normalize] of the row reports it as a
// [*ValueError]; Normalize of a row that Row made is otherwise cheap and
// returns it unchanged.
//
// Strings, []byte and json.RawMessage values share memory with v.
func (c *Codec[T]) Row(v *T) Row {
	if v == nil {
		return nil
	}
	base := unsafe.Pointer(v)
	row := make(Row, len(c.fields))
	for i := range c.fields {
		f := &c.fields[i]
		row[f.name] = f.load(base)
	}
	return row
}

// load returns the field's value in base, a pointer to a T.
func (f *field) load(base unsafe.Pointer) any {
	p := unsafe.Add(base, f.off)
	if f.ptr {
		p = *(*unsafe.Pointer)(p)
		if p == nil {
			return nil
		}
	}
	switch f.kind {
	case kindString:
		s := *(*string)(p)
		if f.direct {
			return s
		}
		return f.convert(s)
	case kindBool:
		b := *(*bool)(p)
		if f.direct {
			return b
		}
		return f.convert(b)
	case kindInt:
		return f.integer(int64(*(*int)(p)))
	case kindInt8:
		return f.integer(int64(*(*int8)(p)))
	case kindInt16:
		return f.integer(int64(*(*int16)(p)))
	case kindInt32:
		return f.integer(int64(*(*int32)(p)))
	case kindInt64:
		return f.integer(*(*int64)(p))
	case kindUint:
		return f.unsigned(uint64(*(*uint)(p)))
	case kindUint8:
		return f.integer(int64(*(*uint8)(p)))
	case kindUint16:
		return f.integer(int64(*(*uint16)(p)))
	case kindUint32:
		return f.integer(int64(*(*uint32)(p)))
	case kindUint64:
		return f.unsigned(*(*uint64)(p))
	case kindFloat32:
		x := *(*float32)(p)
		if f.direct {
			return widenFloat32(x)
		}
		return f.convert(x)
	case kindFloat64:
		x := *(*float64)(p)
		if f.direct {
			return x // NaN and ±Inf are left for Normalize to reject
		}
		return f.convert(x)
	case kindTime:
		t := *(*time.Time)(p)
		if f.direct {
			return t.UTC()
		}
		return f.convert(t)
	case kindBytes:
		b := *(*[]byte)(p)
		if b == nil {
			return nil
		}
		if f.direct {
			return b
		}
		return f.convert(b)
	case kindRaw:
		m := *(*json.RawMessage)(p)
		if m == nil {
			return nil
		}
		return f.convert(m)
	}
	// kindOther: the JSON type; json.Marshal reflects anyway.
	v := reflect.NewAt(f.rtype, p).Elem().Interface()
	if v == nil {
		return nil // a nil interface
	}
	return f.convert(v)
}

func (f *field) integer(n int64) any {
	if f.direct {
		return n
	}
	return f.convert(n)
}

func (f *field) unsigned(u uint64) any {
	if u > math.MaxInt64 {
		return f.convert(u)
	}
	return f.integer(int64(u))
}

// convert converts v to the field's column type, or returns v as it is
// if that fails, for Normalize to report.
func (f *field) convert(v any) any {
	out, _, err := convert(f.typ, v)
	if err != nil {
		return v
	}
	return out
}
