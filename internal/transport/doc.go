// Package transport is the HTTP plumbing shared by every casebridge client
// (Primero, proGres, OSCaR, DHIS2).
//
// A [Client] stacks go-retryablehttp outside and golang.org/x/oauth2 inside:
//
//	retryablehttp (retry policy, backoff, Retry-After)
//	  └── logging round tripper (one line per attempt, secrets redacted)
//	        └── oauth2.Transport (bearer token, when a TokenSource is set)
//	              └── auth guard (StopAfterUnauthorized: refused credentials kept back)
//	                    └── the base http.RoundTripper
//
// Only safe requests are retried: GET, HEAD, PUT, DELETE and OPTIONS, or a
// write the caller marks idempotent with [Idempotent]. 4xx answers are final
// except 408 and 429; 401 and 403 are never retried, because Primero locks an
// account after 6 failed logins (pitfall 29). Connection errors are retried
// only for safe requests. Backoff is exponential with jitter; a Retry-After
// header is honoured but capped by [RetryPolicy.MaxRetryAfter] (60s when
// left zero).
//
// A Config with StopAfterUnauthorized never resends credentials the
// server refused: after a 401, requests carrying the same Authorization
// header fail at once with a *CredentialsRejectedError until
// Client.ResetUnauthorized; requests with other credentials (a refreshed
// token) go out. Successful response bodies are capped at
// Config.MaxResponseBytes (DefaultMaxResponseBytes when zero), error
// bodies at MaxErrorBody.
//
// The package also holds what the clients share so that errors behave the
// same everywhere: the sentinel errors ([ErrNotFound], [ErrUnauthorized], …)
// that clients re-export, [HTTPError] (the final response with a capped body,
// the URL redacted), [ValidationError] (one entry per field, named by its JSON
// path, never quoting values) and option validation helpers.
//
// Secrets never reach errors or logs: [RedactURL] removes credentials and
// every query value that is not a known paging or sorting parameter, and the
// logger records only the method, the redacted URL, the status, the attempt
// number and the duration. Logging is silent unless a *slog.Logger is given.
package transport
