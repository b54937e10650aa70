package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	cols := func(c ...Column) []Column { return c }
	tests := []struct {
		name  string
		table Table
		want  string // part of the error; "" for a valid table
	}{
		{"seed user table", userTable, ""},
		{"composite key", keyed, ""},
		{"every type", allTypes, ""},
		{"empty name", Table{PrimaryKey: []string{"id"}, Columns: cols(Column{"id", String})}, "table name is empty"},
		{"no primary key", Table{Name: "t", Columns: cols(Column{"id", String})}, "no primary key"},
		{"empty column name", Table{Name: "t", PrimaryKey: []string{"id"}, Columns: cols(Column{"id", String}, Column{"", String})}, "column 1 has an empty name"},
		{"duplicate column", Table{Name: "t", PrimaryKey: []string{"id"}, Columns: cols(Column{"id", String}, Column{"id", Long})}, `column "id" is declared twice`},
		{"key not a column", Table{Name: "t", PrimaryKey: []string{"uid"}, Columns: cols(Column{"id", String})}, `primary key column "uid" is not a declared column`},
		{"key listed twice", Table{Name: "t", PrimaryKey: []string{"id", "id"}, Columns: cols(Column{"id", String})}, `primary key column "id" is listed twice`},
		{"binary key", Table{Name: "t", PrimaryKey: []string{"id"}, Columns: cols(Column{"id", Binary})}, `has type BINARY, which cannot be a key`},
		{"json key", Table{Name: "t", PrimaryKey: []string{"id"}, Columns: cols(Column{"id", JSON})}, `has type JSON, which cannot be a key`},
		{"zero type", Table{Name: "t", PrimaryKey: []string{"id"}, Columns: cols(Column{"id", String}, Column{"x", 0})}, `column "x" has invalid type Type(0)`},
		{"type past the last", Table{Name: "t", PrimaryKey: []string{"id"}, Columns: cols(Column{"id", String}, Column{"x", XML + 1})}, `invalid type Type(15)`},
		{"reserved synced", Table{Name: "t", PrimaryKey: []string{"id"}, Columns: cols(Column{"id", String}, Column{"_connector_synced", UTCDateTime})}, `"_connector_synced" is a reserved system column`},
		{"reserved deleted, other case", Table{Name: "t", PrimaryKey: []string{"id"}, Columns: cols(Column{"id", String}, Column{"_Connector_Deleted", Boolean})}, `is a reserved system column`},
	}
	for _, tc := range tests {
		err := tc.table.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidTable) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidTable containing %q", tc.name, err, tc.want)
		}
		if _, cerr := tc.table.Compile(); cerr == nil || cerr.Error() != err.Error() {
			t.Errorf("%s: Compile() = %v, want the error of Validate, %v", tc.name, cerr, err)
		}
	}
	orders := Table{Name: "orders", Columns: []Column{{"id", String}}}
	err := orders.Validate()
	if want := `schema: invalid table "orders": no primary key column`; err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
}

func TestColumn(t *testing.T) {
	c := mustCompile(t, userTable)
	for _, name := range []string{"id", "updatedAt", "job", "missing", ""} {
		want, wantOK := Column{}, false
		for _, col := range userTable.Columns {
			if col.Name == name {
				want, wantOK = col, true
			}
		}
		tbl := userTable
		if got, ok := tbl.Column(name); got != want || ok != wantOK {
			t.Errorf("Table.Column(%q) = %v, %v; want %v, %v", name, got, ok, want, wantOK)
		}
		if got, ok := c.Column(name); got != want || ok != wantOK {
			t.Errorf("Compiled.Column(%q) = %v, %v; want %v, %v", name, got, ok, want, wantOK)
		}
	}
}

func TestCompiledIsACopy(t *testing.T) {
	tbl := Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []Column{{"id", String}, {"n", Long}}}
	c := mustCompile(t, tbl)
	tbl.Columns[1].Type = String
	tbl.PrimaryKey[0] = "n"
	got := c.Table()
	want := Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []Column{{"id", String}, {"n", Long}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compiled.Table() changed with its source (-want +got):\n%s", diff)
	}
	got.Columns[0].Name = "changed"
	if c.Table().Columns[0].Name != "id" || c.Name() != "t" {
		t.Errorf("Compiled.Table() shares memory with the Compiled")
	}
}
