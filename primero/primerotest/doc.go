// Package primerotest is a faithful fake of the Primero v2 API for tests.
//
// A Server is a real HTTP server on loopback that keeps cases, referrals,
// users, roles and configuration in memory and behaves as
// docs/systems/primero.md describes, including the unfriendly parts that
// hide a client's bugs when a fake is kinder:
//
//   - authentication: HTTP Basic on every call, cookie-session login with
//     CSRF (the login itself included), legacy JWT and identity-provider
//     bearer tokens; the lockout after 6 failed attempts, the login
//     throttle (plain-text 429 without Retry-After), a Bearer challenge on
//     every 401, a login expiring the user's other sessions;
//   - bodies: parsed only with Content-Type: application/json, so a create
//     without it stores an empty case and still answers 200;
//   - permissions, from one mechanism (Role, AddForm): records render only
//     the fields the role reads, filters on other fields are dropped (ID
//     fields included), writes keep only the fields of the module's
//     read-write forms (none without module_id) and the subform rows' own
//     keys, and select values are checked against their lookups;
//   - the filter grammar (unknown filters ignored, `..b` and `-1..10`
//     dropped, inclusive ranges, `false` matching missing values, date
//     bounds at midnight on timestamp columns, whole-second
//     last_updated_at, `loc:` matching descendants), paging capped at 1000;
//   - the PATCH deep merge of subforms by unique_id, 204 on a client-made
//     id (lowercase UUIDs only), 409 on a duplicate;
//   - referrals with the consent rule re-checked on every answer, the
//     recipient rule, silent no-op transitions, bulk referrals that stop at
//     the first failure and answer its error alone, and their side effects;
//   - Primero's error envelopes.
//
// Seed it (AddCase, AddSyntheticCases, AddUser, AddRole, AddLocation,
// AddLookup, AddAgency, AddForm), inspect it (Cases, Case, Referrals,
// Requests with secrets redacted, FailedLogins, Locked) and break it on
// purpose (FailNext, RateLimitNext, DropNext, DropAfterNext, TimeoutNext,
// SetLatency, LockSystem).
//
// Chaos (WithChaos, SetChaos, StopChaos) fails a seeded random share of
// the requests with the faults an exactly-once flow must survive: 503s,
// 429s with Retry-After, timeouts, and connection resets before the
// request acted and after it (the lost answer: the case was created, the
// client never heard). Each recorded Request says which fault it got, and
// FaultCounts sums them up.
//
// It is built to serve large data sets: a list query's matching cases are
// computed once per write generation (any write, role, user, form or
// location change starts a new one) and each case's JSON is kept per role
// view and fields selection until the case changes, so that the pages of
// a query already answered cost about a copy of their bytes, however many
// cases are stored. The first page after a write costs one pass over
// every case.
//
// Behaviours that differ by Primero version follow WithVersion; behaviours
// read in Primero's source but not confirmed on a running server are
// switchable through Quirks (WithQuirks). The package works on
// map[string]any and does not import casebridge's primero client.
package primerotest
