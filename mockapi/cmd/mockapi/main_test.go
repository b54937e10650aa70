package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/connectkit/connector/mockapi"
)

func TestParseFlags(t *testing.T) {
	defaults := mockapi.Options{
		Users:            mockapi.DefaultUsers,
		Seed:             mockapi.DefaultSeed,
		Step:             mockapi.DefaultStep,
		TiesPerTimestamp: mockapi.DefaultTiesPerTimestamp,
		DefaultPageSize:  mockapi.DefaultPageSize,
		MaxPageSize:      mockapi.DefaultMaxPageSize,
		Issues:           mockapi.DefaultIssues,
		Repo:             mockapi.DefaultRepo,
		Customers:        mockapi.DefaultCustomers,
		Faults:           mockapi.Faults{RetryAfter: mockapi.DefaultRetryAfter, RateLimitWindow: mockapi.DefaultRateLimitWindow},
	}
	tests := []struct {
		name string
		args []string
		want config
	}{
		{"defaults", nil, config{addr: "127.0.0.1:8080", logRequests: true, opts: defaults}},
		{
			"everything",
			[]string{
				"-addr", ":9999", "-log-requests=false", "-users", "10000", "-seed", "7",
				"-start", "2025-02-03T04:05:06Z", "-step", "1m", "-ties", "5",
				"-default-page-size", "50", "-max-page-size", "500", "-relative-links",
				"-latency", "20ms", "-error-rate", "0.1", "-rate-limit-rate", "0.2",
				"-retry-after", "3s", "-retry-after-date", "-reset-rate", "0.05",
				"-malformed-rate", "0.01", "-malformed-requests", "3, 5", "-missing-field-rate", "0.5",
				"-repeat-last-page", "-self-link-last-page",
				"-issues", "300", "-repo", "octo/cat", "-customers", "-1",
				"-secondary-rate-limit-rate", "0.3", "-rate-limit-quota", "5000", "-rate-limit-window", "1h",
			},
			config{addr: ":9999", opts: mockapi.Options{
				Users: 10000, Seed: 7, Start: time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC),
				Step: time.Minute, TiesPerTimestamp: 5, DefaultPageSize: 50, MaxPageSize: 500, RelativeLinks: true,
				Issues: 300, Repo: "octo/cat", Customers: -1,
				Faults: mockapi.Faults{
					SecondaryRateLimitRate: 0.3, RateLimitQuota: 5000, RateLimitWindow: time.Hour,
					Latency: 20 * time.Millisecond, ErrorRate: 0.1, RateLimitRate: 0.2,
					RetryAfter: 3 * time.Second, RetryAfterDate: true, ResetRate: 0.05,
					MalformedRate: 0.01, MalformedRequests: []int{3, 5}, MissingFieldRate: 0.5,
					RepeatLastPage: true, SelfLinkLastPage: true,
				},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
			if err != nil {
				t.Fatalf("parseFlags(%q) error: %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("parseFlags(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-users", "many"},
		{"-error-rate", "1.5"},
		{"-reset-rate", "-0.1"},
		{"-latency", "soon"},
		{"-start", "2024-01-01"},
		{"-malformed-requests", "1,x"},
		{"-malformed-requests", "0"},
		{"-secondary-rate-limit-rate", "2"},
		{"-issues", "x"},
		{"-rate-limit-window", "soon"},
		{"extra"},
		{"-nope"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) = _, nil, want an error", args)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseFlags(-h) error = %v, want flag.ErrHelp", err)
	}
}

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs, logw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-users", "25", "-issues", "12", "-repo", "octo/cat", "-customers", "7"}, logw)
		logw.Close()
	}()

	addrs := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		re := regexp.MustCompile(`msg=serving addr=(\S+)`)
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrs <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run returned before serving: %v", err)
	}

	resp, err := http.Get("http://" + addr + "/users?limit=10")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	var page mockapi.OffsetResponse
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || page.Total != 25 || len(page.Data) != 10 {
		t.Errorf("GET /users?limit=10 = %d, %d of %d users, %v; want 200, 10 of 25", resp.StatusCode, len(page.Data), page.Total, err)
	}
	resp, err = http.Get("http://" + addr + "/repos/octo/cat/issues?state=all&sort=updated&per_page=100")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	var issues []mockapi.Issue
	err = json.NewDecoder(resp.Body).Decode(&issues)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(issues) != 12 {
		t.Errorf("GET issues = %d, %d issues, %v; want 200, 12", resp.StatusCode, len(issues), err)
	}
	resp, err = http.Get("http://" + addr + "/v1/customers?limit=100")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	var customers mockapi.CustomerList
	err = json.NewDecoder(resp.Body).Decode(&customers)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(customers.Data) != 7 || customers.HasMore {
		t.Errorf("GET customers = %d, %d customers, has_more %v, %v; want 200, 7, false", resp.StatusCode, len(customers.Data), customers.HasMore, err)
	}
	http.DefaultClient.CloseIdleConnections()

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel = %v, want nil", err)
	}
	<-drained
}

func TestRunListenError(t *testing.T) {
	if err := run(context.Background(), []string{"-addr", "256.0.0.1:http"}, io.Discard); err == nil {
		t.Errorf("run with a bad address = nil, want an error")
	}
}
