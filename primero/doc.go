// Package primero is a typed client for the Primero v2 API (UNICEF's
// case-management system for child protection and GBV).
//
// Create a client with New and one auth option, then use its resources:
//
//	c, err := primero.New("https://primero.example", primero.WithBasicAuth(user, pass))
//	kase, err := c.Cases.Get(ctx, id)
//	for kase, err := range c.Cases.All(ctx, &primero.ListOptions{Filters: []primero.Filter{primero.Status("open")}}) { ... }
//
// What the client does for its caller, following reference/primero.md and
// reference/pitfalls.md:
//
//   - Filters are typed and checked against the names Primero can filter on
//     before any request is sent, because Primero silently ignores a filter it
//     does not know and returns every case in scope (pitfall 3). Ranges are
//     only a..b or a.. (pitfall 4); per is capped at 1000 (pitfall 15).
//   - All pages lazily with a stable sort and deduplicates by id with flat
//     memory (pitfalls 14, 16).
//   - Upsert refuses an empty key, verifies every hit client-side and returns
//     an *AmbiguousMatchError instead of writing into the first hit (pitfall 2).
//   - Referrals apply Primero's consent rule before sending, unless the caller
//     asks for a ConsentOverride by name with a reason (pitfall 39), check
//     status transitions locally, and detect Primero's silent 200 no-op
//     (pitfall 32).
//   - A 401 is never retried: Primero locks an account after 6 failed logins
//     (pitfall 29). Only safe requests are retried (see internal/transport).
//   - Errors are *APIError values mapping onto the sentinels below with
//     errors.Is; they carry no request body and no personal values, and
//     their URL has secrets and filter values removed.
//
// Case keeps the common CPIMS+ fields typed and every other field in
// Case.Fields, so a read-modify-write round trip loses nothing.
package primero
