package sqldest

import (
	"context"
	"errors"
)

// SetTestHook sets a function run before each statement of a write
// transaction (what is "begin", "upsert", "update", "delete",
// "delete children", "truncate", "state" or "commit"); an error it
// returns fails the statement.
func SetTestHook(d *DB, f func(what string) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.testHook = f
}

// ExecWriter runs query on the DB's writer connection, for settings of
// that connection such as SQLite's max_page_count.
func ExecWriter(d *DB, query string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return errors.New("no writer connection")
	}
	_, err := d.conn.ExecContext(context.Background(), query)
	return err
}

// Crash abandons d as a killed process would: its buffered upserts are
// dropped and its connections closed without a commit, so that the file
// can be opened again in this process.
func Crash(d *DB) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	d.dropPending()
	d.discard()
	var err error
	if d.owned {
		err = d.db.Close()
	}
	return errors.Join(err, d.lock.Unlock()) // as the death of the process does
}

// SetMaxUnkeyed sets the limit of MaxUnkeyedRows until the test ends.
func SetMaxUnkeyed(t interface{ Cleanup(func()) }, n int) {
	old := maxUnkeyed
	maxUnkeyed = n
	t.Cleanup(func() { maxUnkeyed = old })
}
