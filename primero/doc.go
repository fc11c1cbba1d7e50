// Package primero is a typed client for the Primero v2 API (UNICEF's
// case-management system for child protection and GBV).
//
// Create a client with New and one auth option, then use its resources:
//
//	c, err := primero.New("https://primero.example", primero.WithBasicAuth(user, pass))
//	kase, err := c.Cases.Get(ctx, id)
//	for kase, err := range c.Cases.All(ctx, &primero.ListOptions{Filters: []primero.Filter{primero.Status("open")}}) { ... }
//
// What the client does for its caller, following Primero as
// docs/systems/primero.md describes it and the integration defects of
// docs/pitfalls.md:
//
//   - Filters are typed and checked against the names Primero can filter on
//     before any request is sent, because Primero silently ignores a filter it
//     does not know and returns every case in scope (pitfall 3). Ranges are
//     only a..b or a.. (pitfall 4); per is capped at 1000 (pitfall 15).
//   - All pages lazily in the caller's order (created_at asc by default,
//     the stable one), skips a case already yielded on the previous page,
//     keeps memory flat (pitfalls 14, 16) and reports each page's
//     metadata, metadata.total included, through ListOptions.OnPage.
//   - A list answer without a data array (a proxy's "{}", "data": null, an
//     HTML page) or a page without paging metadata is a *DecodeError
//     (ErrMalformedAnswer), never an empty list: Upsert and "was this case
//     referred already?" never act on a non-answer.
//   - Upsert refuses an empty key, verifies every hit client-side and returns
//     an *AmbiguousMatchError instead of writing into the first hit (pitfall 2).
//   - Referrals apply Primero's consent rule before sending, unless the caller
//     asks for a ConsentOverride by name with a reason (pitfall 39), check
//     status transitions locally, and detect Primero's silent 200 no-op
//     (pitfall 32).
//   - Credentials Primero refused are never sent again (pitfall 29): a 401
//     is not retried, and every later call fails at once with an error
//     matching ErrUnauthorized and ErrCredentialsRejected, without reaching
//     the server, until Client.ResetAuth. This holds for Basic, for a
//     refused legacy login (not posted again) and for a refused bearer
//     token (not sent again; with WithOAuth2 a new token from the source is
//     sent). Calls already on the wire when the 401 arrives are the only
//     ones that reach the server. The legacy login is bound to the context
//     of the call that needs it, and calls waiting for it give up at the
//     end of their own context. Only safe requests are retried, and a
//     server's Retry-After is always honoured up to a cap.
//   - Every answer's body is capped (DefaultMaxResponseBytes, or
//     WithMaxResponseBytes): a larger one fails with ErrResponseTooLarge
//     and is not read past the cap; error bodies keep at most 64 KiB.
//   - Errors hold no personal data. An *APIError prints its status, the URL
//     with secrets and filter values removed, Primero's message keys and
//     fixed texts (APIError.Codes) and the field names and JSON pointers it
//     named (APIError.Fields); every other server text (Devise's 401 text,
//     exception texts, a firewall's page echoing the submitted values) is
//     withheld and reachable only through APIError.ServerErrors, whose
//     entries may hold personal data. The other error types print ids,
//     codes and counts only (pitfall 40).
//
// Case keeps the common CPIMS+ fields typed and every other field in
// Case.Fields, so a read-modify-write round trip loses nothing, including
// through ToRecord and FromRecord. A field whose value is not of the
// expected shape (a services_section with a row that is not an object)
// stays in Fields exactly as sent.
package primero
