package pgdest

import (
	"bytes"
	"io"
	"sync"
)

// encoding is the binary COPY data of a record being encoded by a
// goroutine of its own, so that the COPY sends the rows encoded so far
// while the next ones are encoded, as pgx's CopyFrom does: the server
// ingests while the client encodes, instead of in turn. The goroutine
// never waits for its reader, so it always ends, soon; settle waits for
// it.
type encoding struct {
	mu   sync.Mutex
	cond sync.Cond
	buf  []byte // the data published so far; the encoder appends past it
	done bool
	err  error
}

// encodeAsync starts encoding the rows of the segment s, of full rows
// only (see table.encodeFull), into r, which holds them when r.settle
// returns. The segment must not change after.
func (t *table) encodeAsync(s *segment, r *record) *record {
	e := &encoding{}
	e.cond.L = &e.mu
	r.enc = e
	r.stmts = []stmt{{step: "upsert", sql: t.full, count: countQuery}}
	go func() {
		b, err := t.encodeFull(s, func(b []byte) {
			e.mu.Lock()
			e.buf = b
			e.mu.Unlock()
			e.cond.Broadcast()
		})
		e.mu.Lock()
		e.buf, e.err, e.done = b, err, true
		e.mu.Unlock()
		e.cond.Broadcast()
	}()
	return r
}

// reader returns a reader of the COPY data of r, which streams it while
// it is encoded.
func (r *record) reader() io.Reader {
	if r.enc != nil {
		return &encodingReader{e: r.enc}
	}
	return bytes.NewReader(r.data)
}

// settle waits for the encoding of r, if any, and returns its error: a
// value Postgres cannot hold.
func (r *record) settle() error {
	e := r.enc
	if e == nil {
		return r.encErr
	}
	e.mu.Lock()
	for !e.done {
		e.cond.Wait()
	}
	r.data, r.encErr = e.buf, e.err
	e.mu.Unlock()
	r.enc = nil
	return r.encErr
}

// encodingReader reads an encoding as it grows.
type encodingReader struct {
	e   *encoding
	off int
}

func (er *encodingReader) Read(p []byte) (int, error) {
	e := er.e
	e.mu.Lock()
	defer e.mu.Unlock()
	for er.off >= len(e.buf) && !e.done {
		e.cond.Wait()
	}
	if e.err != nil {
		return 0, e.err
	}
	if er.off >= len(e.buf) {
		return 0, io.EOF
	}
	n := copy(p, e.buf[er.off:])
	er.off += n
	return n, nil
}
