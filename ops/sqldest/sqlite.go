package sqldest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// SQLite is the [Dialect] of SQLite, which [Open] uses. Its column types
// and value encodings are listed in the package documentation.
type SQLite struct{}

var _ Dialect = SQLite{}

// sqliteTypes are the declared types by schema type: the SDK name, which
// tells the schema types apart in .schema and in pragma_table_info, then
// a word that gives the column the storage class it needs under SQLite's
// affinity rules (a name containing INT is INTEGER, TEXT is TEXT, BLOB is
// BLOB, REAL is REAL; a bare DECIMAL or JSON would be NUMERIC and turn
// "1.50" into 1.5).
var sqliteTypes = [...]string{
	schema.String:        "STRING TEXT",
	schema.Boolean:       "BOOLEAN INTEGER",
	schema.Short:         "SHORT INTEGER",
	schema.Int:           "INT INTEGER",
	schema.Long:          "LONG INTEGER",
	schema.Float:         "FLOAT REAL",
	schema.Double:        "DOUBLE REAL",
	schema.Decimal:       "DECIMAL TEXT",
	schema.NaiveDate:     "NAIVE_DATE TEXT",
	schema.NaiveDateTime: "NAIVE_DATETIME TEXT",
	schema.UTCDateTime:   "UTC_DATETIME TEXT",
	schema.Binary:        "BINARY BLOB",
	schema.JSON:          "JSON TEXT",
	schema.XML:           "XML TEXT",
}

// The text forms of the time types. Fractions always have nine digits,
// so that the text of two times orders as the times do.
const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02T15:04:05.000000000"
	utcLayout      = "2006-01-02T15:04:05.000000000Z"
)

// Name returns "sqlite".
func (SQLite) Name() string { return "sqlite" }

// Quote returns name in double quotes, doubling the quotes it holds.
func (SQLite) Quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Placeholder returns "?".
func (SQLite) Placeholder(int) string { return "?" }

// ColumnType returns the declared type of a column of type t, such as
// "UTC_DATETIME TEXT", or "" for an invalid type.
func (SQLite) ColumnType(t schema.Type) string {
	if !t.Valid() {
		return ""
	}
	return sqliteTypes[t]
}

// Begin returns "BEGIN IMMEDIATE", which takes the write lock at once.
func (SQLite) Begin() string { return "BEGIN IMMEDIATE" }

// CreateTable returns a CREATE TABLE IF NOT EXISTS statement for t.
func (d SQLite) CreateTable(t schema.Table) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(d.Quote(t.Name))
	b.WriteString(" (\n")
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "  %s %s", d.Quote(c.Name), d.ColumnType(c.Type))
		for _, k := range t.PrimaryKey {
			if k == c.Name {
				b.WriteString(" NOT NULL")
			}
		}
		b.WriteString(",\n")
	}
	fmt.Fprintf(&b, "  %s %s,\n", d.Quote(ops.SyncedColumn), d.ColumnType(schema.UTCDateTime))
	fmt.Fprintf(&b, "  %s %s NOT NULL DEFAULT 0,\n", d.Quote(ops.DeletedColumn), d.ColumnType(schema.Boolean))
	b.WriteString("  PRIMARY KEY (")
	for i, k := range t.PrimaryKey {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Quote(k))
	}
	b.WriteString(")\n)")
	return b.String()
}

// AddColumn returns an ALTER TABLE ... ADD COLUMN statement.
func (d SQLite) AddColumn(table string, c schema.Column) string {
	return "ALTER TABLE " + d.Quote(table) + " ADD COLUMN " + d.Quote(c.Name) + " " + d.ColumnType(c.Type)
}

// Upsert returns INSERT INTO ... VALUES (...), ... ON CONFLICT (key) DO
// UPDATE SET c = excluded.c for every column outside the key.
func (d SQLite) Upsert(table string, columns, key []string, rows int) string {
	var b strings.Builder
	d.writeInsert(&b, table, columns, rows)
	b.WriteString(" ON CONFLICT (")
	for i, k := range key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Quote(k))
	}
	b.WriteString(") DO UPDATE SET ")
	first := true
	for _, c := range columns {
		if slices.Contains(key, c) {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		q := d.Quote(c)
		b.WriteString(q)
		b.WriteString(" = excluded.")
		b.WriteString(q)
	}
	return b.String()
}

// Columns reads the columns of table from pragma_table_info. The key
// is the PRIMARY KEY, or for a table without one the unique index named
// [KeyIndex](table), which is the key of a table loaded without it (see
// the package documentation, Initial loads).
func (SQLite) Columns(ctx context.Context, q Querier, table string) ([]ColumnInfo, error) {
	rows, err := q.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ColumnInfo
	keyed := false
	for rows.Next() {
		var c ColumnInfo
		if err := rows.Scan(&c.Name, &c.Type, &c.Key); err != nil {
			return nil, err
		}
		keyed = keyed || c.Key > 0
		out = append(out, c)
	}
	if err := rows.Err(); err != nil || keyed || len(out) == 0 {
		return out, err
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT ii.seqno, ii.name FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii WHERE il.name = ? AND il."unique" = 1`, table, KeyIndex(table))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var name string
		if err := rows.Scan(&seq, &name); err != nil {
			return nil, err
		}
		for i := range out {
			if out[i].Name == name {
				out[i].Key = seq + 1
			}
		}
	}
	return out, rows.Err()
}

// Encode converts a canonical value to what the SQLite driver stores:
// strings as they are, BOOLEAN as the integer 0 or 1, integers and floats
// as they are, times as text in the layouts of the package documentation,
// BINARY as a blob, and JSON as text. Times must fall in the years 0 to
// 9999, which the text forms can hold.
func (SQLite) Encode(t schema.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case schema.String, schema.XML, schema.Decimal:
		if _, ok := v.(string); ok {
			return v, nil
		}
	case schema.Boolean:
		if b, ok := v.(bool); ok {
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
	case schema.Short, schema.Int, schema.Long:
		if _, ok := v.(int64); ok {
			return v, nil
		}
	case schema.Float, schema.Double:
		if _, ok := v.(float64); ok {
			return v, nil
		}
	case schema.NaiveDate, schema.NaiveDateTime, schema.UTCDateTime:
		if tm, ok := v.(time.Time); ok {
			return formatTime(t, tm)
		}
	case schema.Binary:
		if b, ok := v.([]byte); ok {
			if b == nil {
				return nil, nil
			}
			return v, nil
		}
	case schema.JSON:
		switch x := v.(type) {
		case json.RawMessage:
			if x == nil {
				return nil, nil
			}
			return string(x), nil
		case []byte:
			if x == nil {
				return nil, nil
			}
			return string(x), nil
		}
	default:
		return nil, fmt.Errorf("invalid column type %v", t)
	}
	return nil, fmt.Errorf("%w: %T for a %v column", schema.ErrWrongType, v, t)
}

// formatTime returns the text of a time of type t.
func formatTime(t schema.Type, tm time.Time) (string, error) {
	if t == schema.UTCDateTime {
		tm = tm.UTC()
	}
	if y := tm.Year(); y < 0 || y > 9999 {
		return "", fmt.Errorf("%w: year %d of a %v value is outside 0 to 9999", schema.ErrWrongType, y, t)
	}
	var buf [32]byte
	switch t {
	case schema.NaiveDate:
		return string(tm.AppendFormat(buf[:0], dateLayout)), nil
	case schema.NaiveDateTime:
		return string(tm.AppendFormat(buf[:0], dateTimeLayout)), nil
	}
	return string(tm.AppendFormat(buf[:0], utcLayout)), nil
}

// Decode converts a value read from SQLite back to the canonical Go
// value of t. It accepts what Encode writes, and the close variants a
// person editing the file might leave: text in a BINARY column, an
// integer in a REAL column, times with fewer fraction digits.
func (SQLite) Decode(t schema.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case schema.String, schema.XML, schema.Decimal:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case schema.JSON:
		var raw json.RawMessage
		switch x := v.(type) {
		case string:
			raw = json.RawMessage(x)
		case []byte:
			raw = json.RawMessage(append([]byte{}, x...))
		default:
			return nil, fmt.Errorf("%T in a %v column", v, t)
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("invalid JSON in a %v column", t)
		}
		return raw, nil
	case schema.Boolean:
		if n, ok := v.(int64); ok && (n == 0 || n == 1) {
			return n == 1, nil
		}
	case schema.Short, schema.Int, schema.Long:
		if n, ok := v.(int64); ok {
			if (t == schema.Short && n != int64(int16(n))) || (t == schema.Int && n != int64(int32(n))) {
				return nil, fmt.Errorf("%d is out of the range of a %v column", n, t)
			}
			return n, nil
		}
	case schema.Float, schema.Double:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		default:
			return nil, fmt.Errorf("%T in a %v column", v, t)
		}
		if t == schema.Float && math.Abs(f) > math.MaxFloat32 {
			return nil, fmt.Errorf("%g is out of the range of a %v column", f, t)
		}
		return f, nil
	case schema.NaiveDate, schema.NaiveDateTime, schema.UTCDateTime:
		return decodeTime(t, v)
	case schema.Binary:
		switch x := v.(type) {
		case []byte:
			// The driver reads an empty blob as a nil []byte; NULL is a
			// nil interface, handled above.
			return append([]byte{}, x...), nil
		case string:
			return []byte(x), nil
		}
	default:
		return nil, fmt.Errorf("invalid column type %v", t)
	}
	return nil, fmt.Errorf("%T %v in a %v column", v, v, t)
}

// decodeTime parses the text of a time of type t.
func decodeTime(t schema.Type, v any) (any, error) {
	var tm time.Time
	switch x := v.(type) {
	case time.Time:
		tm = x
	case string:
		layout := time.RFC3339
		switch t {
		case schema.NaiveDate:
			layout = dateLayout
		case schema.NaiveDateTime:
			layout = "2006-01-02T15:04:05" // fractions are read when present
		}
		var err error
		if tm, err = time.Parse(layout, x); err != nil {
			return nil, fmt.Errorf("invalid %v text %q: %v", t, x, err)
		}
	default:
		return nil, fmt.Errorf("%T in a %v column", v, t)
	}
	switch t {
	case schema.NaiveDate:
		y, m, d := tm.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	case schema.NaiveDateTime:
		y, m, d := tm.Date()
		hh, mm, ss := tm.Clock()
		return time.Date(y, m, d, hh, mm, ss, tm.Nanosecond(), time.UTC), nil
	}
	return tm.UTC(), nil
}

// keyLoader is implemented by the dialects whose tables can be loaded
// without their key, which is built afterwards (see the package
// documentation, Initial loads).
type keyLoader interface {
	// createUnkeyed returns the statement that creates table t as
	// CreateTable does, without the PRIMARY KEY.
	createUnkeyed(t schema.Table) string
	// createKey returns the statement that builds the key of a table
	// created by createUnkeyed: a unique index over key, named by
	// KeyIndex.
	createKey(table string, key []string) string
	// insert returns an INSERT of rows rows of the columns, without
	// ON CONFLICT.
	insert(table string, columns []string, rows int) string
}

var _ keyLoader = SQLite{}

// KeyIndex returns the name of the unique index that is the key of a
// table loaded without it (see the package documentation, Initial
// loads): "_connector_key_" and the table's name.
func KeyIndex(table string) string { return keyIndexPrefix + table }

const keyIndexPrefix = "_connector_key_"

func (d SQLite) createUnkeyed(t schema.Table) string {
	s := d.CreateTable(t)
	i := strings.LastIndex(s, ",\n  PRIMARY KEY (")
	return s[:i] + "\n)"
}

func (d SQLite) createKey(table string, key []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (", d.Quote(KeyIndex(table)), d.Quote(table))
	for i, k := range key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Quote(k))
	}
	b.WriteString(")")
	return b.String()
}

func (d SQLite) insert(table string, columns []string, rows int) string {
	var b strings.Builder
	d.writeInsert(&b, table, columns, rows)
	return b.String()
}

// writeInsert writes INSERT INTO table (columns) VALUES and rows rows of
// placeholders.
func (d SQLite) writeInsert(b *strings.Builder, table string, columns []string, rows int) {
	b.WriteString("INSERT INTO ")
	b.WriteString(d.Quote(table))
	b.WriteString(" (")
	for i, c := range columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Quote(c))
	}
	b.WriteString(") VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
}
