// Package opstest checks that an [ops.Destination] keeps the contract the
// runner relies on, in the spirit of testing/slogtest: describe how to
// open, close and read back your destination in a [Harness], and [Run]
// drives it every way a sync will, comparing what it holds with the
// reference semantics of [ops.Memory].
//
// The checks, each a subtest named Group/Check:
//   - Semantics: upsert, update (some columns or all), delete, truncate
//     and delete of children, alone and in batches, on simple, composite
//     and child-table keys, against hand-written expected rows;
//   - Types: values of all 14 column types round-trip, edge values and
//     NULL included, before and after reopening;
//   - SystemColumns: SyncedColumn holds the time of the Write and
//     DeletedColumn marks soft deletes, which stay readable;
//   - State: LoadState of a new destination, round trip of every field
//     of a state through Checkpoint, LoadState and a reopen, copies in
//     and out, and CheckpointMerge for an [ops.StateMerger];
//   - Durability: after Close, or a simulated crash, at several points
//     (after a checkpoint, mid-sync, mid-write of large batches, twice,
//     before any checkpoint), the destination reopens, its state is the
//     last checkpoint's and its rows are those the state covers followed
//     by a prefix of the later operations, never fewer; resuming from
//     that state and writing the rest again ends with the same rows as a
//     sync without a crash;
//   - Resume: rows and state survive Close and reopen, and later writes
//     continue them;
//   - Concurrent: Writes on several tables from several goroutines and
//     checkpoints at the same time (run the suite with -race);
//   - SchemaEvolution: a column added (at the end or in the middle) keeps
//     the stored rows, NULL in the new column, also across a reopen; a
//     column whose type changed is an error wrapping
//     [ops.ErrSchemaChange];
//   - Errors: an unknown table (wrapping [schema.ErrUnknownTable]), a
//     cancelled context, an invalid table, table and column names that
//     are not valid UTF-8, a nil state;
//   - Clock: the destination reads its clock at most once per Write;
//   - Random: random sequences of every operation in random batches,
//     with checkpoints, compared with the reference after each
//     checkpoint and after a reopen (fixed seeds).
//
// The suite sends operations as the runner does (normalized, each Row
// handed over, the []Op slice reused after Write returns) and reads rows
// back only after a Checkpoint or a reopen. Values compare exactly, except
// JSON values, which compare as JSON (a jsonb column may reorder keys),
// and what [Options] relaxes.
//
// The package also holds the fixtures that destination tests share:
// tables of every type ([Types], [Wide]) and shapes ([Items], [Orders],
// [Labels]), realistic and edge values, a deterministic [Clock],
// sequences of [Step] sent with [Apply], random sequences, [Stateless].
package opstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/ops"
	"github.com/connectkit/connector/schema"
)

// Harness tells the suite how to open, close and read back destinations
// of one kind. Open and Rows are required.
type Harness struct {
	// Open opens the destination stored at loc, creating an empty one if
	// loc holds none. Its SyncedColumn values must come from now. loc is
	// a new, empty directory the suite makes for each check, passed again
	// to reopen the destination after Close or Crash: a file destination
	// keeps its files in it; a database destination derives its database
	// or schema name from it (see [Name]), or ignores it and keys its own
	// storage by it.
	Open func(ctx context.Context, loc string, now func() time.Time) (ops.Destination, error)

	// Rows returns every row of table held by d, deleted ones included,
	// in any order: each a schema.Row of every declared column (NULL as
	// nil), SyncedColumn and DeletedColumn, values of their columns'
	// canonical Go types (see [schema.Type]). The suite calls it on an
	// open destination after a Checkpoint or a reopen.
	Rows func(ctx context.Context, d ops.Destination, table string) ([]schema.Row, error)

	// Close closes d. Nil means [Close].
	Close func(d ops.Destination) error

	// Crash, if not nil, abandons d as if its process died: it releases
	// what d holds in this process (files, locks, connections) so that
	// loc can be opened again, without flushing buffers, committing a
	// transaction or writing anything. Nil skips the crash checks; the
	// Close checks still run.
	Crash func(d ops.Destination) error
}

// Options relax or tune the suite. The zero value checks everything
// exactly, with the default seeds.
type Options struct {
	// TimePrecision is the precision of the times the destination keeps
	// in NAIVE_DATETIME and UTC_DATETIME columns and SyncedColumn: zero
	// means a nanosecond; a Postgres timestamp keeps a microsecond.
	// Expected times are truncated to it.
	TimePrecision time.Duration
	// Run, if not empty, is a regular expression that the name
	// "Group/Check" of a check must match for the check to run, as with
	// go test -run: "Durability|Random" runs those groups only.
	Run string
	// Skip names checks not to run, "Group/Check" as in the subtest
	// names, with the reason, which the skip reports: for example
	// {"Types/NUL": "a Postgres text cannot hold U+0000"}.
	Skip map[string]string
	// Compare holds more go-cmp options for comparing rows, such as
	// cmpopts.EquateApprox for a float column stored with less precision.
	Compare []cmp.Option
	// Seeds are the seeds of the random sequences, one check each;
	// nil means 1, 2 and 3, and an empty slice none.
	Seeds []uint64
	// RandomSteps is the length of each random sequence; zero means 400.
	RandomSteps int
}

// Run runs the suite against the destinations of h, each check as a
// subtest of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	RunOptions(t, h, Options{})
}

// RunOptions is [Run] with options.
func RunOptions(t *testing.T, h Harness, o Options) {
	t.Helper()
	if h.Open == nil || h.Rows == nil {
		t.Fatal("opstest: Harness.Open and Harness.Rows are required")
	}
	gs, err := selected(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.checks {
				t.Run(c.name, func(t *testing.T) {
					if reason, ok := o.Skip[g.name+"/"+c.name]; ok {
						t.Skip(reason)
					}
					e := &env{h: h, o: o, r: t, tempDir: t.TempDir}
					e.run(c.fn)
				})
			}
		})
	}
}

// Check runs the same checks as [RunOptions] without a testing.T, in
// temporary directories it removes, and returns every failure, each
// prefixed with its check's name, joined; nil when the destinations of h
// keep the contract. It is how the suite's own tests show that it
// catches broken destinations.
func Check(h Harness, o Options) error {
	if h.Open == nil || h.Rows == nil {
		return errors.New("opstest: Harness.Open and Harness.Rows are required")
	}
	root, err := os.MkdirTemp("", "opstest-")
	if err != nil {
		return fmt.Errorf("opstest: %w", err)
	}
	defer os.RemoveAll(root)
	gs, err := selected(o)
	if err != nil {
		return err
	}
	var errs []error
	n := 0
	for _, g := range gs {
		for _, c := range g.checks {
			if _, ok := o.Skip[g.name+"/"+c.name]; ok {
				continue
			}
			r := &collector{}
			e := &env{h: h, o: o, r: r, tempDir: func() string {
				n++
				dir := fmt.Sprintf("%s/%d", root, n)
				if err := os.Mkdir(dir, 0o700); err != nil {
					r.Fatalf("opstest: %v", err)
				}
				return dir
			}}
			done := make(chan struct{})
			go func() {
				defer close(done)
				e.run(c.fn)
			}()
			<-done
			for _, m := range r.msgs {
				errs = append(errs, fmt.Errorf("%s/%s: %s", g.name, c.name, m))
			}
		}
	}
	return errors.Join(errs...)
}

// Name returns a short name derived from loc, safe as a SQL identifier
// (lower-case letters, digits and underscores, starting with a letter,
// at most 40 bytes) and distinct for the distinct locations of a run:
// for a database destination that keeps each location in a schema or
// database of its own.
func Name(loc string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(loc); i++ {
		h ^= uint64(loc[i])
		h *= 1099511628211
	}
	base := loc
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
		if b.Len() >= 16 {
			break
		}
	}
	return fmt.Sprintf("opstest_%s_%016x", b.String(), h)
}

// reporter is the part of *testing.T the checks use.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
}

// collector is a reporter for Check. Fatalf and Skip end the check's
// goroutine, as they do a test's.
type collector struct {
	mu   sync.Mutex
	msgs []string
}

func (c *collector) Helper() {}
func (c *collector) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}
func (c *collector) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	runtime.Goexit()
}
func (c *collector) Skip(...any) { runtime.Goexit() }

type check struct {
	name string
	fn   func(e *env)
}

type group struct {
	name   string
	checks []check
}

// selected returns the groups of checks that o.Run selects.
func selected(o Options) ([]group, error) {
	gs := groups(o)
	if o.Run == "" {
		return gs, nil
	}
	re, err := regexp.Compile(o.Run)
	if err != nil {
		return nil, fmt.Errorf("opstest: Options.Run: %w", err)
	}
	var out []group
	for _, g := range gs {
		var cs []check
		for _, c := range g.checks {
			if re.MatchString(g.name + "/" + c.name) {
				cs = append(cs, c)
			}
		}
		if cs != nil {
			out = append(out, group{g.name, cs})
		}
	}
	return out, nil
}

// groups lists the checks.
func groups(o Options) []group {
	gs := []group{
		{"Semantics", semanticsChecks()},
		{"Types", typesChecks()},
		{"SystemColumns", []check{{"Values", checkSystemColumns}}},
		{"State", []check{
			{"Fresh", checkStateFresh},
			{"RoundTrip", checkStateRoundTrip},
			{"Copies", checkStateCopies},
			{"Merge", checkStateMerge},
		}},
		{"Durability", durabilityChecks()},
		{"Resume", []check{{"CloseReopen", checkResume}}},
		{"Concurrent", []check{{"Tables", checkConcurrent}}},
		{"SchemaEvolution", []check{
			{"ColumnAdded", func(e *env) { checkColumnAdded(e, false) }},
			{"ColumnAddedAfterReopen", func(e *env) { checkColumnAdded(e, true) }},
			{"TableAdded", checkTableAdded},
			{"TypeChanged", checkTypeChanged},
		}},
		{"Errors", []check{
			{"UnknownTable", checkUnknownTable},
			{"Cancelled", checkCancelled},
			{"InvalidTable", checkInvalidTable},
			{"InvalidUTF8Names", checkInvalidUTF8},
			{"NilState", checkNilState},
		}},
		{"Clock", []check{{"OncePerWrite", checkClockOnce}}},
	}
	seeds := o.Seeds
	if seeds == nil {
		seeds = []uint64{1, 2, 3}
	}
	var random []check
	for _, seed := range seeds {
		random = append(random, check{fmt.Sprintf("Seed%d", seed), func(e *env) { checkRandom(e, seed) }})
	}
	return append(gs, group{"Random", random})
}

// env is the context of one check: the harness, the destinations it
// opened (closed at the end) and the clock they share with the
// reference.
type env struct {
	h       Harness
	o       Options
	r       reporter
	tempDir func() string

	mu      sync.Mutex
	open    []ops.Destination
	clock   suiteClock
	writes  int       // the Writes sent so far: the clock's ticks
	pending time.Time // the time of the Write being sent
}

// suiteClock is the clock of the destinations a check opens: the suite
// sets its time before each Write, so that the reference can be given the
// same times, and counts the reads.
type suiteClock struct {
	mu    sync.Mutex
	t     time.Time
	reads int
}

func (c *suiteClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	return c.t
}

func (c *suiteClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *suiteClock) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.reads
	c.reads = 0
	return n
}

// run runs a check, reporting a panic of the destination as a failure,
// and closes what it left open.
func (e *env) run(fn func(*env)) {
	defer e.cleanup()
	defer func() {
		if p := recover(); p != nil {
			e.r.Errorf("panicked: %v\n%s", p, debug.Stack())
		}
	}()
	fn(e)
}

// cleanup closes what the check left open, ignoring errors: a check that
// cares closes it itself.
func (e *env) cleanup() {
	e.mu.Lock()
	open := e.open
	e.open = nil
	e.mu.Unlock()
	for _, d := range open {
		e.closeQuietly(d)
	}
}

func (e *env) closeQuietly(d ops.Destination) {
	defer func() { _ = recover() }()
	if e.h.Close != nil {
		_ = e.h.Close(d)
	} else {
		_ = Close(d)
	}
}

// location returns a new empty location.
func (e *env) location() string { return e.tempDir() }

// openAt opens the destination at loc and prepares tables, failing the
// check on an error.
func (e *env) openAt(loc string, tables ...schema.Table) ops.Destination {
	e.r.Helper()
	d := e.openOnly(loc)
	if err := d.Prepare(context.Background(), tables); err != nil {
		e.r.Fatalf("Prepare(%s): %v", tableNames(tables), err)
	}
	return d
}

// openOnly opens the destination at loc without preparing it.
func (e *env) openOnly(loc string) ops.Destination {
	e.r.Helper()
	if e.clock.t.IsZero() {
		e.clock.set(T0)
	}
	d, err := e.h.Open(context.Background(), loc, e.clock.now)
	if err != nil {
		e.r.Fatalf("Open(%s): %v", loc, err)
	}
	if d == nil {
		e.r.Fatalf("Open(%s) returned a nil destination", loc)
	}
	e.mu.Lock()
	e.open = append(e.open, d)
	e.mu.Unlock()
	return d
}

// fresh opens a destination at a new location and prepares tables.
func (e *env) fresh(tables ...schema.Table) (ops.Destination, string) {
	e.r.Helper()
	loc := e.location()
	return e.openAt(loc, tables...), loc
}

// forget removes d from the destinations cleanup closes.
func (e *env) forget(d ops.Destination) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, o := range e.open {
		if o == d {
			e.open = append(e.open[:i], e.open[i+1:]...)
			return
		}
	}
}

// close closes d, failing the check on an error.
func (e *env) close(d ops.Destination) {
	e.r.Helper()
	e.forget(d)
	var err error
	if e.h.Close != nil {
		err = e.h.Close(d)
	} else {
		err = Close(d)
	}
	if err != nil {
		e.r.Fatalf("Close: %v", err)
	}
}

// crash abandons d with the harness's Crash.
func (e *env) crash(d ops.Destination) {
	e.r.Helper()
	e.forget(d)
	if err := e.h.Crash(d); err != nil {
		e.r.Fatalf("Crash: %v", err)
	}
}

// rows returns the rows of table held by d, failing the check on an
// error.
func (e *env) rows(d ops.Destination, table string) []schema.Row {
	e.r.Helper()
	got, err := e.h.Rows(context.Background(), d, table)
	if err != nil {
		e.r.Fatalf("Rows(%q): %v", table, err)
	}
	return got
}

// tableNames lists the names of tables for messages.
func tableNames(tables []schema.Table) string {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
