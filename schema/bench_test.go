package schema

import (
	"testing"
	"time"
)

// userTable is the seed's table.
var userTable = Table{
	Name:       "user",
	PrimaryKey: []string{"id"},
	Columns: []Column{
		{"id", String}, {"name", String}, {"email", String}, {"address", String},
		{"company", String}, {"job", String}, {"updatedAt", UTCDateTime}, {"createdAt", UTCDateTime},
	},
}

// User is the seed's record as a struct.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Address   string    `json:"address"`
	Company   string    `json:"company"`
	Job       string    `json:"job"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedAt time.Time `json:"createdAt"`
}

func seedUser() User {
	return User{
		ID: "7f3c2a", Name: "Ann Smith", Email: "ann@example.com", Address: "1 Main St, Springfield",
		Company: "Acme", Job: "Engineer",
		UpdatedAt: time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC),
		CreatedAt: time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// userRow is the seed's record as decoded from JSON: timestamps as text.
func userRow() Row {
	return Row{
		"id": "7f3c2a", "name": "Ann Smith", "email": "ann@example.com", "address": "1 Main St, Springfield",
		"company": "Acme", "job": "Engineer",
		"updatedAt": "2024-03-01T10:20:30Z", "createdAt": "2023-01-02T03:04:05.123+02:00",
	}
}

func reportRows(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkNormalize normalizes the seed's user row. "json" starts each
// iteration from RFC 3339 text in the two time columns, as decoded from
// an API (resetting them is part of the measure); "canonical" checks a
// row that is already normalized.
func BenchmarkNormalize(b *testing.B) {
	c := mustCompile(b, userTable)
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		row := userRow()
		updated, created := row["updatedAt"], row["createdAt"]
		for b.Loop() {
			row["updatedAt"], row["createdAt"] = updated, created
			if _, err := c.Normalize(row); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b)
	})
	b.Run("canonical", func(b *testing.B) {
		b.ReportAllocs()
		row := userRow()
		if _, err := c.Normalize(row); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := c.Normalize(row); err != nil {
				b.Fatal(err)
			}
		}
		reportRows(b)
	})
}

// BenchmarkCodecRow turns the seed's user struct into a row.
func BenchmarkCodecRow(b *testing.B) {
	c := MustStruct[User]("user", "id")
	u := seedUser()
	b.ReportAllocs()
	for b.Loop() {
		if c.Row(&u).Err() != nil {
			b.Fatal("bad row")
		}
	}
	reportRows(b)
}
