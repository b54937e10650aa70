// Command users is the Fivetran Connector SDK's users example, in Go: it
// syncs Faker-generated users from a paginated REST API into a destination,
// incrementally on (updatedAt, id), with a checkpoint after every page.
//
// By default it starts an embedded mock API, runs an initial sync into an
// in-memory destination, changes some users in the mock, runs an
// incremental sync that fetches only what changed, prints both summaries
// and checks the destination against the source:
//
//	go run ./examples/users
//
// Flags choose the source, the destination and the state:
//
//	-users N          users in the embedded mock (default 10000)
//	-page-size N      users per page (default 100)
//	-concurrency N    pages in flight (offset strategy; default 1)
//	-latency D        latency the embedded mock adds to each request
//	-strategy S       offset (the seed's) or keyset (loss-free under change)
//	-state FILE       keep the state in FILE: a second run syncs only what changed
//	-out DIR          write JSON Lines files and state.json to DIR
//	-db FILE          write a SQLite database (rows and state in one transaction
//	                  per page); sqlite3 FILE 'select count(*) from user'
//	-pg DSN           write a Postgres database (rows COPYed and merged, rows and
//	                  state in one transaction); psql DSN -c 'select count(*) from "user"'
//	-url URL          sync from a running server with the same API, such as
//	                  go run ./mockapi/cmd/mockapi -addr 127.0.0.1:8080
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/ops/pgdest"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/state"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "users:", err)
		os.Exit(1)
	}
}

// config holds the command line.
type config struct {
	users, pageSize, concurrency, changes int
	latency, progress                     time.Duration
	strategy, stateFile, outDir, dbFile   string
	pgDSN                                 string
	url                                   string
	seed                                  int64
	verify                                bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("users", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.users, "users", 10000, "users in the embedded mock API")
	fs.IntVar(&c.pageSize, "page-size", 100, "users per page")
	fs.IntVar(&c.concurrency, "concurrency", 1, "pages in flight")
	fs.IntVar(&c.changes, "changes", 50, "users the embedded mock changes between the two syncs")
	fs.DurationVar(&c.latency, "latency", 0, "latency the embedded mock adds to each request")
	fs.DurationVar(&c.progress, "progress", time.Second, "interval between progress logs (negative: none)")
	fs.StringVar(&c.strategy, "strategy", "offset", "paging strategy: offset or keyset")
	fs.StringVar(&c.stateFile, "state", "", "state file to resume from and checkpoint to")
	fs.StringVar(&c.outDir, "out", "", "directory destination (JSON Lines files and state.json); default in memory")
	fs.StringVar(&c.dbFile, "db", "", "SQLite database destination, which also keeps the state; default in memory")
	fs.StringVar(&c.pgDSN, "pg", "", "Postgres connection string (URL or key=value) of the destination, which also keeps the state")
	fs.StringVar(&c.url, "url", "", "base URL of a running users API; default an embedded mock")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the embedded mock's users")
	fs.BoolVar(&c.verify, "verify", true, "compare the in-memory destination with the embedded mock at the end")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.strategy != "offset" && c.strategy != "keyset":
		return c, fmt.Errorf("-strategy %q: want offset or keyset", c.strategy)
	case c.pageSize < 1:
		return c, fmt.Errorf("-page-size %d: want at least 1", c.pageSize)
	case c.users < 0 || c.changes < 0 || c.concurrency < 0:
		return c, errors.New("-users, -changes and -concurrency must not be negative")
	case (c.outDir != "") && (c.dbFile != "") || (c.outDir != "" || c.dbFile != "") && c.pgDSN != "":
		return c, errors.New("-out, -db and -pg: choose one destination")
	case c.stateFile != "" && (c.outDir != "" || c.dbFile != "" || c.pgDSN != ""):
		return c, errors.New("-state is for the in-memory destination: -out, -db and -pg keep the state with the rows")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	// The source: a running server, or the embedded mock.
	var mock *mockapi.Server
	baseURL := cfg.url
	if baseURL == "" {
		mock = mockapi.NewUnstartedServer(mockapi.Options{Users: cfg.users, Seed: cfg.seed, Faults: mockapi.Faults{Latency: cfg.latency}})
		mock.Start()
		defer mock.Close()
		// Stamp changes with the real time, so that runs resuming from a
		// state file see them as new.
		if err := mock.SetNow(time.Now().UTC()); err != nil {
			return err
		}
		baseURL = mock.URL
	}
	api := &API{
		Client:      &rest.Client{Logger: logger},
		BaseURL:     baseURL,
		PageSize:    cfg.pageSize,
		Concurrency: cfg.concurrency,
		Strategy:    cfg.strategy,
		Logger:      logger,
	}

	// The destination, and where the state lives.
	var dest ops.Destination
	mem := ops.NewMemory()
	dest = mem
	switch {
	case cfg.outDir != "":
		dir, err := ops.OpenDir(cfg.outDir, ops.DirOptions{Logger: logger})
		if err != nil {
			return err
		}
		defer dir.Close()
		dest, mem = dir, nil
	case cfg.pgDSN != "":
		db, err := pgdest.Open(ctx, cfg.pgDSN, pgdest.Options{Logger: logger})
		if err != nil {
			return err
		}
		defer db.Close()
		dest, mem = db, nil
	case cfg.dbFile != "":
		db, err := sqldest.Open(ctx, cfg.dbFile, sqldest.Options{Logger: logger})
		if err != nil {
			return err
		}
		defer db.Close()
		dest, mem = db, nil
	}
	opts := connector.Options{Logger: logger, Progress: cfg.progress}
	if cfg.stateFile != "" {
		// The rows live in memory, the state in the file: the memory
		// destination's own state is set aside.
		opts.Store = state.NewFile(cfg.stateFile)
		dest = rowsOnly{mem}
	}

	c := api.Connector()
	fmt.Fprintf(stdout, "Initial sync: %s paging, %d users per page, from %s\n", cfg.strategy, cfg.pageSize, baseURL)
	sum, err := c.Run(ctx, dest, opts)
	if sum != nil {
		fmt.Fprint(stdout, sum)
	}
	if err != nil {
		return err
	}

	if mock != nil {
		fmt.Fprintf(stdout, "\n%s\n", change(mock, cfg.changes, cfg.seed))
	}
	fmt.Fprintln(stdout, "\nIncremental sync: only what changed since the last checkpoint")
	sum, err = c.Run(ctx, dest, opts)
	if sum != nil {
		fmt.Fprint(stdout, sum)
	}
	if err != nil {
		return err
	}

	if mock != nil && mem != nil && cfg.verify && cfg.stateFile == "" {
		return verify(stdout, mock, mem)
	}
	return nil
}

// change updates, inserts and deletes users in the mock: n changes in all,
// four updates to each insert and each delete.
func change(mock *mockapi.Server, n int, seed int64) string {
	rnd := rand.New(rand.NewPCG(uint64(seed), uint64(time.Now().UnixNano())))
	var updated, inserted, deleted int
	for i := range n {
		switch {
		case i%6 == 4:
			mock.Insert()
			inserted++
		case i%6 == 5 && mock.Len() > 0:
			if mock.Delete(mock.UserAt(rnd.IntN(max(mock.Len(), 1))).ID) {
				deleted++
			}
		case mock.Len() > 0:
			if _, ok := mock.Update(mock.UserAt(rnd.IntN(max(mock.Len(), 1))).ID); ok {
				updated++
			}
		}
	}
	mock.Advance(time.Second)
	return fmt.Sprintf("Changed the source: %d users updated, %d inserted, %d deleted", updated, inserted, deleted)
}

// verify compares the live rows of the destination with the users of the
// mock.
func verify(stdout io.Writer, mock *mockapi.Server, mem *ops.Memory) error {
	want := make(map[string]map[string]any)
	for _, mu := range mock.Users() {
		u := User(mu) // the API's JSON, as this program decodes it
		if checkUser(u) != nil {
			continue
		}
		want[u.ID] = users.Row(&u).Map()
	}
	got := make(map[string]map[string]any)
	for k, row := range mem.Live("user") {
		got[k] = row
	}
	if diff := cmp.Diff(want, got); diff != "" {
		return fmt.Errorf("the destination differs from the source (-source +destination):\n%s", diff)
	}
	fmt.Fprintf(stdout, "\nThe destination matches the source: %d live users.\n", len(got))
	return nil
}

// rowsOnly is a destination whose state is kept elsewhere (Options.Store):
// it hides the state of the destination it wraps.
type rowsOnly struct{ ops.Destination }
