package referral

import (
	"context"
	"errors"
	"slices"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/sqlsink"
)

// Outcomes and codes of the revocation steps, in audit events and Stats.
const (
	// OutcomeRevoked: the Primero referral was revoked.
	OutcomeRevoked = "revoked"
	// OutcomeNotified: OnRevocation told the recipient.
	OutcomeNotified = "notified"
	// CodeRevokeRefusedConsent: Primero refused to revoke the referral
	// because the case's consent fields are already cleared (its rule is
	// re-checked on revoke); recorded and reported once, not retried.
	CodeRevokeRefusedConsent = "revoke_refused_consent"
	// CodeRevocationHook: OnRevocation failed; tried again next run.
	CodeRevocationHook = "revocation_hook"
)

// revoke acts on the revocations of one case (pitfall 38), each step once:
//
//  1. the block (LinkRevoked, "revocation:<case>:<party>"), then the
//     revocation event, written once (see auditRevocation);
//  2. when the policy's action revokes: each Primero referral of the case
//     to the recipient user not yet revoked ("revoke:<referral>");
//  3. when it notifies: OnRevocation ("notify:<case>:<party>").
//
// done is false while a step is left to retry.
func (r *outRun) revoke(ctx context.Context, c *primero.Case, outs []Outgoing, revs []consent.Revocation) (bool, error) {
	done := true
	for _, rev := range revs {
		recKey := "revocation:" + c.ID + ":" + rev.Recipient.String()
		first := false
		if err := r.cfg.State.Update(ctx, r.name, func(tx sqlsink.StateTx) error {
			var err error
			if first, err = tx.MarkProcessed(ctx, recKey); err != nil || !first {
				return err
			}
			return tx.PutLink(ctx, revokedLink(rev.Record, rev.Recipient))
		}); err != nil {
			return false, err
		}
		if err := r.auditRevocation(ctx, rev, first); err != nil {
			return false, err
		}
		if rev.Action == consent.RevokeAndNotify || rev.Action == consent.RevokeOnly {
			for i := range outs {
				ok, err := r.revokeReferral(ctx, &outs[i], rev)
				if err != nil {
					return false, err
				}
				done = done && ok
			}
		}
		if rev.Action == consent.RevokeAndNotify || rev.Action == consent.NotifyOnly {
			ok, err := r.notify(ctx, c, rev)
			if err != nil {
				return false, err
			}
			done = done && ok
		}
	}
	return done, nil
}

// resumeRevocations rebuilds the revocations of a blocked case whose
// consent holds again, so that steps left undone (a failed OnRevocation)
// are still carried out; steps done are skipped by their keys.
func (r *outRun) resumeRevocations(ctx context.Context, ref consent.RecordRef, l SharedLookup) ([]consent.Revocation, error) {
	shared, err := l.SharedWith(ctx, ref)
	if err != nil {
		return nil, err
	}
	p := r.cfg.Policy
	out := make([]consent.Revocation, 0, len(shared))
	for _, s := range shared {
		out = append(out, consent.Revocation{Record: ref, Recipient: s.Recipient, SharedAt: s.Time,
			Action: p.RevocationAction(), Reasons: []consent.Reason{consent.ReasonConsentRevoked},
			PolicyID: p.ID(), PolicyHash: p.Hash()})
	}
	return out, nil
}

// auditRevocation writes the revocation event once. The block is stored
// first (so nothing is sent while the event is written), then the event,
// then a mark that it was written. Should a run stop between the event and
// the mark, the next run finds the event in the trail instead of writing
// it again; that search runs only in that case.
func (r *outRun) auditRevocation(ctx context.Context, rev consent.Revocation, first bool) error {
	key := "revocation-audited:" + rev.Record.ID + ":" + rev.Recipient.String()
	if done, err := r.cfg.State.Processed(ctx, r.name, key); err != nil || done {
		return err
	}
	written := false
	if !first {
		for e, err := range r.cfg.State.AuditLog(r.name).Events(ctx) {
			if err != nil {
				return err
			}
			if e.Kind == consent.KindRevocation && e.Record == rev.Record && e.Recipient == rev.Recipient.String() {
				written = true
				break
			}
		}
	}
	if !written {
		if _, err := r.tr.Append(ctx, consent.RevocationEvent(r.name, rev, "")); err != nil {
			return err
		}
		r.stats.Decided++
	}
	return r.cfg.State.Update(ctx, r.name, func(tx sqlsink.StateTx) error {
		_, err := tx.MarkProcessed(ctx, key)
		return err
	})
}

// revokeReferral revokes one Primero referral to the recipient user: every
// one not revoked yet, sent or not, since the consent it needed is gone.
func (r *outRun) revokeReferral(ctx context.Context, o *Outgoing, rev consent.Revocation) (bool, error) {
	st := r.cfg.State
	ref := primeroReferralRef(o.Referral)
	if o.Referral.Status == primero.ReferralRevoked {
		return true, nil
	}
	key := "revoke:" + o.Referral.ID
	if done, err := st.Processed(ctx, r.name, key); err != nil || done {
		return done, err
	}
	primeroParty := r.cfg.Policy.Sender()
	event := func(outcome string, reasons ...string) consent.Event {
		return consent.DeliveryEvent(r.name, ref, primeroParty, r.cfg.Policy, "", outcome, append([]string{"action:" + string(rev.Action)}, reasons...)...)
	}
	if _, err := r.tr.Append(ctx, event(consent.OutcomeIntended)); err != nil {
		return false, err
	}
	_, rerr := r.cfg.Primero.Referrals.Revoke(ctx, o.Case.ID, o.Referral.ID)
	outcome, ok := OutcomeRevoked, true
	switch {
	case rerr == nil:
	case consentRefused(rerr):
		// Primero's consent rule guards revoke too: once the consent
		// fields are cleared it refuses (422) and always will. Recorded,
		// reported, not retried.
		outcome = consent.OutcomeFailed + ":" + CodeRevokeRefusedConsent
		r.stats.Fail(o.Referral.ID, CodeRevokeRefusedConsent, rerr)
	default:
		r.stats.Fail(o.Referral.ID, "revoke", rerr)
		_, err := r.tr.Append(ctx, event(consent.OutcomeFailed, errClass(rerr)))
		return false, err
	}
	if err := st.Update(ctx, r.name, func(tx sqlsink.StateTx) error {
		_, err := tx.MarkProcessed(ctx, key)
		return err
	}); err != nil {
		return false, err
	}
	if rerr == nil {
		r.stats.Decided++
	}
	_, err := r.tr.Append(ctx, event(outcome))
	return ok, err
}

// consentRefused reports Primero's 422 for a transition its consent rule
// refuses.
func consentRefused(err error) bool {
	var ae *primero.APIError
	return errors.As(err, &ae) && ae.StatusCode == 422 && slices.Contains(ae.Codes, "transition.errors.consent")
}

// notify calls OnRevocation once it succeeded; a failure is retried next run.
func (r *outRun) notify(ctx context.Context, c *primero.Case, rev consent.Revocation) (bool, error) {
	key := "notify:" + c.ID + ":" + rev.Recipient.String()
	if done, err := r.cfg.State.Processed(ctx, r.name, key); err != nil || done {
		return done, err
	}
	event := func(outcome string, reasons ...string) consent.Event {
		return consent.DeliveryEvent(r.name, rev.Record, rev.Recipient, r.cfg.Policy, "", outcome, append([]string{"action:" + string(rev.Action)}, reasons...)...)
	}
	if herr := r.cfg.OnRevocation(ctx, rev); herr != nil {
		r.stats.Fail(c.ID, CodeRevocationHook, herr)
		_, err := r.tr.Append(ctx, event(consent.OutcomeFailed, CodeRevocationHook))
		return false, err
	}
	if err := r.cfg.State.Update(ctx, r.name, func(tx sqlsink.StateTx) error {
		_, err := tx.MarkProcessed(ctx, key)
		return err
	}); err != nil {
		return false, err
	}
	_, err := r.tr.Append(ctx, event(OutcomeNotified))
	return err == nil, err
}
