// Package rest reads paged REST APIs: a declared [Endpoint] becomes a
// [github.com/connectkit/connector/paginate.Source] (see [NewSource]), and
// [Client] GETs JSON pages robustly for it and for hand-written Sources: bounded retries with exponential backoff and full
// jitter, Retry-After, a timeout per attempt, a cap on the body size, an
// optional rate limiter, and error messages and logs in which
// secret-looking URL parameters are redacted.
//
//	c := &rest.Client{Header: http.Header{"Authorization": {"Bearer " + token}}}
//	var page struct {
//		Data []User `json:"data"`
//		Next string `json:"next"`
//	}
//	resp, err := c.GetJSON(ctx, url, &page)
//
// The zero [Client] is ready to use, and one Client is safe for concurrent
// use by any number of goroutines, such as the fetches of a
// [github.com/connectkit/connector/paginate.Paginator] with a Concurrency
// of 8.
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
//	2xx whose body is not valid JSON: syntax       yes      (GetJSON) usually a proxy or the network
//	error, truncation, trailing garbage, empty              cutting the response, not the API
//	other 4xx (400, 401, 403, 404, 409, 422, ...)  no       the request is wrong: the same request gets
//	and 3xx answers that were not followed                  the same answer
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
// one (else the local clock); it is capped at [RetryPolicy.MaxRetryAfter].
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
