package ops

// Crash abandons d as a killed process would: its files are closed and
// its lock released without flushing its buffers or writing anything, so
// that the directory can be opened again in this process.
func Crash(d *Dir) error {
	d.ckMu.Lock()
	defer d.ckMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.closeFiles(false)
}
