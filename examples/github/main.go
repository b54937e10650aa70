// Command github syncs a GitHub repository's issues, and their labels as a
// child table, into a SQLite database: declared with rest.Endpoint (page
// numbers and Link headers, since=), incremental on (updated_at, id) with
// numeric ids, priority-first (the recent issues land first, history
// after), and with labels removed at the source marked deleted.
//
// By default it starts an embedded GitHub-like mock, syncs, changes some
// issues (labels added and removed, issues closed, new issues), syncs
// again, prints both summaries and checks the database against the mock:
//
//	go run ./examples/github
//	go run ./examples/github -db issues.db
//	sqlite3 issues.db 'select name, count(*) from issue_label where _connector_deleted = 0 group by 1'
//
// Against the real API, with a token in GITHUB_TOKEN:
//
//	go run ./examples/github -url https://api.github.com -repo golang/go -db go.db
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops/sqldest"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/schema"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "github:", err)
		os.Exit(1)
	}
}

// config holds the command line.
type config struct {
	issues, pageSize, changes int
	recent, progress          time.Duration
	db, url, repo             string
	seed                      int64
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("github", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.issues, "issues", 2000, "issues in the embedded mock")
	fs.IntVar(&c.pageSize, "page-size", 100, "issues per page (GitHub allows up to 100)")
	fs.IntVar(&c.changes, "changes", 40, "changes the embedded mock makes between the two syncs")
	fs.DurationVar(&c.recent, "recent", 5*time.Minute, "priority-first: the recent window synced first")
	fs.DurationVar(&c.progress, "progress", time.Second, "interval between progress logs (negative: none)")
	fs.StringVar(&c.db, "db", "", "SQLite database; default a temporary file")
	fs.StringVar(&c.url, "url", "", "base URL of the API, such as https://api.github.com (token in GITHUB_TOKEN); default an embedded mock")
	fs.StringVar(&c.repo, "repo", mockapi.DefaultRepo, "repository, owner/name")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the embedded mock")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.pageSize < 1 || c.pageSize > 100:
		return c, fmt.Errorf("-page-size %d: want 1 to 100", c.pageSize)
	case c.issues < 0 || c.changes < 0:
		return c, errors.New("-issues and -changes must not be negative")
	case c.recent <= 0:
		return c, errors.New("-recent must be positive")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	opts := connector.Options{Logger: logger, Progress: cfg.progress}

	api := &API{Client: &rest.Client{Logger: logger}, BaseURL: cfg.url, Repo: cfg.repo, PageSize: cfg.pageSize, Recent: cfg.recent}
	var mock *mockapi.Server
	if cfg.url == "" {
		mock = mockapi.NewServer(mockapi.Options{Issues: cfg.issues, Repo: cfg.repo, Seed: cfg.seed})
		defer mock.Close()
		api.BaseURL = mock.URL
		opts.Now = mock.Now // the recent window is the mock's recent past
	} else if token := os.Getenv("GITHUB_TOKEN"); token != "" {
		api.Client.Auth = rest.Bearer(token)
	}
	c, err := api.Connector()
	if err != nil {
		return err
	}

	path := cfg.db
	if path == "" {
		dir, err := os.MkdirTemp("", "github-example-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "issues.db")
	}
	db, err := sqldest.Open(ctx, path, sqldest.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer db.Close()

	fmt.Fprintf(stdout, "Initial sync of %s from %s into %s: recent issues first, then history\n", cfg.repo, api.BaseURL, path)
	sum, err := c.Run(ctx, db, opts)
	if sum != nil {
		fmt.Fprint(stdout, sum)
	}
	if err != nil {
		return err
	}
	if mock == nil {
		return nil
	}
	fmt.Fprintf(stdout, "\n%s\n", change(mock, cfg.changes, cfg.seed))
	fmt.Fprintln(stdout, "\nIncremental sync: only the issues updated since the last checkpoint")
	sum, err = c.Run(ctx, db, opts)
	if sum != nil {
		fmt.Fprint(stdout, sum)
	}
	if err != nil {
		return err
	}
	return verify(ctx, stdout, mock, db)
}

// change edits issues in the mock: labels added and removed, issues
// closed and updated, new issues.
func change(mock *mockapi.Server, n int, seed int64) string {
	g := mock.GitHub()
	rnd := rand.New(rand.NewPCG(uint64(seed), 7))
	names := g.Labels()
	var relabelled, closed, updated, inserted int
	for i := range n {
		if g.Len() == 0 {
			break
		}
		is := g.IssueAt(rnd.IntN(g.Len()))
		switch i % 5 {
		case 0:
			if len(is.Labels) > 0 {
				g.RemoveLabels(is.Number, is.Labels[0].Name)
				relabelled++
			}
		case 1:
			g.AddLabels(is.Number, names[rnd.IntN(len(names))].Name)
			relabelled++
		case 2:
			g.Close(is.Number)
			closed++
		case 3:
			g.Update(is.Number)
			updated++
		case 4:
			g.Insert()
			inserted++
		}
	}
	mock.Advance(time.Second)
	return fmt.Sprintf("Changed the source: %d issues relabelled, %d closed, %d updated, %d opened", relabelled, closed, updated, inserted)
}

// expected returns the rows the tables should hold for the mock's issues.
func expected(mock *mockapi.Server) (wantIssues, wantLabels map[string]schema.Row, err error) {
	wantIssues, wantLabels = map[string]schema.Row{}, map[string]schema.Row{}
	ic, lc := issues.Compiled(), labels.Compiled()
	for _, mi := range mock.GitHub().Issues() {
		// The API's JSON, as this program decodes it.
		b, err := json.Marshal(mi)
		if err != nil {
			return nil, nil, err
		}
		var is Issue
		if err := json.Unmarshal(b, &is); err != nil {
			return nil, nil, err
		}
		if checkIssue(is) != nil {
			continue
		}
		vals, err := ic.Normalize(issues.Row(&is))
		if err != nil {
			return nil, nil, err
		}
		wantIssues[ic.KeyOf(vals)] = ic.Map(vals, nil)
		for _, l := range is.Labels {
			l.IssueID = is.ID
			vals, err := lc.Normalize(labels.Row(&l))
			if err != nil {
				return nil, nil, err
			}
			wantLabels[lc.KeyOf(vals)] = lc.Map(vals, nil)
		}
	}
	return wantIssues, wantLabels, nil
}

// verify compares the live rows of both tables with the mock.
func verify(ctx context.Context, stdout io.Writer, mock *mockapi.Server, db *sqldest.DB) error {
	wantIssues, wantLabels, err := expected(mock)
	if err != nil {
		return err
	}
	for table, want := range map[string]map[string]schema.Row{"issue": wantIssues, "issue_label": wantLabels} {
		got, err := db.Live(ctx, table)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			return fmt.Errorf("table %s differs from the source (-source +destination):\n%s", table, diff)
		}
	}
	fmt.Fprintf(stdout, "\nThe database matches the source: %d issues, %d labels on them.\n", len(wantIssues), len(wantLabels))
	return nil
}
