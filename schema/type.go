package schema

import (
	"fmt"
	"strings"
)

// Type is the type of a column, as in the Fivetran Connector SDK.
type Type uint8

// The column types. Each has one canonical Go type, which the Normalize
// methods of [Compiled] produce.
const (
	String        Type = iota + 1 // string
	Boolean                       // bool
	Short                         // int64 in the range of int16
	Int                           // int64 in the range of int32
	Long                          // int64
	Float                         // float64 in the range of float32
	Double                        // float64
	Decimal                       // string holding a decimal number, as "-12.50"
	NaiveDate                     // time.Time at midnight UTC
	NaiveDateTime                 // time.Time in UTC, read as a wall clock without zone
	UTCDateTime                   // time.Time in UTC
	Binary                        // []byte
	JSON                          // json.RawMessage holding valid JSON
	XML                           // string
)

var typeNames = [...]string{
	String: "STRING", Boolean: "BOOLEAN", Short: "SHORT", Int: "INT", Long: "LONG",
	Float: "FLOAT", Double: "DOUBLE", Decimal: "DECIMAL", NaiveDate: "NAIVE_DATE",
	NaiveDateTime: "NAIVE_DATETIME", UTCDateTime: "UTC_DATETIME", Binary: "BINARY",
	JSON: "JSON", XML: "XML",
}

// Types lists every valid Type, in declaration order.
func Types() []Type {
	out := make([]Type, 0, len(typeNames)-1)
	for t := String; t <= XML; t++ {
		out = append(out, t)
	}
	return out
}

// Valid reports whether t is one of the declared types.
func (t Type) Valid() bool { return t >= String && t <= XML }

// String returns the SDK name of t, such as "UTC_DATETIME".
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType returns the Type named s, case-insensitively ("utc_datetime").
func ParseType(s string) (Type, error) {
	for t := String; t <= XML; t++ {
		if strings.EqualFold(typeNames[t], s) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("schema: unknown column type %q", s)
}

// MarshalText encodes t as its SDK name.
func (t Type) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("schema: invalid column type %d", uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText decodes an SDK type name.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
