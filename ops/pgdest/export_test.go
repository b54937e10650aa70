package pgdest

// SetTestHook sets a function run before each step of a transaction
// ("connect", "begin", "copy", "upsert", "update", "update missing",
// "delete", "delete children", "state", "commit"); an error it returns
// fails the step.
func SetTestHook(d *DB, f func(step string) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.testHook = f
}

// SetTestAfter sets a function run after a step succeeded ("commit");
// an error it returns is taken for the step's, as when the answer of a
// COMMIT that went through is lost.
func SetTestAfter(d *DB, f func(step string) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.testAfter = f
}

// Crash abandons d as a killed process would: its connection is cut
// without a word to the server, which rolls back its transaction and
// releases its lock; nothing is flushed or committed.
func Crash(d *DB) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.conn != nil {
		err := d.conn.PgConn().Conn().Close()
		d.conn = nil
		return err
	}
	return nil
}

// PID returns the server process of d's connection, 0 if none.
func PID(d *DB) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return 0
	}
	return d.conn.PgConn().PID()
}

// Tune switches off the COPY of full new rows straight into a keyed
// table, for the benchmark that measures it.
func Tune(d *DB, noDirect bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.noDirect = noDirect
}
