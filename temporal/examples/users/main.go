// Command users runs the users connector on Temporal workers: the sync
// is planned into parts (the recent window and 16 history windows of an
// hour), and the parts run as activities on the workers, all writing one
// Postgres schema, with rows and state committed together.
//
// With no flags it runs everything on this machine: an in-process
// Temporal dev server (SQLite in memory, on loopback), an embedded mock
// API, a Postgres server started from Debian's binaries (see pgtest),
// two workers, and the workflow; it prints the result and checks the
// table against the source:
//
//	go run ./examples/users
//
// Against a real cluster, start workers on any number of machines, then
// the workflow from anywhere:
//
//	go run ./examples/users -temporal temporal:7233 -pg "$DSN" -worker-only
//	go run ./examples/users -temporal temporal:7233 -pg "$DSN" -workers 0 -url https://api.example.com -oldest 2024-01-01T00:00:00Z
//
// Flags:
//
//	-temporal host:port   a Temporal frontend; "" starts a dev server in this process
//	-namespace NS         the namespace (default "default" on a cluster)
//	-queue NAME           the task queue (default "connectors")
//	-pg DSN               the Postgres database; "" starts a server from Debian's binaries
//	-schema NAME          the Postgres schema (default "users_temporal")
//	-workers N            workers in this process (default 2)
//	-worker-only          run a worker until interrupted, start no workflow
//	-url URL              the users API; "" starts an embedded mock
//	-users N              users in the embedded mock (default 3400)
//	-oldest TIME          the oldest updatedAt wanted (RFC 3339); default the mock's first
//	-parallelism N        parts at once (default 8)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops/pgdest/pgtest"
	"github.com/connectkit/connector/temporal"
	"github.com/connectkit/connector/temporal/internal/users"
)

// flags are the command's flags.
type flags struct {
	temporal, namespace, queue, pg, schema, url, oldest string
	workers, users, parallelism                         int
	workerOnly                                          bool
}

func main() {
	var f flags
	flag.StringVar(&f.temporal, "temporal", "", "Temporal frontend host:port; empty starts a dev server in this process")
	flag.StringVar(&f.namespace, "namespace", "", "Temporal namespace (default \"default\" on a cluster)")
	flag.StringVar(&f.queue, "queue", "connectors", "task queue")
	flag.StringVar(&f.pg, "pg", "", "Postgres DSN; empty starts a server from Debian's PostgreSQL binaries")
	flag.StringVar(&f.schema, "schema", "users_temporal", "Postgres schema")
	flag.IntVar(&f.workers, "workers", 2, "workers in this process")
	flag.BoolVar(&f.workerOnly, "worker-only", false, "run a worker until interrupted; start no workflow")
	flag.StringVar(&f.url, "url", "", "users API base URL; empty starts an embedded mock")
	flag.IntVar(&f.users, "users", 3400, "users in the embedded mock")
	flag.StringVar(&f.oldest, "oldest", "", "oldest updatedAt wanted, RFC 3339 (default: the embedded mock's first)")
	flag.IntVar(&f.parallelism, "parallelism", 8, "parts at once")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, f, log); err != nil {
		log.Error("users", "err", err)
		stop()
		os.Exit(1)
	}
}

// run runs the command.
func run(ctx context.Context, f flags, log *slog.Logger) error {
	if f.workers < 0 || f.users < 1 || f.parallelism < 1 {
		return errors.New("-workers must be at least 0, -users and -parallelism at least 1")
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	copts := client.Options{HostPort: f.temporal, Namespace: f.namespace, Logger: sdklog.NewStructuredLogger(quiet)}
	if f.temporal == "" {
		log.Info("starting a Temporal dev server in this process")
		ts := temporaltest.NewServer()
		defer ts.Stop()
		copts.HostPort, copts.Namespace = ts.GetFrontendHostPort(), ts.GetDefaultNamespace()
	}
	c, err := client.DialContext(ctx, copts)
	if err != nil {
		return fmt.Errorf("connecting to Temporal at %s: %w", copts.HostPort, err)
	}
	defer c.Close()

	dsn := f.pg
	if dsn == "" {
		log.Info("starting a Postgres server from the PostgreSQL binaries")
		pg, err := pgtest.Start(ctx)
		if err != nil {
			return fmt.Errorf("no -pg given and no Postgres server could be started: %w", err)
		}
		defer func() { _ = pg.Stop() }()
		dsn = pg.DSN
	}
	if f.workerOnly {
		log.Info("worker running", "queue", f.queue, "temporal", copts.HostPort)
		w := newWorker(c, f.queue, dsn, log)
		if err := w.Start(); err != nil {
			return fmt.Errorf("starting the worker: %w", err)
		}
		<-ctx.Done()
		w.Stop()
		return nil
	}
	for range f.workers {
		w := newWorker(c, f.queue, dsn, log)
		if err := w.Start(); err != nil {
			return fmt.Errorf("starting a worker: %w", err)
		}
		defer w.Stop()
	}

	now := time.Now()
	var api *mockapi.Server
	url := f.url
	if url == "" {
		api = mockapi.NewServer(users.MockOptions(f.users, now, users.Span))
		defer api.Close()
		url = api.URL
	}
	cfg := users.Config(url, now, users.Span, 100, f.schema)
	if f.oldest != "" {
		cfg[users.KeyOldest] = f.oldest
	}
	in := temporal.SyncInput{Connector: users.Name, Config: cfg, Parallelism: f.parallelism}
	start := time.Now()
	wr, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: f.queue}, temporal.WorkflowName, in)
	if err != nil {
		return fmt.Errorf("starting the workflow: %w", err)
	}
	log.Info("workflow started", "id", wr.GetID(), "parallelism", f.parallelism, "workers here", f.workers)
	var res temporal.Result
	if err := wr.Get(ctx, &res); err != nil {
		return fmt.Errorf("workflow %s: %w", wr.GetID(), err)
	}
	d := time.Since(start)
	if _, err := res.WriteTo(os.Stdout); err != nil {
		return err
	}
	fmt.Printf("%d records in %v: %.0f records/s\n", res.Total().Records(), d.Round(time.Millisecond), float64(res.Total().Records())/d.Seconds())
	if api == nil {
		return nil
	}
	return check(ctx, dsn, f.schema, len(api.Users()))
}

// newWorker returns a worker of the users connector on queue.
func newWorker(c client.Client, queue, dsn string, log *slog.Logger) worker.Worker {
	w := worker.New(c, queue, worker.Options{})
	cw := &temporal.Worker{Connectors: map[string]temporal.Factory{users.Name: users.Factory(dsn)}, Logger: log.With("worker", queue)}
	if err := cw.Register(w); err != nil {
		panic(err) // a constant registration: cannot fail
	}
	return w
}

// check compares the number of distinct users in the table with the
// source's.
func check(ctx context.Context, dsn, schema string, want int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("checking: %w", err)
	}
	defer conn.Close(ctx)
	var rows, ids int
	q := fmt.Sprintf(`SELECT count(*), count(DISTINCT id) FROM %s."user" WHERE NOT _connector_deleted`, pgx.Identifier{schema}.Sanitize())
	if err := conn.QueryRow(ctx, q).Scan(&rows, &ids); err != nil {
		return fmt.Errorf("checking: %w", err)
	}
	if rows != want || ids != want {
		return fmt.Errorf("checking: the table holds %d rows of %d users, the source %d users", rows, ids, want)
	}
	fmt.Println("table " + strconv.Quote(schema+".user") + ": every user of the source, once")
	return nil
}
