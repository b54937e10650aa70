// Command mockapi serves the mockapi REST APIs on a TCP address, for demos,
// end-to-end runs of connectors and trying clients by hand: the users API,
// the GitHub-like issues API and the Stripe-like customers API.
//
//	go run ./mockapi/cmd/mockapi -addr 127.0.0.1:8080 -users 10000 -issues 5000 -customers 2000
//	curl 'http://127.0.0.1:8080/users?limit=2'
//	curl -i 'http://127.0.0.1:8080/repos/acme/widgets/issues?state=all&sort=updated&direction=asc&per_page=2'
//	curl 'http://127.0.0.1:8080/v1/customers?limit=2'
//
// Flags set the population, the page sizes and the faults; run with -h for
// the list. Requests are logged with log/slog. SIGINT or SIGTERM shuts the
// server down, letting requests in flight finish.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/connectkit/connector/mockapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "mockapi:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	addr        string
	logRequests bool
	opts        mockapi.Options
}

// parseFlags parses the command line; usage and flag errors go to out.
func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	o, f := &c.opts, &c.opts.Faults
	fs := flag.NewFlagSet("mockapi", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen `address`")
	fs.BoolVar(&c.logRequests, "log-requests", true, "log every request")
	fs.IntVar(&o.Users, "users", mockapi.DefaultUsers, "number of base users; negative for none")
	fs.Int64Var(&o.Seed, "seed", mockapi.DefaultSeed, "seed of the users and of the random faults")
	fs.Func("start", "RFC 3339 `time` of the first users' updatedAt (default 2024-01-01T00:00:00Z)", func(s string) error {
		t, err := time.Parse(time.RFC3339, s)
		o.Start = t
		return err
	})
	fs.DurationVar(&o.Step, "step", mockapi.DefaultStep, "time between consecutive tie groups")
	fs.IntVar(&o.TiesPerTimestamp, "ties", mockapi.DefaultTiesPerTimestamp, "users sharing each base updatedAt")
	fs.IntVar(&o.DefaultPageSize, "default-page-size", mockapi.DefaultPageSize, "page size when a request has none")
	fs.IntVar(&o.MaxPageSize, "max-page-size", mockapi.DefaultMaxPageSize, "larger page sizes are capped to this")
	fs.BoolVar(&o.RelativeLinks, "relative-links", false, "write relative URLs in the Link headers of /users/link")
	fs.IntVar(&o.Issues, "issues", mockapi.DefaultIssues, "number of base issues of the GitHub-like API; negative for none")
	fs.StringVar(&o.Repo, "repo", mockapi.DefaultRepo, "`owner/repo` of the GitHub-like API")
	fs.IntVar(&o.Customers, "customers", mockapi.DefaultCustomers, "number of base customers of the Stripe-like API; negative for none")
	fs.DurationVar(&f.Latency, "latency", 0, "delay before every response")
	rate(fs, &f.ErrorRate, "error-rate", "share of requests answered 500")
	rate(fs, &f.RateLimitRate, "rate-limit-rate", "share of requests answered 429")
	fs.DurationVar(&f.RetryAfter, "retry-after", mockapi.DefaultRetryAfter, "Retry-After of 429 responses")
	fs.BoolVar(&f.RetryAfterDate, "retry-after-date", false, "send Retry-After as an HTTP-date")
	rate(fs, &f.SecondaryRateLimitRate, "secondary-rate-limit-rate", "share of requests answered 403 with Retry-After (GitHub's secondary rate limit)")
	fs.IntVar(&f.RateLimitQuota, "rate-limit-quota", 0, "requests allowed per -rate-limit-window, announced in X-RateLimit-* headers; 0 for no quota")
	fs.DurationVar(&f.RateLimitWindow, "rate-limit-window", mockapi.DefaultRateLimitWindow, "window of -rate-limit-quota")
	rate(fs, &f.ResetRate, "reset-rate", "share of requests whose connection is reset")
	rate(fs, &f.MalformedRate, "malformed-rate", "share of 200 responses with truncated JSON")
	fs.Func("malformed-requests", "comma-separated request `numbers` (1-based) answered with truncated JSON", func(s string) error {
		for p := range strings.SplitSeq(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 1 {
				return fmt.Errorf("%q is not a request number", p)
			}
			f.MalformedRequests = append(f.MalformedRequests, n)
		}
		return nil
	})
	rate(fs, &f.MissingFieldRate, "missing-field-rate", "share of users served without email and updatedAt")
	fs.BoolVar(&f.RepeatLastPage, "repeat-last-page", false, "serve the last page again past the end")
	fs.BoolVar(&f.SelfLinkLastPage, "self-link-last-page", false, "make the last page's next cursor or link point to itself")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, nil
}

// rate defines a flag for a share in [0, 1].
func rate(fs *flag.FlagSet, p *float64, name, usage string) {
	fs.Func(name, usage+" (0 to 1)", func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 1 {
			return fmt.Errorf("%q is not a number from 0 to 1", s)
		}
		*p = v
		return nil
	})
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	srv := mockapi.NewUnstartedServer(c.opts)
	var h http.Handler = srv.Handler()
	if c.logRequests {
		h = logRequests(logger, h)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("serving", "addr", ln.Addr().String(), "users", srv.Len(),
		"issues", srv.GitHub().Len(), "issues_path", srv.GitHub().Path(),
		"customers", srv.Stripe().Len(), "customers_path", mockapi.PathCustomers,
		"seed", c.opts.Seed, "clock", srv.Now())
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "requests", srv.Requests())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// logRequests logs each request when its handler returns. A reset
// connection logs status 0.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("uri", r.URL.RequestURI()),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(begin)))
	})
}

// statusWriter records the status of a response. Unwrap lets
// http.ResponseController reach the connection, for the reset fault.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
