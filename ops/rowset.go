package ops

import (
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/connectkit/connector/schema"
)

// rowSet is the current content of one table, as a destination holds it:
// rows by schema.Compiled.KeyOf, each stored in a compact binary form of
// its values (see appendStored) with its SyncedColumn and DeletedColumn.
// It implements the semantics of the operations once, for Memory and for
// the replay of a Dir, so that the two agree.
//
// The keys and values live in an arena of large byte chunks, and the rows
// are found through an open-addressing table of a hash of the key
// (rowIndex), so that nothing a rowSet keeps per row holds a pointer: a
// table of millions of rows costs the garbage collector a few chunks, and
// an insert neither allocates nor hashes a string into a map of strings.
// The values are decoded again only to read or merge a row. A rowSet is
// not safe for concurrent use.
type rowSet struct {
	table *schema.Compiled
	cols  []schema.Column // the declared columns, by position
	isKey []bool          // by position: whether the column is in the key

	seed  maphash.Seed
	byKey rowIndex // the rows by a 32-bit hash of their key
	rows  rowList
	arena arena
	jbuf  []byte // scratch for compacting a JSON value

	// collide is cleared from every hash, for tests that make distinct
	// keys hash alike; 0 but in tests.
	collide uint32

	// children indexes the keys of the rows by the text of their first k
	// key columns (schema.Compiled.KeyPrefix), for each k a delete of
	// children used, so that replacing the children of one parent does
	// not scan the table.
	children map[int]map[string]map[string]struct{}
}

// storedRow is a row of a rowSet.
type storedRow struct {
	ref     span   // the key, then the values of every column (see appendStored)
	keyLen  uint32 // the length of the key at the start of ref
	synced  int64  // SyncedColumn, in Unix nanoseconds
	deleted bool   // DeletedColumn
}

func newRowSet(table *schema.Compiled) *rowSet {
	s := &rowSet{seed: maphash.MakeSeed()}
	s.setTable(table)
	return s
}

// setTable sets the declaration the rows are encoded by.
func (s *rowSet) setTable(table *schema.Compiled) {
	t := table.Table()
	s.isKey = make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		s.isKey[i] = slices.Contains(t.PrimaryKey, c.Name)
	}
	s.table, s.cols = table, t.Columns
}

// declare sets the table's declaration, which may add columns to the one
// the rows were stored under (see compatible): stored rows get NULL in the
// added columns. The rows are re-encoded only when the columns changed.
func (s *rowSet) declare(table *schema.Compiled) error {
	old := s.table
	s.setTable(table)
	if s.rows.len() == 0 || slices.Equal(old.Table().Columns, s.cols) {
		return nil
	}
	// A stored row is decoded by position under the old declaration;
	// encode it again under the new one, the added columns NULL.
	for i := range s.rows.len() {
		vals, err := s.decodeWith(old, s.values(i))
		if err != nil {
			return err
		}
		row := s.table.Map(nil, nil)
		maps.Copy(row, old.Map(vals, nil))
		op, err := OpUpsert.Normalize(s.table, row)
		if err != nil {
			return err
		}
		if err := s.store(i, s.key(i), op.Row); err != nil {
			return err
		}
	}
	return nil
}

// check reports an operation whose row does not have one value per
// column, which no normalized operation has.
func (s *rowSet) check(op *Op) error {
	if op.Kind == OpTruncate || len(op.Row) == len(s.cols) {
		return nil
	}
	return fmt.Errorf("ops: %v in table %q: %d values for %d columns", op.Kind, op.Table, len(op.Row), len(s.cols))
}

// key returns the key of row i.
func (s *rowSet) key(i int) string {
	r := s.rows.at(i)
	return string(s.arena.bytes(r.ref)[:r.keyLen])
}

// values returns the stored values of row i.
func (s *rowSet) values(i int) []byte {
	r := s.rows.at(i)
	return s.arena.bytes(r.ref)[r.keyLen:]
}

// find returns the row with key.
func (s *rowSet) find(key string) (int, bool) {
	if s.byKey.n == 0 {
		return 0, false
	}
	i, ok, _ := s.lookup(s.hash(key), key)
	return i, ok
}

// hash returns the hash of key in the index: 32 bits, which make its
// slots half the size of ones with a 64-bit hash. Keys whose hashes are
// equal (a table of a million rows has about a hundred pairs) cost a
// comparison of keys more, not a mistake.
func (s *rowSet) hash(key string) uint32 {
	return uint32(maphash.String(s.seed, key)) &^ s.collide
}

// lookup returns the row with key, whose hash is h, or else the empty
// slot of the index where it goes. The index must have an empty slot
// (see rowIndex.reserve).
func (s *rowSet) lookup(h uint32, key string) (i int, ok bool, slot int) {
	slots := s.byKey.slots
	mask := len(slots) - 1
	for j := s.byKey.start(h); ; j = (j + 1) & mask {
		e := slots[j]
		if e == 0 {
			return 0, false, j
		}
		if uint32(e>>32) != h {
			continue
		}
		i := int(uint32(e)) - 1
		if r := s.rows.at(i); string(s.arena.bytes(r.ref)[:r.keyLen]) == key {
			return i, true, j
		}
	}
}

// store encodes key and vals, a full row, into the arena as row i, which
// keeps its other fields. The row is encoded in place, in the free end
// of the arena's last chunk.
func (s *rowSet) store(i int, key string, vals []any) error {
	b := append(s.arena.tail(), key...)
	b, jbuf, err := appendStored(b, s.jbuf, s.cols, vals)
	s.jbuf = jbuf
	if err != nil {
		return err
	}
	if len(b) > math.MaxUint32 {
		return fmt.Errorf("a row of %d bytes is too large", len(b))
	}
	r := s.rows.at(i)
	if r.ref.n > 0 {
		s.arena.free(r.ref)
	}
	r.ref, r.keyLen = s.arena.commit(b), uint32(len(key))
	return nil
}

// decode returns the values of a stored row.
func (s *rowSet) decode(data []byte) ([]any, error) { return s.decodeWith(s.table, data) }

func (s *rowSet) decodeWith(t *schema.Compiled, data []byte) ([]any, error) {
	vals, err := decodeStored(data, len(t.Table().Columns))
	if err != nil {
		return nil, fmt.Errorf("ops: a stored row of table %q does not decode: %w", t.Name(), err)
	}
	return vals, nil
}

// apply applies op, checked by check, at time at. It fails only for a
// value that JSON cannot carry (a time outside the years 0 to 9999).
func (s *rowSet) apply(op *Op, at time.Time) error {
	ns := at.UnixNano()
	switch op.Kind {
	case OpUpsert:
		return s.put(op.Row, ns)
	case OpUpdate:
		i, ok := s.find(s.table.KeyOf(op.Row))
		if !ok || s.rows.at(i).deleted || op.Set == nil {
			// A missing or deleted row becomes the given columns: the
			// values of a deleted row are history, not the current row.
			return s.put(op.Row, ns)
		}
		vals, err := s.decode(s.values(i))
		if err != nil {
			return err
		}
		for c := range s.cols {
			if op.Set.Has(c) {
				vals[c] = op.Row[c]
			}
		}
		return s.put(vals, ns)
	case OpDelete:
		if i, ok := s.find(s.table.KeyOf(op.Row)); ok {
			s.markDeleted(i, ns)
		}
	case OpTruncate:
		for i := range s.rows.len() {
			s.markDeleted(i, ns)
		}
	case OpDeleteChildren:
		k := op.Set.Len()
		idx, err := s.index(k)
		if err != nil {
			return err
		}
		for key := range idx[s.table.KeyPrefix(op.Row, k)] {
			if i, ok := s.find(key); ok {
				s.markDeleted(i, ns)
			}
		}
	}
	return nil
}

// markDeleted marks row i deleted at synced, unless it is deleted
// already.
func (s *rowSet) markDeleted(i int, synced int64) {
	if r := s.rows.at(i); !r.deleted {
		r.synced, r.deleted = synced, true
	}
}

// put stores vals, a full row, as live under its key.
func (s *rowSet) put(vals []any, synced int64) error {
	key := s.table.KeyOf(vals)
	h := s.hash(key)
	s.byKey.reserve()
	i, ok, slot := s.lookup(h, key)
	if !ok {
		if s.rows.len() >= math.MaxUint32 {
			return fmt.Errorf("more than %d rows", uint64(math.MaxUint32))
		}
		i = s.rows.push()
	}
	if err := s.store(i, key, vals); err != nil {
		if !ok {
			s.rows.pop()
		}
		return err
	}
	r := s.rows.at(i)
	r.synced, r.deleted = synced, false
	if ok {
		s.compact()
		return nil
	}
	s.byKey.set(slot, h, i)
	for k, idx := range s.children { // nil but for child tables
		p := s.table.KeyPrefix(vals, k)
		if idx[p] == nil {
			idx[p] = make(map[string]struct{})
		}
		idx[p][key] = struct{}{}
	}
	return nil
}

// compact copies the rows into a new arena once most of the old one holds
// replaced rows.
func (s *rowSet) compact() {
	if s.arena.dead < 1<<20 || s.arena.dead < s.arena.live {
		return
	}
	var next arena
	for i := range s.rows.len() {
		r := s.rows.at(i)
		r.ref = next.put(s.arena.bytes(r.ref))
	}
	s.arena = next
}

// index returns the index of the rows by their first k key columns,
// building it on first use.
func (s *rowSet) index(k int) (map[string]map[string]struct{}, error) {
	if idx := s.children[k]; idx != nil {
		return idx, nil
	}
	idx := make(map[string]map[string]struct{})
	for i := range s.rows.len() {
		vals, err := s.decode(s.values(i))
		if err != nil {
			return nil, err
		}
		p := s.table.KeyPrefix(vals, k)
		if idx[p] == nil {
			idx[p] = make(map[string]struct{})
		}
		idx[p][s.key(i)] = struct{}{}
	}
	if s.children == nil {
		s.children = make(map[int]map[string]map[string]struct{})
	}
	s.children[k] = idx
	return idx, nil
}

// sorted returns copies of every row, with the system columns, sorted by
// key.
func (s *rowSet) sorted() []schema.Row {
	order := make([]int, s.rows.len())
	keys := make([]string, s.rows.len())
	for i := range s.rows.len() {
		order[i], keys[i] = i, s.key(i)
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	out := make([]schema.Row, len(order))
	for j, i := range order {
		out[j] = s.copyRow(i, true)
	}
	return out
}

// live returns copies of the rows not marked deleted, without the system
// columns, by key.
func (s *rowSet) live() map[string]schema.Row {
	out := make(map[string]schema.Row)
	for i := range s.rows.len() {
		if !s.rows.at(i).deleted {
			out[s.key(i)] = s.copyRow(i, false)
		}
	}
	return out
}

// copyRow returns row i decoded as a Row holding every declared column,
// NULL (nil) for a column without a value, with the system columns or
// not. A row that no longer decodes, which no operation stores, is a row
// of NULLs.
func (s *rowSet) copyRow(i int, system bool) schema.Row {
	vals, err := s.decode(s.values(i))
	if err != nil {
		vals = make([]any, len(s.cols))
	}
	out := s.table.Map(vals, nil)
	if system {
		r := s.rows.at(i)
		out[SyncedColumn] = time.Unix(0, r.synced).UTC()
		out[DeletedColumn] = r.deleted
	}
	return out
}

// arena holds byte strings in large chunks, which hold no pointers.
type arena struct {
	chunks     [][]byte
	live, dead int // bytes of the spans put and not freed, and freed
}

// span is where an arena holds a byte string.
type span struct{ chunk, off, n uint32 }

// Chunk sizes: the first chunk of an arena, and the largest (a longer
// byte string gets a chunk of its own).
const (
	minChunk = 4 << 10
	maxChunk = 1 << 20
)

// put copies b, at most math.MaxUint32 bytes, into the arena.
func (a *arena) put(b []byte) span {
	n := len(a.chunks)
	if n == 0 || cap(a.chunks[n-1])-len(a.chunks[n-1]) < len(b) {
		size := minChunk
		if n > 0 {
			size = min(2*cap(a.chunks[n-1]), maxChunk)
		}
		a.chunks = append(a.chunks, make([]byte, 0, max(size, len(b))))
		n++
	}
	c := a.chunks[n-1]
	sp := span{chunk: uint32(n - 1), off: uint32(len(c)), n: uint32(len(b))}
	a.chunks[n-1] = append(c, b...)
	a.live += len(b)
	return sp
}

// tail returns the free end of the last chunk, empty, for appending a
// byte string to give to commit.
func (a *arena) tail() []byte {
	if n := len(a.chunks); n > 0 {
		c := a.chunks[n-1]
		return c[len(c):len(c):cap(c)]
	}
	return nil
}

// commit keeps b, a slice returned by tail and appended to since, at
// most math.MaxUint32 bytes: in place if it still lies in the chunk's
// free end, else by copying it.
func (a *arena) commit(b []byte) span {
	if n := len(a.chunks); n > 0 {
		c := a.chunks[n-1]
		// An append that outgrew the free end moved b to a new array of
		// a larger capacity.
		if free := cap(c) - len(c); len(b) > 0 && cap(b) == free {
			sp := span{chunk: uint32(n - 1), off: uint32(len(c)), n: uint32(len(b))}
			a.chunks[n-1] = c[:len(c)+len(b)]
			a.live += len(b)
			return sp
		}
	}
	return a.put(b)
}

// bytes returns the byte string at sp, in place.
func (a *arena) bytes(sp span) []byte {
	return a.chunks[sp.chunk][sp.off : sp.off+sp.n : sp.off+sp.n]
}

// free records that the byte string at sp is no longer used.
func (a *arena) free(sp span) {
	a.live -= int(sp.n)
	a.dead += int(sp.n)
}

// rowList is the rows of a rowSet by position, in chunks of a fixed
// size, so that adding a row never copies the others.
type rowList struct {
	chunks [][]storedRow
	n      int
}

// rowChunk is the number of rows in a chunk of a rowList.
const rowChunk = 1024

func (l *rowList) len() int { return l.n }

// at returns row i, which must be below len.
func (l *rowList) at(i int) *storedRow { return &l.chunks[i/rowChunk][i%rowChunk] }

// push adds a zero row and returns its position.
func (l *rowList) push() int {
	if l.n%rowChunk == 0 && l.n/rowChunk == len(l.chunks) {
		l.chunks = append(l.chunks, make([]storedRow, rowChunk))
	}
	l.n++
	return l.n - 1
}

// pop removes the last row.
func (l *rowList) pop() {
	l.n--
	*l.at(l.n) = storedRow{}
}
