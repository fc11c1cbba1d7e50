// Package referral holds casebridge's referral flows and their
// system-neutral core: the canonical [Referral], its state machine, per-run
// [Stats], and [Runner], which runs flows once or on an interval under the
// state store's run lock.
//
// # The flows (proGres ⇄ Primero, through DTP or PING)
//
//  1. proGres referral → Primero case: [NewIntake] (DTP pushes, through
//     progres.Handler; or PING polling).
//  2. Primero decision → proGres: [NewDecisionsOut].
//  3. Primero referral → proGres, with consent revocation: [NewOutbound].
//  4. proGres decision → Primero referral: [NewDecisionsIn].
//
// Each is configured with its clients, a mapping spec (embedded Gambella
// specs by default, see [Spec]), a consent policy and a sqlsink.State
// ([Common]); each is idempotent and resumable, gates every send on the
// policy, and audits every decision and delivery. docs/flows.md in the
// repository says what each guarantee rests on.
//
// [Referral] is the system-neutral model of one referral: identifiers,
// requested services, the consent it carries, each system's own ids and a
// [Status], with what the receiving system needs to know in Payload (mapped
// by the direction's spec, filtered by the policy; never logged). Every
// flow carries one per item: the intake builds it from the proGres item and
// completes it with the Primero case and service it reached; the decision
// flows derive their processed keys from its key and status and move it on
// the state machine; the outbound flow builds it from the Primero referral
// ([Outgoing.AsReferral]). [Common].Observe is handed each one, without its
// Payload, once the step is durable: the way to export where referrals
// stand.
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
