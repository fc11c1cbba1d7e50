// Package primerotest is a faithful fake of the Primero v2 API for tests.
//
// A Server is a real HTTP server on loopback that keeps cases, referrals,
// users and configuration in memory and behaves as reference/primero.md
// describes, including the awkward parts: HTTP Basic, cookie-session and
// legacy-JWT logins, the lockout after 6 failed logins, the login throttle,
// the filter grammar (unknown filters silently ignored, `..b` dropped,
// inclusive ranges, `loc:` matching descendants), the PATCH deep merge of
// subforms by unique_id, 204 on a client-made id, 409 on a duplicate,
// referrals with their consent and recipient rules, silent no-op
// transitions and side effects, and Primero's error envelopes.
//
// Seed it (AddCase, AddSyntheticCases, AddUser, AddLocation, AddLookup,
// AddAgency, AddForm), inspect it (Cases, Case, Referrals, Requests with
// secrets redacted, FailedLogins, Locked) and break it on purpose
// (FailNext, RateLimitNext, DropNext, SetLatency, LockSystem).
//
// Behaviours the reference marks "(unconfirmed)" are switchable through
// Quirks (WithQuirks). The package works on map[string]any and does not
// import casebridge's primero client.
package primerotest
