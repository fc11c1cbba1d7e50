// Command casebridge-fakes serves casebridge's fake servers standalone on
// loopback, with synthetic demo data, so that test suites in any language
// can use them. It prints each fake's URL and credentials and runs until
// interrupted.
//
//	casebridge-fakes -addr 127.0.0.1:0 -cases 100 -auth session
//
// -auth picks the login flow every fake offers besides its default (for
// Primero: basic, session, legacy or bearer).
//
// -chaos 0.2 makes every fake fail a fifth of the requests it serves (a
// 503, a 429 with Retry-After, a request held until the client gives up,
// the connection dropped before acting, or dropped after acting so that
// the answer is lost), from a plan fixed by -chaos-seed: try a bridge
// against them, and a colleague reproduces the same faults with the same
// seed. Logins are exempt, so that chaos never locks an account.
//
// Fakes are listed in main.fakes; later adaptors add theirs there.
package main
