package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/connectkit/connector"
	"github.com/connectkit/connector/mockapi"
	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/rest"
)

func runMain(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"-progress=-1s"}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("run(%q) = %v\n%s\n%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func TestDefaultRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	out := runMain(t, "-customers", "700", "-out", filepath.Join(t.TempDir(), "out"))
	for _, want := range []string{"Interrupted: the state keeps the pass in progress", "The directory matches the source: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestInterruptedAtEveryPage interrupts the first sync after each of its
// pages (700 customers: 7 pages of 100), then resumes, changes the
// source and syncs again: run checks the directory against the mock.
func TestInterruptedAtEveryPage(t *testing.T) {
	for pages := 1; pages <= 8; pages++ {
		t.Run(fmt.Sprint(pages, " pages"), func(t *testing.T) {
			runMain(t, "-customers", "700", "-interrupt", fmt.Sprint(pages), "-changes", "30", "-seed", fmt.Sprint(pages),
				"-out", filepath.Join(t.TempDir(), "out"))
		})
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-customers", "-1"}, {"-interrupt", "-2"}, {"-nope"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

// crashing is a directory destination that dies at its n-th Write, as a
// killed process: the directory is abandoned (nothing buffered is flushed,
// nothing more is written) and every later call fails.
type crashing struct {
	*ops.Dir
	n, at int
}

func (c *crashing) Write(ctx context.Context, batch []ops.Op) error {
	if c.n++; c.n == c.at {
		c.Dir.Abandon()
		return errors.New("crashed")
	}
	return c.Dir.Write(ctx, batch)
}

// TestCrashAtEveryPage kills the sync at each of its pages, before and
// after changes at the source, and resumes it from what the directory
// holds: the directory ends equal to the mock.
func TestCrashAtEveryPage(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	for at := 1; at <= 7; at++ { // 700 customers: 7 pages of 100
		t.Run(fmt.Sprint("page ", at), func(t *testing.T) {
			mock := mockapi.NewServer(mockapi.Options{Customers: 700, Seed: int64(at)})
			defer mock.Close()
			dir := filepath.Join(t.TempDir(), "out")
			c, err := Connector(&rest.Client{Logger: quiet}, mock.URL)
			if err != nil {
				t.Fatal(err)
			}
			o := connector.Options{Logger: quiet, Progress: -1, Checkpoint: connector.CheckpointPolicy{EveryRecords: 1}}
			sync := func(crashAt int) error {
				d, err := ops.OpenDir(dir, ops.DirOptions{Logger: quiet})
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				_, err = c.Run(context.Background(), &crashing{Dir: d, at: crashAt}, o)
				return err
			}
			if err := sync(at); err == nil {
				t.Fatalf("a sync crashing at page %d succeeded", at)
			}
			if err := sync(0); err != nil {
				t.Fatalf("resumed sync: %v", err)
			}
			change(mock, 30, int64(at))
			if err := sync(1); err == nil {
				t.Fatal("the sync after changes crashing at its first page succeeded")
			}
			if err := sync(0); err != nil {
				t.Fatalf("sync after changes: %v", err)
			}
			if err := verify(io.Discard, mock, dir); err != nil {
				t.Error(err)
			}
		})
	}
}
