package schema

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Codec turns values of the struct type T into rows of the table derived
// from T by [Struct]. It is immutable and safe for concurrent use.
type Codec[T any] struct {
	compiled       *Compiled
	fields         []field
	strings, times int // the fields Row boxes into an array of each
	blocks         rowBlocks
}

// Struct derives a table named name, with the given primary key columns,
// from the exported fields of the struct type T, and returns a [Codec]
// for it.
//
// A field's column name is the name in its `col` tag, else the name in
// its `json` tag, else the field's name. The tag `col:"-"` skips a field,
// and so does `json:"-"` when there is no `col` tag; unexported fields
// are skipped. A type after a comma overrides the column type
// (`col:"updatedAt,utc_datetime"`, `col:"price,decimal"`,
// `col:",json"`), written as [ParseType] reads it.
//
// Field types map to column types as follows, and a pointer to any of
// them maps to the same type, a nil pointer being NULL:
//
//	string                  STRING
//	bool                    BOOLEAN
//	int8, int16, uint8      SHORT
//	int32, uint16           INT
//	int, int64, uint32      LONG
//	float32                 FLOAT
//	float64                 DOUBLE
//	time.Time               UTC_DATETIME
//	[]byte                  BINARY (a nil slice is NULL)
//	json.RawMessage         JSON (a nil slice is NULL)
//
// Named types map by their underlying type (type Status string is
// STRING). uint and uint64 have no default, as they can exceed LONG: tag
// them, for instance `col:",decimal"` or `col:",long"` (uintptr can only
// be JSON). Maps,
// slices, arrays, interfaces and structs other than time.Time need the
// JSON type in their tag (`col:"meta,json"`) and are encoded with
// json.Marshal on each call of [Codec.Row]. An override must be a type
// that [Compiled.Normalize] accepts for the field's Go type, such as
// DECIMAL, NAIVE_DATE or JSON for a string. Such a string field must
// hold valid text, the empty string being no decimal or date: use a
// *string for a column that may be NULL.
//
// The exported fields of an embedded struct (not a pointer to one) are
// promoted as encoding/json does; an embedded struct with a name in its
// tag is a single field instead. Embedding a pointer to a struct is an
// error, and so are two fields with the same column name.
//
// A nested struct, or pointer to a struct, tagged `col:"prefix,inline"`
// adds its fields as columns named prefix followed by their own names,
// so a column can come from a nested JSON object without a second
// struct: with
//
//	User struct {
//		Login string `json:"login"`
//		ID    int64  `json:"id"`
//	} `json:"user" col:"user_,inline"`
//
// the table has the columns user_login and user_id; a nil pointer makes
// its inline columns NULL. Types that encoding/json cannot encode
// (channels, functions, complex numbers) cannot be columns even with the
// JSON type. Errors wrap [ErrInvalidTable].
func Struct[T any](name string, primaryKey ...string) (*Codec[T], error) {
	rt := reflect.TypeFor[T]()
	if rt.Kind() != reflect.Struct {
		return nil, invalidTable(name, "%v is not a struct type", rt)
	}
	d := deriver{table: name, seen: map[string]string{}}
	if err := d.walk(rt, nil, 0, "", ""); err != nil {
		return nil, err
	}
	t := Table{Name: name, PrimaryKey: primaryKey, Columns: d.columns}
	compiled, err := t.Compile()
	if err != nil {
		return nil, err
	}
	c := &Codec[T]{compiled: compiled, fields: d.fields}
	for i := range c.fields {
		isString, isTime := c.fields[i].boxable()
		if isString {
			c.strings++
		}
		if isTime {
			c.times++
		}
	}
	return c, nil
}

// MustStruct is like [Struct] but panics on error. It is meant for
// package-level variables, like regexp.MustCompile, where an error is a
// mistake in the program's own struct type, found the first time the
// program runs; use Struct for types that are not known when the program
// is written.
func MustStruct[T any](name string, primaryKey ...string) *Codec[T] {
	c, err := Struct[T](name, primaryKey...)
	if err != nil {
		panic(err)
	}
	return c
}

// Table returns a copy of the derived table.
func (c *Codec[T]) Table() Table { return c.compiled.Table() }

// Compiled returns the compiled derived table, to normalize or key the
// rows of [Codec.Row].
func (c *Codec[T]) Compiled() *Compiled { return c.compiled }

var (
	timeType       = reflect.TypeFor[time.Time]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
)

// deriver walks a struct type and collects its columns and fields.
type deriver struct {
	table   string
	columns []Column
	fields  []field
	seen    map[string]string // column name to the field path that has it
}

func (d *deriver) walk(rt reflect.Type, hops []uintptr, base uintptr, prefix, colPrefix string) error {
	for i := range rt.NumField() {
		sf := rt.Field(i)
		path := prefix + sf.Name
		tag, err := parseTag(sf)
		if err != nil {
			return invalidTable(d.table, "field %s: %v", path, err)
		}
		if tag.skip {
			continue
		}
		if tag.inline {
			if err := d.inline(sf, hops, base, path, colPrefix+tag.name); err != nil {
				return err
			}
			continue
		}
		if sf.Anonymous && !tag.named && tag.override == 0 {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				return invalidTable(d.table, "field %s: embedded pointer %v is not supported; embed the struct by value, or tag it `col:\",inline\"`", path, ft)
			}
			if ft.Kind() == reflect.Struct && ft != timeType {
				if err := d.walk(ft, hops, base+sf.Offset, path+".", colPrefix); err != nil {
					return err
				}
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		f, err := newField(sf.Type, tag.override)
		if err != nil {
			return invalidTable(d.table, "field %s (%v): %v", path, sf.Type, err)
		}
		name := colPrefix + tag.name
		if other, dup := d.seen[name]; dup {
			return invalidTable(d.table, "fields %s and %s have the same column name %q", other, path, name)
		}
		d.seen[name] = path
		f.name = name
		f.hops = hops
		f.off = base + sf.Offset
		d.fields = append(d.fields, f)
		d.columns = append(d.columns, Column{Name: name, Type: f.typ})
	}
	return nil
}

// inline adds the fields of the struct (or pointer to a struct) field sf
// as columns named colPrefix + their own names.
func (d *deriver) inline(sf reflect.StructField, hops []uintptr, base uintptr, path, colPrefix string) error {
	if !sf.IsExported() && !sf.Anonymous {
		return invalidTable(d.table, "field %s: an unexported field cannot be inline", path)
	}
	ft := sf.Type
	switch {
	case ft.Kind() == reflect.Struct && ft != timeType:
		return d.walk(ft, hops, base+sf.Offset, path+".", colPrefix)
	case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && ft.Elem() != timeType:
		// Follow the pointer: a nil pointer makes the inline columns NULL.
		next := append(append([]uintptr(nil), hops...), base+sf.Offset)
		return d.walk(ft.Elem(), next, 0, path+".", colPrefix)
	}
	return invalidTable(d.table, "field %s (%v): only a struct or a pointer to a struct can be inline", path, ft)
}

// fieldTag is what a field's `col` and `json` tags say.
type fieldTag struct {
	name     string // the column name, or the prefix of inline columns
	override Type   // the column type given in the tag, zero if none
	named    bool   // the name comes from a tag
	skip     bool   // `col:"-"`, or `json:"-"` without a col tag
	inline   bool   // `col:"prefix,inline"`: the struct's fields are columns
}

// parseTag reads a field's column name, type override and options from
// its `col` and `json` tags.
func parseTag(sf reflect.StructField) (fieldTag, error) {
	var tag fieldTag
	col, hasCol := sf.Tag.Lookup("col")
	if hasCol {
		if col == "-" {
			return fieldTag{skip: true}, nil
		}
		var opt string
		tag.name, opt, _ = strings.Cut(col, ",")
		switch {
		case opt == "inline":
			tag.inline = true
			return tag, nil // the name, even empty, is the prefix
		case opt != "":
			t, err := ParseType(opt)
			if err != nil {
				return tag, fmt.Errorf("tag `col:%q`: unknown column type or option %q", col, opt)
			}
			tag.override = t
		}
	}
	if tag.name == "" {
		if js, ok := sf.Tag.Lookup("json"); ok {
			if js == "-" && !hasCol {
				return fieldTag{skip: true}, nil
			}
			if js != "-" {
				tag.name, _, _ = strings.Cut(js, ",")
			}
		}
	}
	tag.named = tag.name != ""
	if !tag.named {
		tag.name = sf.Name
	}
	return tag, nil
}

// newField classifies a field's Go type and checks the column type it
// maps to. The name and offset are set by the caller.
func newField(ft reflect.Type, override Type) (field, error) {
	var f field
	if ft.Kind() == reflect.Pointer {
		f.ptr = true
		ft = ft.Elem()
	}
	f.kind, f.typ = classify(ft)
	if f.kind == kindOther {
		f.rtype = ft
	}
	if override != 0 {
		f.typ = override
	}
	if f.kind == kindOther {
		// First, as the advice to give such a field the JSON type would be
		// wrong for a channel, a function or a complex number.
		if err := encodable(ft, nil); err != nil {
			return f, err
		}
	}
	if f.typ == 0 {
		if f.kind == kindOther {
			return f, errors.New("a map, slice, array, interface or struct needs the JSON type in its tag, as `col:\",json\"`")
		}
		return f, errors.New("an unsigned integer may exceed LONG; give its type in the tag, as `col:\",decimal\"` or `col:\",long\"`")
	}
	if !accepts(f.kind, f.typ) {
		return f, errors.New("cannot be a " + f.typ.String() + " column")
	}
	f.direct = isDirect(f.kind, f.typ)
	return f, nil
}

// encodable reports a type that encoding/json cannot encode, which a JSON
// column could never hold: a channel, a function, a complex number or an
// unsafe pointer, also inside a container, and a map whose keys are
// neither strings, integers nor text marshalers. Types that marshal
// themselves are trusted.
func encodable(t reflect.Type, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	if seen == nil {
		seen = make(map[reflect.Type]bool)
	}
	seen[t] = true
	if t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType) ||
		t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return fmt.Errorf("a %v cannot be encoded as JSON, so it cannot be a column; skip it with `col:\"-\"`", t)
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return encodable(t.Elem(), seen)
	case reflect.Map:
		switch k := t.Key(); {
		case k.Kind() == reflect.String, k.Kind() >= reflect.Int && k.Kind() <= reflect.Uintptr,
			k.Implements(textMarshalerType):
		default:
			return fmt.Errorf("a map with %v keys cannot be encoded as JSON, so it cannot be a column", k)
		}
		return encodable(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			sf := t.Field(i)
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			// encoding/json encodes the exported fields of an embedded
			// struct even when its type is unexported.
			promoted := sf.Anonymous && ft.Kind() == reflect.Struct
			if (!sf.IsExported() && !promoted) || sf.Tag.Get("json") == "-" {
				continue
			}
			if err := encodable(sf.Type, seen); err != nil {
				return fmt.Errorf("field %s: %w", sf.Name, err)
			}
		}
	}
	return nil
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// classify returns how to load a value of type t and its default column
// type, zero when there is none.
func classify(t reflect.Type) (kind, Type) {
	switch {
	case t == timeType:
		return kindTime, UTCDateTime
	case t == rawMessageType:
		return kindRaw, JSON
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return kindBytes, Binary
	}
	switch t.Kind() {
	case reflect.String:
		return kindString, String
	case reflect.Bool:
		return kindBool, Boolean
	case reflect.Int:
		return kindInt, Long
	case reflect.Int8:
		return kindInt8, Short
	case reflect.Int16:
		return kindInt16, Short
	case reflect.Int32:
		return kindInt32, Int
	case reflect.Int64:
		return kindInt64, Long
	case reflect.Uint:
		return kindUint, 0
	case reflect.Uint8:
		return kindUint8, Short
	case reflect.Uint16:
		return kindUint16, Int
	case reflect.Uint32:
		return kindUint32, Long
	case reflect.Uint64:
		return kindUint64, 0
	case reflect.Float32:
		return kindFloat32, Float
	case reflect.Float64:
		return kindFloat64, Double
	}
	return kindOther, 0
}

// accepts reports whether a value of kind k can become a column of type
// t, following the conversions of Compiled.Normalize.
func accepts(k kind, t Type) bool {
	if t == JSON {
		return true // json.Marshal, or a validity check for bytes
	}
	switch k {
	case kindString:
		return t == String || t == XML || t == Decimal || t == NaiveDate ||
			t == NaiveDateTime || t == UTCDateTime || t == Binary
	case kindBool:
		return t == Boolean
	case kindInt, kindInt8, kindInt16, kindInt32, kindInt64,
		kindUint, kindUint8, kindUint16, kindUint32, kindUint64,
		kindFloat32, kindFloat64:
		return t == Short || t == Int || t == Long || t == Float || t == Double || t == Decimal
	case kindTime:
		return t == NaiveDate || t == NaiveDateTime || t == UTCDateTime
	case kindBytes:
		return t == Binary
	}
	return false
}

// isDirect reports whether every value of kind k is already canonical
// for type t once loaded (or, for floats and times, after a fixed step
// that cannot fail), so that Row can skip the general conversion.
func isDirect(k kind, t Type) bool {
	switch k {
	case kindString:
		return t == String || t == XML
	case kindBool:
		return t == Boolean
	case kindInt8, kindInt16, kindUint8:
		return t == Short || t == Int || t == Long
	case kindInt32, kindUint16:
		return t == Int || t == Long
	case kindInt, kindInt64, kindUint32, kindUint, kindUint64:
		return t == Long // uint and uint64 still check the range
	case kindFloat32:
		return t == Float
	case kindFloat64:
		return t == Double
	case kindTime:
		return t == UTCDateTime
	case kindBytes:
		return t == Binary
	}
	return false
}
