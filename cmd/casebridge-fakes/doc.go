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
// Fakes are listed in main.fakes; later adaptors add theirs there.
package main
