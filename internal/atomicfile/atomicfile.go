// Package atomicfile replaces a file's content so that a reader, or the
// file system after a crash, sees either the old content or the new one,
// never a mix or a truncated file.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// WriteFile replaces the file at path with data. It writes a temporary
// file in the same directory, fsyncs and closes it, renames it over path
// and fsyncs the directory so that the rename itself is durable. The new
// file gets exactly permission perm (the umask does not apply). On
// failure the temporary file is removed and path keeps its old content;
// only a failure of the final directory fsync leaves the new content in
// place, with an error saying so. A process killed before the rename
// leaves the temporary file, named "."+base+".tmp-" and a suffix, which
// [RemoveTemp] removes.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("creating temporary file: %w", err)
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("setting mode of %s: %w", name, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", name, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", name, err)
	}
	if err = os.Rename(name, path); err != nil {
		return fmt.Errorf("renaming %s: %w", name, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("file replaced but not yet durable: %w", err)
	}
	return nil
}

// tempPrefix is the start of the names of the temporary files of
// WriteFile for the file base.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// RemoveTemp removes the temporary files that [WriteFile] leaves beside
// the file base in dir when its process is killed between creating one
// and renaming it, and returns their names. Call it only while no
// WriteFile of that file can be running, for example under a lock of the
// directory.
func RemoveTemp(dir, base string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, de := range des {
		if name := de.Name(); strings.HasPrefix(name, tempPrefix(base)) && de.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return removed, err
			}
			removed = append(removed, name)
		}
	}
	return removed, nil
}

// SyncDir fsyncs the directory dir, making the creation, removal or
// renaming of its entries durable. On Windows, which cannot sync a
// directory (NTFS makes renames durable itself), and on file systems
// whose directory fsync fails with EINVAL or as unsupported, it does
// nothing, as there is nothing more a program can do there.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !ignorableSyncError(err) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// ignorableSyncError reports whether err means that the platform cannot
// sync a directory at all, rather than that syncing failed.
func ignorableSyncError(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EINVAL)
}
