// Package mockapi serves fake REST APIs for tests, benchmarks and demos,
// in the shape of net/http/httptest: the "real servers" that paging
// strategies and connectors run against. One [Server] serves three APIs
// from one seed, with one clock, one set of faults and one request count:
//
//   - a users API, the Fivetran SDK example (offset paginated users synced
//     incrementally on updatedAt) with the other common paging styles;
//   - a GitHub-like issues API ([Server.GitHub]): page numbers and Link
//     headers, since=, nested user and labels, numeric ids;
//   - a Stripe-like customers API ([Server.Stripe]): newest first,
//     starting_after and has_more, deleted objects as tombstones.
//
// Each can change while requests are in flight, and each suffers the
// injected faults.
//
//	srv := mockapi.NewServer(mockapi.Options{Users: 10_000})
//	defer srv.Close()
//	resp, err := srv.Client().Get(srv.URL + "/users?limit=500")
//
// As with httptest, [NewServer] returns a started server and
// [NewUnstartedServer] one to Start later (or whose [Server.Handler] is
// served elsewhere); Close blocks until the requests in flight are done.
// Command mockapi (mockapi/cmd/mockapi) serves all three on a TCP address.
//
// # Data
//
// Records are generated on demand from (Options.Seed, index), so two
// servers with the same seed serve the same records and a population is
// never stored: a server of ten million users costs no memory until users
// change. The fake values come from pools drawn once per seed with
// github.com/jaswdr/faker/v2 (names, streets, cities, companies, jobs,
// titles, bodies, logins, labels, phones...); a record picks one entry of
// each pool by a hash of (seed, index, revision). Bodies are written as
// JSON by hand, exactly as encoding/json writes the exported body types,
// which decode them and marshal back to the same bytes. Serving a user
// costs about 2,000-2,600 instructions (see BenchmarkServeUsers).
//
// Every collection is sorted by (time of last change, id) and laid out in
// tie groups: base record i changed last at a group time
// (i / TiesPerTimestamp) * Step apart, so records share times and paging
// must handle ties. Ids encode the index, so changed records are found
// without an index.
//
// # Clock and changes
//
// The server has its own clock ([Server.Now]). It starts one Step after
// the last base user's updatedAt, moves only with [Server.SetNow] and
// [Server.Advance], and never goes backwards, so runs are reproducible.
// Changes ([Server.Update], [Server.Insert], [Server.Delete] for users;
// the methods of [GitHub] and [Stripe]) are stamped with the clock (whole
// seconds for issues and customers, which end a Step, rounded up to whole
// seconds, before the clock starts), which moves the record to the end of
// its collection's order (records changed at the same time tie).
//
// Changed records are kept as overrides: a sorted list of the base indices
// that left their place, and the changed records sorted by (time, id), all
// later than every base record. A page at any offset, or after any key, is
// found by arithmetic on the tie groups and binary searches in these
// lists: O(log R + log T) for R changed base records and T overrides, plus
// the generation of the L records served and of one tie group, whatever
// the size of the population. Memory is O(R + T).
//
// # Users
//
// The users collection holds [Options.Users] users (default 1000). Base
// user i has updatedAt = Start + (i / TiesPerTimestamp) * Step (defaults
// 2024-01-01T00:00:00Z, 3 and 1s); its id is a version 4 UUID. A deleted
// user leaves a tombstone. All endpoints answer GET with JSON, sorted by
// (updatedAt, id):
//
//	GET /users?offset=&limit=         {"data":[...],"offset":O,"limit":L,"total":N,"has_more":B}
//	GET /users/pages?page=&per_page=  {"data":[...],"page":P,"per_page":S,"total":N,"total_pages":K,"has_more":B}
//	GET /users/cursor?cursor=&limit=  {"data":[...],"next_cursor":"..."}
//	GET /users/link?cursor=&limit=    [...] with Link: <next>; rel="next", <first>; rel="first"
//	GET /users/keyset?after=&limit=   {"data":[...],"has_more":B}
//
// Every users endpoint also takes these filters:
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
// {"error":"..."}; every error body of the users API has that shape and
// Content-Type application/json.
//
// # GitHub-like issues
//
// [Server.GitHub] serves the [Options.Issues] issues (default 1000) of one
// repository ([Options.Repo], default "acme/widgets"):
//
//	GET /repos/{owner}/{repo}/issues?state=&since=&sort=updated&direction=&per_page=&page=
//
// The body is a JSON array of [Issue]: numeric int64 id, number, title,
// state, body (null for some), user {login, id}, labels [{id, name,
// color}], comments, created_at, updated_at and closed_at (null while
// open), times in whole seconds, "2024-01-01T00:00:00Z". Parameters, as
// on GitHub:
//
//   - state: open (the default), closed or all;
//   - since: an ISO 8601 time; only issues updated at or after it;
//   - sort: must be updated (the only order the mock serves; GitHub's
//     default, created, is refused with 422 rather than served in another
//     order);
//   - direction: asc, or desc (the default), by (updated_at, id);
//   - per_page: default 30, larger than 100 capped to 100; page from 1.
//
// Paging is by page number with a Link header of absolute URLs: rel="next"
// and rel="last" unless on the last page, rel="first" and rel="prev"
// unless on the first; no Link header when everything fits one page. Each
// link is the request's URL with its page parameter replaced (the first
// one, in place) or appended; every other parameter is kept byte for byte.
// As on GitHub, page numbers shift when issues change during a walk (an
// update moves an issue to the end of direction=asc), so a walk can skip
// or repeat issues; a connector pages by since= to be safe.
//
// Ids cross digit counts: base ids straddle 1,000,000,000 (idBase + 37 *
// number), so comparing them as text misorders some, and ties are ordered
// by numeric id. Numbers are a shuffle of the update order; inserted issues
// take the next number and a larger id, created_at and updated_at Now.
// [GitHub.Update] edits title, body and labels (one more comment),
// [GitHub.Close] and [GitHub.Reopen] change the state and closed_at,
// [GitHub.AddLabels] and [GitHub.RemoveLabels] change labels, and
// [GitHub.Delete] makes an issue vanish without a trace, as on GitHub.
// [GitHub.Issues] returns the current content.
//
// Not GitHub-faithful: only sort=updated; no pull requests in the listing;
// no filters but state and since (labels=, assignee=... are ignored); no
// url, html_url, node_id, assignees, milestone or reactions fields; bad
// parameters are 422 {"message":...,"documentation_url":...} where GitHub
// sometimes ignores them; a repository other than Repo is 404.
//
// # Stripe-like customers
//
// [Server.Stripe] serves [Options.Customers] customers (default 1000):
//
//	GET /v1/customers?limit=&starting_after=&ending_before=&updated[gte]=&updated[gt]=&updated[lte]=&updated[lt]=
//	{"object":"list","data":[...],"has_more":B,"url":"/v1/customers"}
//
// Data holds [Customer] objects: id "cus_" and 14 letters and digits,
// "object":"customer", address, balance, created, currency, delinquent,
// description, email, invoice_prefix, livemode, metadata, name, phone,
// preferred_locales, tax_exempt, and updated, times in Unix seconds; empty
// strings are served as null, as Stripe serves unset fields. limit is 1 to
// 100 (default 10; above 100 is a 400, as on Stripe). starting_after=<id>
// serves the customers after that one in listing order, ending_before=<id>
// those before it (still newest first); has_more says whether more lie
// beyond the page in the direction of paging. The id may be a deleted
// customer's; an unknown one is 400 with code resource_missing. Errors are
// {"error":{"type":...,"code":...,"message":...,"param":...}}, 400 for bad
// parameters (unknown parameters included, as on Stripe).
//
// Not Stripe-faithful, to make incremental sync possible: Stripe lists by
// created, newest first, and has no update order; the mock lists NEWEST
// FIRST BY (updated, id), where updated (not a Stripe field) is the last
// change, so a change moves the customer to the top. A deleted customer is
// listed at the top as {"id":"cus_...","object":"customer","deleted":true,
// "updated":T}; Stripe lists no deleted customers (it emits
// customer.deleted events instead). The updated[gte|gt|lte|lt] filters are
// the mock's (Stripe has created[...] ones, which the mock refuses as
// unknown parameters, like expand[] and email). Customers have a subset of
// Stripe's fields, no nested sources, and a cursor object that changed
// since the page before resolves to its new position.
//
// # Faults
//
// [Faults], set in [Options.Faults] or at run time with [Server.SetFaults],
// make the server misbehave on every API: latency, a share of 500s, 429s
// with a Retry-After in seconds or as an HTTP-date, 403s with Retry-After
// (GitHub's secondary rate limit), a request quota announced in
// X-RateLimit-Limit, -Remaining, -Used, -Reset and -Resource headers
// (403 when spent), connection resets, truncated JSON bodies on chosen or
// random requests, records missing fields (users' email and updatedAt,
// issues' updated_at and user, customers' email and updated), a last page
// that repeats, and a last page linking to itself. Error bodies take the
// shape of the API of the path. Random faults come from a generator seeded
// from Options.Seed, so a run with sequential requests is reproducible.
// [Server.Requests] and [Server.RequestsTo] count requests.
package mockapi
