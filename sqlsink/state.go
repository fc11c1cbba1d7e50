package sqlsink

import (
	"context"
	"iter"

	"github.com/casebridge/casebridge/consent"
)

// State is what the referral flows remember between runs, so that a run
// that stops half way can be repeated without harm:
//
//   - a cursor per flow (an opaque string, such as the greatest server
//     timestamp processed), advanced only past what was processed;
//   - links between the ids one record has in two systems, so that a
//     re-polled referral finds the case it already created instead of
//     creating a second one;
//   - processed keys per flow, for idempotency ("was this decision sent?");
//   - consent audit trails (see [AuditLog]);
//   - a per-flow run lock, so that two processes never run the same flow
//     at once.
//
// State holds identifiers only, never personal data: flow names, kinds,
// systems, ids and keys must be identifiers by the rule of the consent
// audit trail ([consent.IsIdentifier]: letters and digits joined by
// _-.:/#, at most 200 characters), which keeps names, emails, phone
// numbers and prose out, and errors name the field that was refused, never
// its value.
//
// Writes go through [State.Update], which applies a flow's cursor,
// processed keys and links together or not at all. The read methods of
// State are for use outside Update; inside it, use the [StateTx], which
// sees the transaction's own writes (calling State from inside Update may
// wait for a database connection or lock the Update itself holds).
//
// [MemoryState] keeps everything in memory (tests, examples); [DBState]
// keeps it in SQLite or PostgreSQL.
type State interface {
	// Cursor returns the flow's cursor; ok is false when none was stored.
	// A missing cursor should stop a flow unless its caller gave an
	// explicit start: never fall back to a hard-coded date.
	Cursor(ctx context.Context, flow string) (cursor string, ok bool, err error)
	// Processed reports whether key was marked processed for flow.
	Processed(ctx context.Context, flow, key string) (bool, error)
	// LinkTo returns the id in toSystem of the record from, under kind.
	LinkTo(ctx context.Context, kind string, from consent.RecordRef, toSystem string) (toID string, ok bool, err error)
	// LinkFrom returns the id in fromSystem of the record to, under kind:
	// the reverse of LinkTo.
	LinkFrom(ctx context.Context, kind string, to consent.RecordRef, fromSystem string) (fromID string, ok bool, err error)
	// Update runs fn in one transaction scoped to flow: if fn returns an
	// error (or panics, or ctx ends), nothing it wrote is kept and the
	// error is returned. fn must not keep tx after it returns.
	Update(ctx context.Context, flow string, fn func(tx StateTx) error) error
	// AuditLog returns the durable consent audit log named trail (one per
	// consent.Trail, usually one per flow).
	AuditLog(trail string) AuditLog
	// Lock takes the flow's exclusive run lock without waiting. When
	// another holder has it, the error is a *LockHeldError (errors.Is
	// ErrLockHeld). Release the lock when the run ends.
	Lock(ctx context.Context, flow string) (*Lock, error)
}

// StateTx reads and writes one flow's state inside [State.Update]. Reads
// see the transaction's earlier writes. Links are shared by all flows (one
// flow creates a link, another follows it); cursors and processed keys
// belong to the transaction's flow.
type StateTx interface {
	// Flow returns the flow the transaction belongs to.
	Flow() string
	// Cursor returns the flow's cursor; ok is false when none is stored.
	Cursor(ctx context.Context) (cursor string, ok bool, err error)
	// SetCursor stores the flow's cursor, replacing the previous one. A
	// cursor is opaque: any text without control characters, 1 to 1024
	// bytes.
	SetCursor(ctx context.Context, cursor string) error
	// Processed reports whether key is marked processed for the flow.
	Processed(ctx context.Context, key string) (bool, error)
	// MarkProcessed marks key processed for the flow and reports whether
	// this is the first time. A key that should fire again when something
	// changes carries that change ("service-0001:accepted").
	MarkProcessed(ctx context.Context, key string) (first bool, err error)
	// LinkTo returns the id in toSystem of the record from, under kind.
	LinkTo(ctx context.Context, kind string, from consent.RecordRef, toSystem string) (toID string, ok bool, err error)
	// LinkFrom returns the id in fromSystem of the record to, under kind.
	LinkFrom(ctx context.Context, kind string, to consent.RecordRef, fromSystem string) (fromID string, ok bool, err error)
	// PutLink stores l. Storing the same link again is a no-op. A link
	// that contradicts a stored one (From already linked to another id in
	// To.System, or To already linked from another id in From.System) is
	// refused with a *LinkConflictError (errors.Is ErrLinkConflict): one
	// record never maps to two.
	PutLink(ctx context.Context, l Link) error
	// DeleteLink removes l if it is stored exactly so; otherwise it does
	// nothing.
	DeleteLink(ctx context.Context, l Link) error
}

// Link records that one record is From in one system and To in another,
// for example a proGres referral and the Primero case it became. Kind
// says what is linked ("case", "referral", "service") and keeps
// unrelated id spaces apart.
type Link struct {
	Kind string
	From consent.RecordRef
	To   consent.RecordRef
}

// AuditLog is a durable consent audit trail: a consent.Sink that checks
// the chain and reads it back.
//
// Append stores an event only if it continues the stored trail (Seq one
// more than the last, PrevHash the last Hash, Hash correct); otherwise it
// returns an error wrapping consent.ErrBrokenChain and stores nothing.
// Re-appending the last event is a no-op, as consent.Trail expects after a
// failure. Each Append is its own transaction, apart from any
// [State.Update]: an audit event is kept even when the flow's own update
// is rolled back.
//
// To continue a trail after a restart use [ResumeTrail]; to check a stored
// trail use [VerifyAudit].
type AuditLog interface {
	consent.Sink
	// Events yields the stored events in order. A row that cannot be
	// read back as the event it claims to be yields a
	// *consent.TamperError. Iteration pages through the trail, holding no
	// connection between pages.
	Events(ctx context.Context) iter.Seq2[consent.Event, error]
	// Last returns the last stored event (zero when the trail is empty).
	Last(ctx context.Context) (consent.Event, error)
}

// VerifyAudit checks every stored event of log with a consent.Verifier
// (hashes, sequence numbers, chain) and returns the summary, or the first
// *consent.TamperError.
func VerifyAudit(ctx context.Context, log AuditLog) (consent.Summary, error) {
	var v consent.Verifier
	for e, err := range log.Events(ctx) {
		if err != nil {
			return v.Summary(), err
		}
		if err := v.Next(e); err != nil {
			return v.Summary(), err
		}
	}
	return v.Summary(), nil
}

// ResumeTrail verifies the trail stored in log and returns a
// consent.Trail that continues it after its last event. A tampered trail
// returns the *consent.TamperError and no Trail, as consent.OpenTrail does
// for a file.
func ResumeTrail(ctx context.Context, log AuditLog, opts ...consent.TrailOption) (*consent.Trail, error) {
	s, err := VerifyAudit(ctx, log)
	if err != nil {
		return nil, err
	}
	last := consent.Event{Seq: s.LastSeq, Hash: s.LastHash}
	return consent.NewTrail(log, append([]consent.TrailOption{consent.ResumeFrom(last)}, opts...)...), nil
}
