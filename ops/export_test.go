package ops

// Crash abandons d as a killed process would: its files are closed
// without flushing its buffers or writing anything, so that the
// directory can be opened again in this process.
func Crash(d *Dir) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	for _, dt := range d.tables {
		dt.f.Close()
	}
	return nil
}
