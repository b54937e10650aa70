// Package rest reads paged REST APIs. An [Endpoint] declares where a
// collection is, how to authenticate, where the records are in a body,
// how it pages and what ends it; [NewSource] turns it into a [Source], a
// [github.com/connectkit/connector/paginate.Source] that builds each
// request and decodes each record into T in one pass, and [New] into a
// Paginator. [Client], which sends the requests, also serves hand-written
// Sources for anything a declaration cannot say.
//
//	p, err := rest.New[Issue](rest.Endpoint{
//		BaseURL:  "https://api.github.com",
//		Path:     "/repos/golang/go/issues",
//		Auth:     rest.Bearer(token),
//		Paging:   rest.LinkPaging{Limit: "per_page"},
//		PageSize: 100,
//	})
//
// Per-run filters, such as the start of a sync window, are added with
// [Source.With], never by building URLs:
//
//	src.With(url.Values{"since": {w.Since.Format(time.RFC3339)}}).Paginator()
//
// # Declarations of real APIs
//
// GitHub (Link header, page and per_page, since= per run):
//
//	rest.Endpoint{BaseURL: "https://api.github.com", Path: "/repos/o/r/issues",
//		Query: url.Values{"state": {"all"}}, Auth: rest.Bearer(token),
//		Paging: rest.LinkPaging{Limit: "per_page"}, PageSize: 100}
//
// Stripe (starting_after the id of the last object, has_more):
//
//	rest.Endpoint{BaseURL: "https://api.stripe.com", Path: "/v1/customers",
//		Auth: rest.Bearer(key), Records: "data", HasMore: "has_more",
//		Paging: rest.KeysetPaging{Param: "starting_after", Field: "id"}, PageSize: 100}
//
// HubSpot (body cursor paging.next.after sent as after=; a private app
// token, or the legacy hapikey, which never enters a cursor):
//
//	rest.Endpoint{BaseURL: "https://api.hubapi.com", Path: "/crm/v3/objects/contacts",
//		Auth: rest.Bearer(token), // or rest.APIKeyQuery("hapikey", key)
//		Records: "results", Paging: rest.CursorPaging{Next: "paging.next.after", Param: "after"},
//		PageSize: 100}
//
// Salesforce (next URL in the body, relative, and done):
//
//	rest.Endpoint{BaseURL: instanceURL, Path: "/services/data/v60.0/query",
//		Query: url.Values{"q": {soql}}, Auth: rest.OAuth2(ts),
//		Records: "records", Paging: rest.NextURLPaging{Next: "nextRecordsUrl"}, Done: "done"}
//
// Shopify (Link header with page_info; filters must not be carried to the
// next URLs, which is the default):
//
//	rest.Endpoint{BaseURL: "https://shop.myshopify.com", Path: "/admin/api/2024-04/products.json",
//		Query: url.Values{"status": {"active"}}, Auth: rest.APIKeyHeader("X-Shopify-Access-Token", token),
//		Records: "products", Paging: rest.LinkPaging{}, PageSize: 250}
//
// Zendesk (cursor pagination: meta.has_more with links.next, or
// meta.after_cursor sent as page[after]):
//
//	rest.Endpoint{BaseURL: "https://acme.zendesk.com", Path: "/api/v2/tickets.json",
//		Auth: rest.Basic(email+"/token", token), Records: "tickets", HasMore: "meta.has_more",
//		Paging: rest.NextURLPaging{Next: "links.next", Limit: "page[size]"}, PageSize: 100}
//	// or Paging: rest.CursorPaging{Next: "meta.after_cursor", Param: "page[after]", Limit: "page[size]"}
//
// Slack (response_metadata.next_cursor sent as cursor=; {"ok":false}
// answers with status 200 are errors by way of [Client.Classify], see its
// example):
//
//	rest.Endpoint{Client: slackClient, BaseURL: "https://slack.com", Path: "/api/users.list",
//		Auth: rest.Bearer(token), Records: "members",
//		Paging: rest.CursorPaging{Next: "response_metadata.next_cursor"}, PageSize: 200}
//
// # Next URLs and credentials
//
// A next URL (NextURLPaging, LinkPaging) is followed as the server gave
// it: relative URLs resolve against the request URL, and the raw query is
// kept byte for byte (';' as in OData's $expand=members($select=id;$top=2),
// malformed % escapes); the library adds parameters only with Carry. A
// URL that cannot be requested is an error wrapping [ErrBadURL], never
// dropped. Tokens of CursorPaging are sent back verbatim, escaped once.
// The first page's URL is its [paginate.Page.Self], so that a next URL
// leading back to it is a loop.
//
// Credentials ([Auth], Header) are sent only to the base URL's origin
// (scheme, host and port) and to AllowHosts: not to another host named by
// a next URL, and not across a redirect, whose policy also drops
// Authorization and cookies for another port, stops at loops and after 10
// redirects, and is not retried. An API key in the query is removed from
// next URLs before they become cursors and added again to each request.
// Every Auth prints as REDACTED, and no error or log shows a secret.
//
// # Records and memory
//
// Records is a dotted path ("data", "result.items") or empty for a body
// that is the array. The body is read once into memory (at most
// [Client.MaxBody] bytes) and decoded in one pass: the walk to the
// records, the decode of each record into T, the count against
// [Client.MaxItems] (100,000 by default, so that a body of tiny items
// cannot make millions of them) and the fields that say what comes next.
// Field names match T's as with encoding/json (case-insensitively).
//
// The decode is github.com/go-json-experiment/json's (the code that
// becomes encoding/json/v2), with a faster path for the common case: when
// T is a struct of strings, numbers, booleans, times and other fields by
// json tag, without embedded fields or tag options but omitempty and
// omitzero, a validating scanner reads the page and fills each record's
// fields directly (the other fields through json.Unmarshal), and the
// records' strings are substrings of one copy of the body, so that a
// record kept keeps its page's text alive. Any body or record the fast
// path is not sure of (malformed JSON, a wrong type, a name that matches
// only case-insensitively, a lone surrogate) is decoded by
// go-json-experiment/json, which gives the same result, or the error.
//
// # Retry rules
//
// Each call makes at most [RetryPolicy.MaxAttempts] attempts. An attempt
// fails with one of the outcomes below, which is either retried after a
// wait or returned at once:
//
//	Outcome                                        Retried  Why
//	---------------------------------------------  -------  ----------------------------------------------
//	429 Too Many Requests                          yes      the server asks the client to slow down
//	5xx (500, 502, 503, 504 and the others)        yes      the server or a gateway failed; a GET is safe
//	                                                        to repeat
//	network error: connection refused or reset,    yes      transient faults of the network or of a
//	EOF, unexpected EOF, also while reading the             server restarting
//	body
//	attempt timeout (Client.Timeout)               yes      a slow server or a lost packet
//	403 with Retry-After, or with a rate limit     yes      a rate limit (GitHub's secondary and primary
//	used up (X-RateLimit-Remaining: 0 and a reset)          ones), waited out
//	2xx whose body is not valid JSON: syntax       yes      usually a proxy or the network cutting the
//	error, truncation, trailing garbage, empty              response, not the API
//	other 4xx (400, 401, 403, 404, 409, 422, ...)  no       the request is wrong: the same request gets
//	and 3xx answers that were not followed                  the same answer
//	redirect loops, more than 10 redirects         no       the same request would get the same answers
//	a page with more than Client.MaxItems records  no       it would be as large again
//	2xx whose JSON does not fit the target type    no       a type mismatch is deterministic
//	body larger than Client.MaxBody                no       it would be as large again
//	the caller's context cancelled or expired      no       the caller gave up
//	TLS certificate errors, invalid URLs, a        no       configuration errors that waiting cannot fix
//	Limiter that refuses to wait
//
// The wait before retry n (n = 1 for the first retry) is a random duration
// in [0, min(Max, Base·2^(n-1))) ("full jitter", which spreads the retries
// of many clients), or the delay of the response's Retry-After header if
// that is longer. Retry-After is honoured in both its forms: delta-seconds,
// and an HTTP-date taken relative to the response's Date header when it has
// one (else the local clock); so are the resets of rate-limit headers
// (X-RateLimit-Reset as Unix seconds, RateLimit-Reset and the IETF
// RateLimit header's t= as delta-seconds). Every wait is capped at
// [RetryPolicy.MaxRetryAfter]. [Client.Classify] can change any of these
// decisions, for any answer, 2xx included.
//
// Pacing: when an answer says its rate limit is used up (remaining 0 with
// a reset), the next request to that origin, from any goroutine, waits
// until the reset (capped likewise), beside [Client.Limiter], which paces
// from the client's side.
// A wait ends early, with the context's error, when the caller's context is
// done. Every attempt, retries included, first waits on [Client.Limiter].
//
// # Errors
//
// Every error names the request (with secrets redacted) and, from the
// second attempt on, the attempt: "rest: GET <url>: attempt 5 of 5,
// retries exhausted: 503 Service Unavailable: <body>". The causes are
// reachable with errors.Is and errors.As:
//
//   - [*StatusError] for a final answer outside 2xx;
//   - [*DecodeError] for a body that does not decode; errors.Is(err,
//     [ErrMalformed]) tells a syntax error from a type error, which
//     stays reachable as a *json.UnmarshalTypeError;
//   - [ErrBodyTooLarge] for a body over [Client.MaxBody];
//   - [ErrRetriesExhausted] when the last allowed attempt failed with an
//     error that would have been retried: the failure is transient, and
//     the call may succeed later;
//   - context.Canceled and context.DeadlineExceeded when the caller's
//     context ended (never for the timeout of one attempt).
//
// # Logging
//
// Each retry logs one Warn record to [Client.Logger] with the attempt, the
// status or error, the wait and the redacted URL. Header values are never
// logged.
package rest
