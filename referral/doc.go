// Package referral is the system-neutral core of casebridge's referral
// flows: the canonical [Referral], its state machine, per-run [Stats], and
// [Runner], which runs flows once or on an interval under the state store's
// run lock.
//
// A referral moves between systems (proGres, Primero, OSCaR) as a Referral:
// identifiers, requested services, the consent it carries, each system's
// own ids and a [Status]. What the receiving system needs to know travels in
// Payload, produced by the direction's mapping spec (the agreement, made
// executable) and filtered by the consent policy; it never reaches a log,
// an error or the audit trail.
//
// # State machine
//
//	pending ──► accepted ──► done
//	   │  └───► rejected
//	   └──────► revoked ◄── accepted
//
// Every other change is an error ([ErrInvalidTransition]); asking for the
// status a referral already has is [ErrUnchanged], which flows use to tell a
// re-delivered decision from a new one. Primero itself answers an illegal
// transition with a silent 200 (pitfall 32), so the flows check the status
// they asked for against this machine rather than trusting the answer.
//
// # Running flows
//
// A flow is anything with a name and a RunOnce method ([Flow]). [Runner]
// takes the flow's lock in a [sqlsink.State] before each run, so that one
// flow never runs twice at once, even across processes sharing a PostgreSQL
// state store: a second process finds the lock held, skips that cycle, and
// takes over on a later cycle once the first has died. Cancelling the
// context stops the runner between runs and cancels the run in flight;
// losing the lock cancels the run in flight too.
package referral
