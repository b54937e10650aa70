package mockapi

import (
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied to the zero fields of [Options].
const (
	DefaultUsers            = 1000
	DefaultSeed             = 1
	DefaultStep             = time.Second
	DefaultTiesPerTimestamp = 3
	DefaultPageSize         = 100
	DefaultMaxPageSize      = 1000
	DefaultRetryAfter       = time.Second
	DefaultRateLimitWindow  = time.Minute
)

// DefaultStart is the updatedAt of the first base users when Options.Start
// is zero: 2024-01-01T00:00:00Z.
var DefaultStart = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// Options configures a [Server]. The zero value means the defaults.
type Options struct {
	// Users is the size of the base population, generated on demand. Zero
	// means DefaultUsers; a negative value means an empty population.
	Users int

	// Seed selects the population and the fault sequence. Zero means
	// DefaultSeed (so seeds 0 and 1 serve the same users).
	Seed int64

	// Start is the updatedAt of the first tie group (zero means
	// DefaultStart). Base user i has updatedAt
	// Start + (i / TiesPerTimestamp) * Step.
	Start time.Time

	// Step separates consecutive tie groups. Zero or negative means
	// DefaultStep. Users is clamped so that the last base timestamp fits in
	// a time.Duration from Start (about 292 years).
	Step time.Duration

	// TiesPerTimestamp is how many base users share each updatedAt. Zero or
	// negative means DefaultTiesPerTimestamp; 1 means no ties.
	TiesPerTimestamp int

	// DefaultPageSize is the page size when a request has no limit or
	// per_page. Zero or negative means DefaultPageSize; it is capped at
	// MaxPageSize.
	DefaultPageSize int

	// MaxPageSize caps larger limit and per_page values without error. Zero
	// or negative means DefaultMaxPageSize.
	MaxPageSize int

	// RelativeLinks makes the URLs of the /users/link Link header relative
	// (path and query only).
	RelativeLinks bool

	// Issues is the number of base issues of the GitHub-like API
	// ([Server.GitHub]), generated on demand. Zero means DefaultIssues; a
	// negative value means none.
	Issues int

	// Repo is the repository of the GitHub-like API, "owner/repo", served
	// at /repos/owner/repo/issues. Empty means DefaultRepo; so does a value
	// that is not two non-empty segments of printable characters without
	// '?', '#' or '%'.
	Repo string

	// Customers is the number of base customers of the Stripe-like API
	// ([Server.Stripe]), generated on demand. Zero means DefaultCustomers;
	// a negative value means none.
	Customers int

	// Faults are the faults injected from the start, on every API; see
	// [Server.SetFaults].
	Faults Faults
}

// withDefaults returns o with its zero fields replaced by the defaults.
func (o Options) withDefaults() Options {
	switch {
	case o.Users == 0:
		o.Users = DefaultUsers
	case o.Users < 0:
		o.Users = 0
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC()
	if o.Step <= 0 {
		o.Step = DefaultStep
	}
	if o.TiesPerTimestamp <= 0 {
		o.TiesPerTimestamp = DefaultTiesPerTimestamp
	}
	// Keep Start + groups*Step (the clock's start) within a time.Duration.
	o.Users = clampCount(o.Users, o.TiesPerTimestamp, o.Step)
	switch {
	case o.Issues == 0:
		o.Issues = DefaultIssues
	case o.Issues < 0:
		o.Issues = 0
	}
	switch {
	case o.Customers == 0:
		o.Customers = DefaultCustomers
	case o.Customers < 0:
		o.Customers = 0
	}
	if !validRepo(o.Repo) {
		o.Repo = DefaultRepo
	}
	if o.MaxPageSize <= 0 {
		o.MaxPageSize = DefaultMaxPageSize
	}
	if o.DefaultPageSize <= 0 {
		o.DefaultPageSize = DefaultPageSize
	}
	o.DefaultPageSize = min(o.DefaultPageSize, o.MaxPageSize)
	o.Faults = o.Faults.normalized()
	return o
}

// Server serves the mock REST APIs (users, GitHub-like issues, Stripe-like
// customers) backed by deterministic fake data, in the shape of
// [httptest.Server]. See the package documentation for the endpoints and
// faults.
//
// All methods are safe for concurrent use, including while requests are in
// flight.
type Server struct {
	// URL is the base URL of the server, of the form http://ipaddr:port with
	// no trailing slash. Start sets it.
	URL string

	opts    Options
	clock   *clock
	cfg     *config
	store   *store[User]
	github  *GitHub
	stripe  *Stripe
	eps     map[string]route // fixed at creation
	handler http.Handler

	faults   faultState
	requests atomic.Int64
	byPath   map[string]*atomic.Int64 // fixed at creation: only the endpoints

	mu sync.Mutex
	ts *httptest.Server
}

// NewUnstartedServer returns a server for opts that is not listening yet,
// as [httptest.NewUnstartedServer]: call Start, or serve Handler
// elsewhere. Until Start, URL is empty and Client returns nil.
func NewUnstartedServer(opts Options) *Server {
	opts = opts.withDefaults()
	seed := opts.Seed
	cfg := &config{
		layout: layout{
			n:     opts.Users,
			start: opts.Start,
			step:  opts.Step,
			ties:  opts.TiesPerTimestamp,
			ids:   newIDCodec(seed),
		},
		seed:  seed,
		codec: newIDCodec(seed),
		pools: sync.OnceValue(func() *userPools { return userPoolsFor(seed) }),
	}
	clk := &clock{now: cfg.groupTime(cfg.groups())}
	s := &Server{
		opts:   opts,
		clock:  clk,
		cfg:    cfg,
		store:  newUserStore(cfg, clk),
		github: newGitHub(&opts, clk),
		stripe: newStripe(&opts, clk, cfg.pools),
		byPath: make(map[string]*atomic.Int64),
	}
	s.faults.init(opts.Seed, opts.Faults)
	s.handler = s.routes()
	return s
}

// NewServer starts and returns a new server, as [httptest.NewServer]. The
// caller should call Close when finished, to shut it down.
func NewServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	s.Start()
	return s
}

// Start starts the server on a loopback address and sets URL. Calling it
// again has no effect.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts != nil {
		return
	}
	s.ts = httptest.NewServer(s.handler)
	s.URL = s.ts.URL
}

// Close shuts the server down and blocks until all outstanding requests on
// it have completed. It is safe to call more than once, or before Start.
func (s *Server) Close() {
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	if ts != nil {
		ts.Close()
	}
}

// Client returns an HTTP client configured for the server, whose idle
// connections Close closes. Like [httptest.Server.Client], it returns nil
// before Start.
func (s *Server) Client() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return nil
	}
	return s.ts.Client()
}

// Handler returns the handler serving the API, to mount it on another
// server. Requests through it share the server's data, clock, faults and
// counters.
func (s *Server) Handler() http.Handler { return s.handler }

// GitHub returns the GitHub-like issues API the server also serves.
func (s *Server) GitHub() *GitHub { return s.github }

// Stripe returns the Stripe-like customers API the server also serves.
func (s *Server) Stripe() *Stripe { return s.stripe }

// Now returns the server's clock, which stamps mutations. It starts one Step
// after the last base timestamp and moves only by SetNow and Advance.
func (s *Server) Now() time.Time { return s.clock.Now() }

// SetNow sets the clock to t. It returns an error, and changes nothing, if t
// is before the current time: the clock never goes backwards.
func (s *Server) SetNow(t time.Time) error { return s.clock.SetNow(t) }

// Advance moves the clock forward by d. A d of zero or less does nothing.
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// Update changes the name, email and job of the live user with this id,
// deterministically from the seed and the number of updates it had, and
// stamps updatedAt with Now; the user moves to its new position in
// collection order. It returns the updated user, or false if no live user
// has this id.
func (s *Server) Update(id string) (User, bool) {
	return s.store.edit(id, s.cfg.base, func(r *rec[User], now time.Time) bool {
		r.rev++
		s.cfg.revise(&r.v, r.idx, r.rev)
		r.v.UpdatedAt = now
		return true
	})
}

// Insert adds a new user with a new id, createdAt and updatedAt set to Now,
// and returns it.
func (s *Server) Insert() User {
	return s.store.insert(func(i int, _ string, now time.Time) (User, int) {
		return s.cfg.inserted(i, now), 0
	})
}

// Delete removes the live user with this id and keeps a tombstone stamped
// with Now, served with include_deleted=true. It reports false if no live
// user has this id.
func (s *Server) Delete(id string) bool {
	_, ok := s.store.edit(id, s.cfg.base, func(r *rec[User], now time.Time) bool {
		r.v, r.dead = User{ID: id, UpdatedAt: now, Deleted: true}, true
		return true
	})
	return ok
}

// UserAt returns base user i as generated from the seed, ignoring later
// updates and deletions, or the zero User if i is not in [0, Options.Users).
func (s *Server) UserAt(i int) User {
	if i < 0 || i >= s.cfg.n {
		return User{}
	}
	return s.cfg.base(i)
}

// Users returns a snapshot of all live users in collection order
// (updatedAt, id). It materialises the whole collection, so it is meant for
// small populations.
func (s *Server) Users() []User {
	refs, _ := s.store.rowsAt(filter{}.sel(), 0, math.MaxInt)
	return s.cfg.users(refs)
}

// Deleted returns the ids of the deleted users in the order of their
// tombstones (deletion time, id).
func (s *Server) Deleted() []string { return s.store.deadIDs() }

// Len returns the number of live users.
func (s *Server) Len() int { return s.store.live() }
