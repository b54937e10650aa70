// Package mockapi serves a fake users REST API for tests, benchmarks and
// demos, in the shape of net/http/httptest: the "real server" that every
// paging strategy runs against. It mirrors the Fivetran SDK example, offset
// paginated users synced incrementally on updatedAt, and adds the other
// common paging styles, live changes and injected faults.
//
//	srv := mockapi.NewServer(mockapi.Options{Users: 10_000})
//	defer srv.Close()
//	resp, err := srv.Client().Get(srv.URL + "/users?limit=500")
//
// As with httptest, [NewServer] returns a started server and
// [NewUnstartedServer] one to Start later (or whose [Server.Handler] is
// served elsewhere); Close blocks until the requests in flight are done.
//
// # Data
//
// The collection holds [Options.Users] users (default 1000). User i is
// generated from (Options.Seed, i) with github.com/jaswdr/faker/v2 and a
// splitmix64 source, so two servers with the same seed serve the same users
// and the population is never stored: a server of ten million users costs
// no memory until users change. The id is a version 4 UUID that encodes i,
// so changed users are found without an index.
//
// Base user i has updatedAt = Start + (i / TiesPerTimestamp) * Step
// (defaults 2024-01-01T00:00:00Z, 3 and 1s), so users share timestamps and
// paging must handle ties. Every endpoint serves the collection in
// (updatedAt, id) order.
//
// The server has its own clock ([Server.Now]). It starts one Step after the
// last base timestamp, moves only with [Server.SetNow] and [Server.Advance],
// and never goes backwards, so runs are reproducible. [Server.Update],
// [Server.Insert] and [Server.Delete] change the collection while requests
// are in flight and stamp the change with the clock, which moves the user to
// the end of the collection (users changed at the same clock time tie).
// A deleted user leaves a tombstone.
//
// Changed users are kept as overrides: a sorted list of the base indices
// that left their place, and the changed users sorted by (updatedAt, id),
// all later than every base user. A page at any offset, or after any key, is
// found by arithmetic on the tie groups and binary searches in these lists:
// O(log R + log T) for R changed base users and T overrides, plus the
// generation of the L users served and of one tie group, whatever the size
// of the population. Memory is O(R + T).
//
// # Endpoints
//
// All endpoints answer GET with JSON, sorted by (updatedAt, id):
//
//	GET /users?offset=&limit=         {"data":[...],"offset":O,"limit":L,"total":N,"has_more":B}
//	GET /users/pages?page=&per_page=  {"data":[...],"page":P,"per_page":S,"total":N,"total_pages":K,"has_more":B}
//	GET /users/cursor?cursor=&limit=  {"data":[...],"next_cursor":"..."}
//	GET /users/link?cursor=&limit=    [...] with Link: <next>; rel="next", <first>; rel="first"
//	GET /users/keyset?after=&limit=   {"data":[...],"has_more":B}
//
// Every endpoint also takes these filters:
//
//   - updated_since: RFC 3339 time, inclusive;
//   - updated_before: RFC 3339 time, exclusive (history windows);
//   - include_deleted=true: tombstones interleaved in order, as
//     {"id":...,"updatedAt":<deletion time>,"deleted":true}.
//
// Offsets count rows matching the filters, and total counts them too. Page
// numbers start at 1. A limit or per_page above [Options.MaxPageSize]
// (default 1000) is capped silently and the response echoes the size
// served; an absent one means [Options.DefaultPageSize] (default 100).
//
// The next_cursor of /users/cursor is opaque and absent on the last page; an
// absent or empty cursor means the first page. /users/link puts the same
// cursor in the next URL, which repeats every other parameter of the
// request exactly once ([Options.RelativeLinks] makes the URLs relative).
// The after parameter of /users/keyset is [Key] of the last user seen:
// "<updatedAt RFC 3339 with nanoseconds>,<id>"; the server returns the
// users strictly after it. Cursor and keyset requests must repeat their
// filters: the cursor holds only a position.
//
// Unknown parameters are ignored and an empty value counts as absent. A bad
// parameter (not an integer, negative, a limit or page below 1, an
// unparsable time, boolean, cursor or key) is answered 400 with
// {"error":"..."}; every error body has that shape and Content-Type
// application/json.
//
// # Faults
//
// [Faults], set in [Options.Faults] or at run time with [Server.SetFaults],
// make the server misbehave: latency, a share of 500s, 429s with a
// Retry-After in seconds or as an HTTP-date, connection resets, truncated
// JSON bodies on chosen or random requests, users missing email and
// updatedAt, a last page that repeats, and a last page linking to itself.
// Random faults come from a generator seeded from Options.Seed, so a run
// with sequential requests is reproducible. [Server.Requests] and
// [Server.RequestsTo] count requests.
package mockapi
