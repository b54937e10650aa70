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
//
// Row also boxes the strings and times of a row into interfaces that
// point into one array of each per row, instead of one allocation per
// value (what the conversion to any does): an interface holding a string
// or a time.Time is a pointer to a copy that nothing writes again, and
// so are these, whose arrays Row fills before it makes the interfaces and
// then drops; box makes such an interface as the runtime does, from the
// type word of an interface of the same type.

import (
	"encoding/json"
	"fmt"
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
	hops   []uintptr    // pointer fields to follow from the start of T (inline pointers to structs)
	off    uintptr      // from the start of T, or of the struct the last hop points to
	ptr    bool         // the field is a pointer to its kind
	direct bool         // see isDirect
	rtype  reflect.Type // kindOther: the type at the (dereferenced) address
}

// Row returns v as the [Values] of a row of the derived table: every
// exported, non-skipped field as a column, in declaration order, each
// value in its column's canonical Go type, as [Compiled.Normalize] would
// return it. A nil v gives Values that every Normalize method rejects.
//
// Row reads the fields through offsets computed by [Struct], without
// reflection, except for maps, slices, arrays, interfaces and structs
// (JSON columns), which are read with reflect and encoded with
// json.Marshal on each call, as encoding/json encodes them in a struct
// (a MarshalJSON method of the pointer type is used); so is a scalar
// field given the JSON type.
// For the other fields Row takes the slice of values, and an array for
// the string values and one for the times, which the values point into,
// from blocks shared by the rows of about a hundred calls, and allocates
// the boxed values of the other types.
// A field value that cannot be converted (a NaN float, an uint64 beyond
// LONG, invalid JSON in a json.RawMessage, an unencodable map) makes the
// Values carry a [*ValueError] naming it, which the Normalize methods
// return; a nil primary key field is reported by them too.
//
// Strings, []byte and json.RawMessage values share memory with v.
func (c *Codec[T]) Row(v *T) Values {
	out := Values{table: c.compiled}
	if v == nil {
		out.err = fmt.Errorf("schema: table %q: nil %T", c.compiled.table.Name, v)
		return out
	}
	base := unsafe.Pointer(v)
	// strs and times are filled in place up to their capacity, never
	// reallocated: the values point into them.
	var strs []string
	var times []time.Time
	out.vals, strs, times = c.blocks.take(len(c.fields), c.strings, c.times)
	for i := range c.fields {
		f := &c.fields[i]
		p, ok := f.addr(base)
		var (
			val any
			err error
		)
		switch {
		case !ok:
		case f.direct && f.kind == kindString && validText(*(*string)(p)):
			strs = append(strs, *(*string)(p))
			val = box(stringWord, unsafe.Pointer(&strs[len(strs)-1]))
		case f.direct && f.kind == kindTime:
			times = append(times, (*(*time.Time)(p)).UTC())
			val = box(timeWord, unsafe.Pointer(&times[len(times)-1]))
		default:
			val, err = f.load(p)
		}
		if err != nil && out.err == nil {
			out.err = c.compiled.errorAt(&c.compiled.table.Columns[i], val, err)
		}
		out.vals[i] = val
	}
	return out
}

// eface is the layout of an interface value of type any.
type eface struct{ typ, data unsafe.Pointer }

// The type words of interfaces holding a string and a time.Time.
var (
	stringWord = typeWord("")
	timeWord   = typeWord(time.Time{})
)

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// box returns an interface of the type whose type word is typ holding
// the value at p, which must be of that type and never written again.
func box(typ, p unsafe.Pointer) (v any) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

// boxable reports whether Row boxes the field's values into an array of
// the row (see Row): the direct strings and times.
func (f *field) boxable() (isString, isTime bool) {
	return f.direct && f.kind == kindString, f.direct && f.kind == kindTime
}

// addr returns the address of the field's value in base, a pointer to a
// T; false if the value is NULL, a nil pointer on the way.
func (f *field) addr(base unsafe.Pointer) (unsafe.Pointer, bool) {
	p := base
	for _, hop := range f.hops {
		p = *(*unsafe.Pointer)(unsafe.Add(p, hop))
		if p == nil {
			return nil, false // a nil inline struct: its columns are NULL
		}
	}
	p = unsafe.Add(p, f.off)
	if f.ptr {
		p = *(*unsafe.Pointer)(p)
		if p == nil {
			return nil, false
		}
	}
	return p, true
}

// load returns the field's value at p, its address (see addr), converted
// to its column's canonical type; on error, the value as it is.
func (f *field) load(p unsafe.Pointer) (any, error) {
	switch f.kind {
	case kindString:
		s := *(*string)(p)
		if f.direct && validText(s) {
			return s, nil
		}
		return f.convert(s)
	case kindBool:
		b := *(*bool)(p)
		if f.direct {
			return b, nil
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
		if f.direct && !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
			return widenFloat32(x), nil
		}
		return f.convert(x)
	case kindFloat64:
		x := *(*float64)(p)
		if f.direct && !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x, nil
		}
		return f.convert(x)
	case kindTime:
		t := *(*time.Time)(p)
		if f.direct {
			return t.UTC(), nil
		}
		return f.convert(t)
	case kindBytes:
		b := *(*[]byte)(p)
		if b == nil {
			return nil, nil
		}
		if f.direct {
			return b, nil
		}
		return f.convert(b)
	case kindRaw:
		m := *(*json.RawMessage)(p)
		if m == nil {
			return nil, nil
		}
		return f.convert(m)
	}
	// kindOther: the JSON type; json.Marshal reflects anyway. It gets the
	// field's address, as encoding/json encodes the fields of a struct it
	// is given by pointer, so that a MarshalJSON or MarshalText method of
	// *T is used (big.Int has one).
	rv := reflect.NewAt(f.rtype, p)
	if f.rtype.Kind() == reflect.Interface {
		v := rv.Elem().Interface()
		if v == nil {
			return nil, nil // a nil interface
		}
		return f.convert(v)
	}
	out, err := f.convert(rv.Interface())
	if err != nil {
		return rv.Elem().Interface(), err // the value, not its address
	}
	return out, nil
}

func (f *field) integer(n int64) (any, error) {
	if f.direct {
		return n, nil
	}
	return f.convert(n)
}

func (f *field) unsigned(u uint64) (any, error) {
	if u > math.MaxInt64 {
		return f.convert(u)
	}
	return f.integer(int64(u))
}

// convert converts v to the field's column type, or returns v as it is
// with the error.
func (f *field) convert(v any) (any, error) {
	out, _, err := convert(f.typ, v)
	if err != nil {
		return v, err
	}
	return out, nil
}
