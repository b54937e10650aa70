// Command stripe syncs the customers of a Stripe-like API into a directory
// of JSON Lines files: the endpoint declared with rest.Endpoint
// (starting_after the last id, has_more), listed newest first, synced
// incrementally with a mark that moves only when a pass completes, so that
// a sync interrupted in the middle of a pass resumes where it stopped and
// loses nothing below it.
//
// By default it starts an embedded Stripe-like mock, starts a sync and
// interrupts it after a few pages, resumes it, changes some customers
// (updates, new customers, deletions), syncs again, prints the summaries
// and checks the directory against the mock:
//
//	go run ./examples/stripe
//	go run ./examples/stripe -out customers/
//	jq -c 'select(.op == "delete")' customers/customer.jsonl
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
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/rest"
	"github.com/connectkit/connector/schema"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stripe:", err)
		os.Exit(1)
	}
}

// config holds the command line.
type config struct {
	customers, interrupt, changes int
	progress                      time.Duration
	out                           string
	seed                          int64
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("stripe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.customers, "customers", 3000, "customers in the embedded mock")
	fs.IntVar(&c.interrupt, "interrupt", 5, "interrupt the first sync after this many pages (0: do not)")
	fs.IntVar(&c.changes, "changes", 40, "changes the mock makes before the last sync")
	fs.DurationVar(&c.progress, "progress", time.Second, "interval between progress logs (negative: none)")
	fs.StringVar(&c.out, "out", "", "destination directory; default a temporary one")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the embedded mock")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.customers < 0 || c.interrupt < 0 || c.changes < 0 {
		return c, errors.New("-customers, -interrupt and -changes must not be negative")
	}
	return c, nil
}

// pageCounter cancels a context once it has carried n requests.
type pageCounter struct {
	base   http.RoundTripper
	n      atomic.Int64
	limit  int64
	cancel context.CancelFunc
}

func (p *pageCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.limit > 0 && p.n.Add(1) > p.limit {
		p.cancel()
	}
	return p.base.RoundTrip(r)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	mock := mockapi.NewServer(mockapi.Options{Customers: cfg.customers, Seed: cfg.seed})
	defer mock.Close()

	dir := cfg.out
	if dir == "" {
		tmp, err := os.MkdirTemp("", "stripe-example-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	opts := connector.Options{Logger: logger, Progress: cfg.progress}
	sync := func(ctx context.Context, title string, client *rest.Client) error {
		c, err := Connector(client, mock.URL)
		if err != nil {
			return err
		}
		d, err := ops.OpenDir(dir, ops.DirOptions{Logger: logger})
		if err != nil {
			return err
		}
		defer d.Close()
		fmt.Fprintf(stdout, "\n%s\n", title)
		sum, err := c.Run(ctx, d, opts)
		if sum != nil {
			fmt.Fprint(stdout, sum)
		}
		return err
	}

	if cfg.interrupt > 0 {
		ictx, cancel := context.WithCancel(ctx)
		client := &rest.Client{Logger: logger, HTTP: &http.Client{Transport: &pageCounter{base: http.DefaultTransport, limit: int64(cfg.interrupt), cancel: cancel}}}
		err := sync(ictx, fmt.Sprintf("First sync, newest first, interrupted after %d pages", cfg.interrupt), client)
		cancel()
		if err == nil {
			fmt.Fprintln(stdout, "(the sync ended before the interruption)")
		} else if !errors.Is(err, context.Canceled) {
			return err
		} else {
			snap, err := ops.ReadDir(dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Interrupted: the state keeps the pass in progress: %+v\n", *snap.State.Tables["customer"].Pass)
		}
	}
	client := &rest.Client{Logger: logger}
	if err := sync(ctx, "Resumed sync: the pass continues below where it stopped", client); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\n", change(mock, cfg.changes, cfg.seed))
	if err := sync(ctx, "Incremental sync: down to the mark of the last complete pass", client); err != nil {
		return err
	}
	return verify(stdout, mock, dir)
}

// change updates, inserts and deletes customers in the mock.
func change(mock *mockapi.Server, n int, seed int64) string {
	st := mock.Stripe()
	rnd := rand.New(rand.NewPCG(uint64(seed), 11))
	var updated, inserted, deleted int
	for i := range n {
		if st.Len() == 0 {
			st.Insert()
			inserted++
			continue
		}
		id := st.CustomerAt(rnd.IntN(st.Len())).ID
		switch i % 5 {
		case 3:
			st.Insert()
			inserted++
		case 4:
			if st.Delete(id) {
				deleted++
			}
		default:
			if _, ok := st.Update(id); ok {
				updated++
			}
		}
	}
	mock.Advance(time.Second)
	return fmt.Sprintf("Changed the source: %d customers updated, %d created, %d deleted", updated, inserted, deleted)
}

// expected returns the rows the customer table should hold.
func expected(mock *mockapi.Server) (map[string]schema.Row, error) {
	c := customers.Compiled()
	want := map[string]schema.Row{}
	for _, mc := range mock.Stripe().Customers() {
		b, err := json.Marshal(mc) // the API's JSON, as this program decodes it
		if err != nil {
			return nil, err
		}
		var cu Customer
		if err := json.Unmarshal(b, &cu); err != nil {
			return nil, err
		}
		vals, err := c.Normalize(customers.Row(&cu))
		if err != nil {
			return nil, err
		}
		want[c.KeyOf(vals)] = c.Map(vals, nil)
	}
	return want, nil
}

// verify compares the live rows of the directory with the mock.
func verify(stdout io.Writer, mock *mockapi.Server, dir string) error {
	want, err := expected(mock)
	if err != nil {
		return err
	}
	snap, err := ops.ReadDir(dir)
	if err != nil {
		return err
	}
	if diff := cmp.Diff(want, snap.Live("customer")); diff != "" {
		return fmt.Errorf("the directory differs from the source (-source +destination):\n%s", diff)
	}
	fmt.Fprintf(stdout, "\nThe directory matches the source: %d live customers.\n", len(want))
	return nil
}
