package pgdest_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/schema"
	"github.com/connectkit/connector/state"
)

// EnvBenchRows names the environment variable with the number of rows
// the load benchmarks write; the default keeps a CI run short. The
// figures of the package documentation use 1000000.
const EnvBenchRows = "CONNECTOR_PG_BENCH_ROWS"

// users is the table of examples/users: a random UUID v4 key, five
// strings and two times.
var users = schema.Table{
	Name:       "users",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.String},
		{Name: "name", Type: schema.String},
		{Name: "email", Type: schema.String},
		{Name: "address", Type: schema.String},
		{Name: "company", Type: schema.String},
		{Name: "job", Type: schema.String},
		{Name: "created_at", Type: schema.UTCDateTime},
		{Name: "updated_at", Type: schema.UTCDateTime},
	},
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Frances", "Donald", "Radia", "Leslie"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Allen", "Knuth", "Perlman", "Lamport"}
	streets    = []string{"Oak Street", "Maple Avenue", "Pine Road", "Cedar Lane", "Elm Court", "Birch Way"}
	cities     = []string{"Springfield", "Riverton", "Lakeside", "Hillview", "Fairport"}
	companies  = []string{"Initech", "Globex", "Umbrella", "Hooli", "Vandelay Industries", "Stark Industries"}
	jobs       = []string{"Engineer", "Designer", "Accountant", "Nurse", "Teacher", "Product Manager", "Data Analyst"}
)

// userRows returns n rows of users from r, as positional values.
func userRows(r *rand.Rand, n int) [][]any {
	out := make([][]any, n)
	var id [16]byte
	var buf [36]byte
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		for j := 0; j < 16; j += 8 {
			u := r.Uint64()
			for k := range 8 {
				id[j+k] = byte(u >> (8 * k))
			}
		}
		id[6] = id[6]&0x0f | 0x40 // version 4
		id[8] = id[8]&0x3f | 0x80 // variant
		hex.Encode(buf[0:8], id[0:4])
		buf[8] = '-'
		hex.Encode(buf[9:13], id[4:6])
		buf[13] = '-'
		hex.Encode(buf[14:18], id[6:8])
		buf[18] = '-'
		hex.Encode(buf[19:23], id[8:10])
		buf[23] = '-'
		hex.Encode(buf[24:36], id[10:16])
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		created := base.Add(time.Duration(r.Int64N(int64(4 * 365 * 24 * time.Hour)))).Truncate(time.Microsecond)
		out[i] = []any{
			string(buf[:]),
			first + " " + last,
			fmt.Sprintf("%s.%s%d@example.com", first, last, r.IntN(10000)),
			fmt.Sprintf("%d %s, %s", 1+r.IntN(9999), streets[r.IntN(len(streets))], cities[r.IntN(len(cities))]),
			companies[r.IntN(len(companies))],
			jobs[r.IntN(len(jobs))],
			created,
			created.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Microsecond),
		}
	}
	return out
}

// benchRows returns the number of rows of the load benchmarks.
func benchRows(b *testing.B) int {
	if s := os.Getenv(EnvBenchRows); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive number of rows", EnvBenchRows, s)
		}
		return n
	}
	return 20000
}

// loadChunk is the number of rows generated at once, outside the timing.
const loadChunk = 100000

// timeLoad times the writing of rows rows, generated in chunks outside the
// timing, by write, which is given each chunk and returns when the
// chunk is durable, after setup, untimed, for each run, and before
// finish, timed. It reports rows/s over the first 100,000 rows (or all
// of them if fewer) and over all of them, finish included.
func timeLoad(b *testing.B, rows int, setup func(run int) error, write func(chunk [][]any) error, finish func() error) {
	b.Helper()
	var total, first time.Duration
	for run := range b.N {
		b.StopTimer()
		if err := setup(run); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r := rand.New(rand.NewChaCha8([32]byte{1}))
		done := 0
		for done < rows {
			b.StopTimer()
			chunk := userRows(r, min(loadChunk, rows-done))
			b.StartTimer()
			start := time.Now()
			if err := write(chunk); err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			total += d
			if done == 0 {
				first += d
			}
			done += len(chunk)
		}
		start := time.Now()
		if err := finish(); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(n*float64(min(loadChunk, rows))/first.Seconds(), "rows/s@100k")
	b.ReportMetric(n*float64(rows)/total.Seconds(), "rows/s")
}

// BenchmarkLoad writes rows of the users table with random UUID keys:
//
//   - copy: a plain COPY (pgx CopyFrom) into a table without index or
//     key, in one COPY per 100,000 rows: the limit of moving the rows;
//   - pgdest: through the destination, in pages (Writes) of 1,000
//     upserts of new keys with a checkpoint every 50 pages, into a new
//     table, loaded without its primary key, which Close builds (timed);
//   - pgdest-keyed: the same with Options.KeyedLoad: the rows are COPYed
//     straight into the table with its key;
//   - pgdest-staged: the same as pgdest-keyed, every segment staged and
//     merged (INSERT ... ON CONFLICT), as when some keys exist;
//   - pgdest-page: the same as pgdest with a checkpoint every page;
//   - pgdest-again: the upserts of the same rows (every key exists) into
//     the table pgdest loaded, timed alone.
//
// Set CONNECTOR_PG_BENCH_ROWS=1000000 for the figures of the package
// documentation (the default keeps CI short), and
// CONNECTOR_PG_BENCH_FLUSH to change Options.FlushRows.
func BenchmarkLoad(b *testing.B) {
	rows := benchRows(b)
	ctx := context.Background()
	b.Run("copy", func(b *testing.B) {
		dsn, name := pgtest.Schema(b)
		conn := pgConn(b, dsn)
		cols := make([]string, len(users.Columns))
		var ddl string
		for i, c := range users.Columns {
			cols[i] = c.Name
			ddl += fmt.Sprintf(", %q %s", c.Name, pgdest.ColumnType(c.Type))
		}
		var table pgx.Identifier
		b.ResetTimer()
		timeLoad(b, rows, func(run int) error {
			table = pgx.Identifier{name, fmt.Sprint("plain", b.N, "_", run)}
			_, err := conn.Exec(ctx, "CREATE TABLE "+table.Sanitize()+" ("+ddl[2:]+")")
			return err
		}, func(chunk [][]any) error {
			_, err := conn.CopyFrom(ctx, table, cols, pgx.CopyFromRows(chunk))
			return err
		}, func() error { return nil })
	})
	flush := 0
	if s := os.Getenv("CONNECTOR_PG_BENCH_FLUSH"); s != "" {
		flush, _ = strconv.Atoi(s)
	}
	for _, v := range []struct {
		name     string
		every    int // pages per checkpoint
		keyed    bool
		noDirect bool
		again    bool
	}{
		{name: "pgdest", every: 50},
		{name: "pgdest-keyed", every: 50, keyed: true},
		{name: "pgdest-staged", every: 50, keyed: true, noDirect: true},
		{name: "pgdest-page", every: 1},
		{name: "pgdest-again", every: 50, again: true},
	} {
		b.Run(v.name, func(b *testing.B) {
			dsn, _ := pgtest.Schema(b)
			c := compile(users)
			const page = 1000
			var db *pgdest.DB
			n := 0
			batch := make([]ops.Op, 0, page)
			st := state.New()
			write := func(chunk [][]any) error {
				for p := 0; p < len(chunk); p += page {
					batch = batch[:0]
					for _, row := range chunk[p:min(p+page, len(chunk))] {
						batch = append(batch, ops.Op{Kind: ops.OpUpsert, Table: c.Name(), Row: row})
					}
					if err := db.Write(ctx, batch); err != nil {
						return err
					}
					n += len(batch)
					if (n/page)%v.every == 0 || p+page >= len(chunk) {
						st.Table("users").Values = map[string]string{"n": strconv.Itoa(n)}
						if err := db.Checkpoint(ctx, st); err != nil {
							return err
						}
					}
				}
				return nil
			}
			b.ResetTimer()
			timeLoad(b, rows, func(run int) error {
				if db != nil {
					db.Close()
				}
				var err error
				name := strings.ReplaceAll(fmt.Sprint(v.name, "_", b.N, "_", run), "-", "_")
				opts := pgdest.Options{Schema: name, Logger: quiet, FlushRows: flush, KeyedLoad: v.keyed}
				if db, err = pgdest.Open(ctx, dsn, opts); err != nil {
					return err
				}
				if err := db.Prepare(ctx, []schema.Table{users}); err != nil {
					return err
				}
				if v.again {
					// The rows are there already: load them, untimed.
					r := rand.New(rand.NewChaCha8([32]byte{1}))
					for done := 0; done < rows; done += loadChunk {
						if err := write(userRows(r, min(loadChunk, rows-done))); err != nil {
							return err
						}
					}
					if err := db.Close(); err != nil {
						return err
					}
					if db, err = pgdest.Open(ctx, dsn, opts); err != nil {
						return err
					}
					if err := db.Prepare(ctx, []schema.Table{users}); err != nil {
						return err
					}
				}
				pgdest.Tune(db, v.noDirect)
				n = 0
				return nil
			}, write, func() error {
				err := db.Close()
				db = nil
				return err
			})
		})
	}
}

// BenchmarkLoadPaired writes the same rows as BenchmarkLoad's copy and
// pgdest, alternating the two chunk by chunk (100,000 rows, generated
// outside the timing), so that the machine's drift biases neither: it
// reports both rates and their ratio (pgdest/copy), the destination's
// Close (which builds the primary key) timed with it.
func BenchmarkLoadPaired(b *testing.B) {
	rows := benchRows(b)
	ctx := context.Background()
	dsn, name := pgtest.Schema(b)
	conn := pgConn(b, dsn)
	cols := make([]string, len(users.Columns))
	var ddl string
	for i, c := range users.Columns {
		cols[i] = c.Name
		ddl += fmt.Sprintf(", %q %s", c.Name, pgdest.ColumnType(c.Type))
	}
	c := compile(users)
	const page = 1000
	var tCopy, tDest time.Duration
	for run := range b.N {
		b.StopTimer()
		table := pgx.Identifier{name, fmt.Sprint("paired", b.N, "_", run)}
		if _, err := conn.Exec(ctx, "CREATE TABLE "+table.Sanitize()+" ("+ddl[2:]+")"); err != nil {
			b.Fatal(err)
		}
		db, err := pgdest.Open(ctx, dsn, pgdest.Options{Schema: fmt.Sprint(name, "_p", b.N, "_", run), Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Prepare(ctx, []schema.Table{users}); err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewChaCha8([32]byte{1}))
		st := state.New()
		n := 0
		b.StartTimer()
		for done := 0; done < rows; done += loadChunk {
			b.StopTimer()
			chunk := userRows(r, min(loadChunk, rows-done))
			b.StartTimer()
			start := time.Now()
			if _, err := conn.CopyFrom(ctx, table, cols, pgx.CopyFromRows(chunk)); err != nil {
				b.Fatal(err)
			}
			tCopy += time.Since(start)
			start = time.Now()
			batch := make([]ops.Op, 0, page)
			for p := 0; p < len(chunk); p += page {
				batch = batch[:0]
				for _, row := range chunk[p:min(p+page, len(chunk))] {
					batch = append(batch, ops.Op{Kind: ops.OpUpsert, Table: c.Name(), Row: row})
				}
				if err := db.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				n += len(batch)
				if (n/page)%50 == 0 || p+page >= len(chunk) {
					st.Table("users").Values = map[string]string{"n": strconv.Itoa(n)}
					if err := db.Checkpoint(ctx, st); err != nil {
						b.Fatal(err)
					}
				}
			}
			tDest += time.Since(start)
		}
		start := time.Now()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		tDest += time.Since(start)
	}
	total := float64(b.N * rows)
	b.ReportMetric(total/tCopy.Seconds(), "copy-rows/s")
	b.ReportMetric(total/tDest.Seconds(), "pgdest-rows/s")
	b.ReportMetric(tCopy.Seconds()/tDest.Seconds(), "ratio")
}
