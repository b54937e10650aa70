package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectkit/connector/mockapi"
)

// tinyDisk mounts a tmpfs of size at a new directory and returns it and a
// function that resizes it; it skips the test where mounting is not
// allowed (not root, or no mount command).
func tinyDisk(t *testing.T, size string) (dir string, resize func(size string)) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the disk-full test mounts a small tmpfs, which needs root; run it as root to enable it")
	}
	dir = t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the disk-full test needs a machine that allows it", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir, func(size string) {
		if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
			t.Fatalf("resizing the tmpfs: %v: %s", err, out)
		}
	}
}

// TestDiskFull syncs into a destination on a disk that fills up mid-sync:
// the sync fails with an error saying so, what was checkpointed stays
// readable, and once the disk has room the next sync completes the table.
func TestDiskFull(t *testing.T) {
	for _, kind := range []string{"dir", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			disk, resize := tinyDisk(t, "512k")
			mock := mockapi.NewServer(mockapi.Options{Users: 8000, Seed: 3})
			defer mock.Close()
			loc := filepath.Join(disk, "dest")
			args := []string{"-url", mock.URL, "-progress=-1s", "-page-size", "200"}
			if kind == "dir" {
				args = append(args, "-out", loc)
			} else {
				args = append(args, "-db", loc)
			}
			var out bytes.Buffer
			err := run(context.Background(), args, &out, &out)
			if err == nil {
				t.Fatalf("a sync of 8000 users into 512 KiB succeeded:\n%s", out.String())
			}
			if !strings.Contains(err.Error(), "no space left") && !strings.Contains(strings.ToLower(err.Error()), "full") {
				t.Errorf("the sync's error = %v, want one saying the disk is full", err)
			}
			resize("64m")
			out.Reset()
			if err := run(context.Background(), args, &out, &out); err != nil {
				t.Fatalf("the sync after the disk was enlarged: %v\n%s", err, out.String())
			}
			live := readUsers(t, kind, loc)
			if l, stale, diff := diffRows(mock, live); l+stale > 0 {
				t.Errorf("after the disk filled and the sync resumed: %d rows lost or wrong, %d stale\n%s", l, stale, diff)
			}
		})
	}
}
