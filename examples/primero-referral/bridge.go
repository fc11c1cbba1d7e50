package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/sqlsink"
)

// Reason codes the bridge writes to its audit trail beside the consent
// package's own.
const (
	// reasonFoundUnrecorded: Primero holds a referral of the case to the
	// provider that the trail has no delivery for (a run stopped between
	// the send and its record, or a caseworker referred it by hand). The
	// delivery is recorded when it is found, and nothing is sent again.
	reasonFoundUnrecorded = "found_unrecorded"
	// reasonRecoveredAfterStop: the last run stopped after its intent and
	// before the outcome; the referral had been made.
	reasonRecoveredAfterStop = "recovered_after_stop"
	// reasonNotSentBeforeStop: the last run stopped after its intent and
	// before the outcome; Primero has no such referral.
	reasonNotSentBeforeStop = "not_sent_before_stop"
)

// recordTimeout bounds an audit or state write made after a send, which
// must be attempted even when the run is being stopped; sendTimeout bounds
// the send itself, which a stop request does not cut short.
const (
	recordTimeout = 10 * time.Second
	sendTimeout   = time.Minute
)

// bridge refers the cases the policy allows, once each, on one server.
type bridge struct {
	client    *primero.Client
	server    server
	recipient string
	policy    *consent.Policy
	gate      *consent.Gate
	trail     *consent.Trail
	log       sqlsink.AuditLog
	state     sqlsink.State
	// scope names the flow on this server: the run lock, the audit trail
	// and the state updates all use it.
	scope string
	// out receives progress lines every progress cases.
	out      io.Writer
	progress int
	// referred maps case id to the id of the referral this run made, for
	// the provider's side.
	referred map[string]string
}

// passStats counts what one pass did.
type passStats struct {
	seen, referred, already, denied, failed int
	// recovered counts referrals found on the server with no recorded
	// delivery; stale counts stored links the server did not know.
	recovered, stale int
	reasons          map[consent.Reason]int
	failures         map[string]int
}

func (b *bridge) caseRef(id string) consent.RecordRef {
	return consent.RecordRef{System: b.server.system, ID: id}
}

func (b *bridge) referralSystem() string { return b.server.system + "-referral" }

// pass refers every case the filters select; pass is its number, for the
// progress lines.
func (b *bridge) pass(ctx context.Context, filters []primero.Filter, pass int) (passStats, error) {
	st := passStats{reasons: map[consent.Reason]int{}, failures: map[string]int{}}
	if b.referred == nil {
		b.referred = map[string]string{}
	}
	for c, err := range b.client.Cases.All(ctx, &primero.ListOptions{Filters: filters}) {
		if err != nil {
			return st, err
		}
		st.seen++
		if err := b.one(ctx, c, &st); err != nil {
			return st, err
		}
		if st.seen%b.progress == 0 {
			fmt.Fprintf(b.out, "Pass %d: %d cases checked so far (%d referred, %d already referred, %d not allowed, %d failed).\n",
				pass, st.seen, st.referred, st.already, st.denied, st.failed)
		}
	}
	return st, nil
}

// one decides and, when allowed and not yet done, refers one case. The
// audit trail gets the decision, then the intent before the referral is
// sent, then its outcome: no referral is ever made without a record.
func (b *bridge) one(ctx context.Context, c *primero.Case, st *passStats) error {
	if err := ctx.Err(); err != nil {
		return err // stop requested: no new case is started
	}
	ref := b.caseRef(c.ID)
	d := b.gate.Check(c.ToRecord())
	if _, err := b.trail.Append(ctx, consent.DecisionEvent(flow, ref, provider, d, "")); err != nil {
		return err
	}
	if !d.Allowed {
		st.denied++
		for _, r := range d.Reasons {
			st.reasons[r]++
		}
		return nil
	}
	if _, found, err := b.existing(ctx, c.ID, st); err != nil || found {
		if found {
			st.already++
		}
		return err
	}
	if _, err := b.trail.Append(ctx, b.delivery(ref, consent.OutcomeIntended)); err != nil {
		return err
	}
	r, err := b.send(ctx, c.ID)
	if err != nil {
		code := errorCode(err)
		if rerr := b.record(ctx, b.delivery(ref, consent.OutcomeFailed, code)); rerr != nil {
			return errors.Join(fmt.Errorf("refer case %s: %w", c.ID, err), rerr)
		}
		if stopsPass(err) {
			return fmt.Errorf("refer case %s: %w", c.ID, err)
		}
		st.failed++
		st.failures[code]++
		return nil
	}
	if err := b.record(ctx, b.delivery(ref, consent.OutcomeDelivered)); err != nil {
		return err
	}
	if err := b.link(ctx, c.ID, r.ID); err != nil {
		return err
	}
	b.referred[c.ID] = r.ID
	st.referred++
	return nil
}

// send refers the case. Once the intent is recorded the send is not
// interrupted (a stop request waits for it, up to sendTimeout), so that
// its outcome is known and recorded rather than left in doubt.
func (b *bridge) send(ctx context.Context, caseID string) (*primero.Referral, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	return b.client.Referrals.Create(ctx, caseID, &primero.ReferralRequest{TransitionedTo: b.recipient, Service: service})
}

// delivery builds a delivery event for the case ref.
func (b *bridge) delivery(ref consent.RecordRef, outcome string, reasons ...string) consent.Event {
	return consent.DeliveryEvent(flow, ref, provider, b.policy, "", outcome, reasons...)
}

// record appends e even when ctx is ending: it reports a send that has
// happened (or has certainly failed), which must not go unrecorded
// because the run is being stopped.
func (b *bridge) record(ctx context.Context, e consent.Event) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	_, err := b.trail.Append(ctx, e)
	return err
}

// existing returns the referral the bridge already made for the case on
// this server. Primero's list of the case's referrals is the truth: a
// stored link is trusted only while the server still has that referral
// (a link the server does not know came from a reset or restored server
// at the same address, and is dropped); a referral to the provider that
// has no link is one whose delivery was never recorded, and is recorded
// and linked now rather than sent again.
func (b *bridge) existing(ctx context.Context, caseID string, st *passStats) (string, bool, error) {
	refs, err := b.client.Referrals.List(ctx, caseID)
	if err != nil {
		return "", false, fmt.Errorf("list referrals of case %s: %w", caseID, err)
	}
	id, linked, err := b.state.LinkTo(ctx, linkKind, b.caseRef(caseID), b.referralSystem())
	if err != nil {
		return "", false, err
	}
	if linked {
		for _, r := range refs {
			if r.ID == id {
				return id, true, nil
			}
		}
		st.stale++
		if err := b.unlink(ctx, caseID, id); err != nil {
			return "", false, err
		}
	}
	r := activeReferral(refs, b.recipient)
	if r == nil {
		return "", false, nil
	}
	if err := b.record(ctx, b.delivery(b.caseRef(caseID), consent.OutcomeDelivered, reasonFoundUnrecorded)); err != nil {
		return "", false, err
	}
	if err := b.link(ctx, caseID, r.ID); err != nil {
		return "", false, err
	}
	st.recovered++
	return r.ID, true, nil
}

// resume finishes what the previous run on this server left half done.
// The bridge writes intent, outcome, then link, one case at a time under
// the run lock, so only the trail's last event can lack its follow-up: an
// intent without an outcome (stopped during the send) or a delivery
// without a link. It returns a sentence for the report, or "".
func (b *bridge) resume(ctx context.Context) (string, error) {
	last, err := b.log.Last(ctx)
	if err != nil {
		return "", err
	}
	if last.Kind != consent.KindDelivery || last.Record.System != b.server.system ||
		(last.Outcome != consent.OutcomeIntended && last.Outcome != consent.OutcomeDelivered) {
		return "", nil
	}
	caseID := last.Record.ID
	if _, linked, err := b.state.LinkTo(ctx, linkKind, last.Record, b.referralSystem()); err != nil || linked {
		return "", err
	}
	refs, err := b.client.Referrals.List(ctx, caseID)
	if err != nil {
		return "", fmt.Errorf("list referrals of case %s: %w", caseID, err)
	}
	r := activeReferral(refs, b.recipient)
	if last.Outcome == consent.OutcomeIntended {
		if r == nil {
			if err := b.record(ctx, b.delivery(last.Record, consent.OutcomeFailed, reasonNotSentBeforeStop)); err != nil {
				return "", err
			}
			return fmt.Sprintf("The previous run stopped while referring case %s, before Primero made the referral: recorded as not sent; the case is checked again now.", caseID), nil
		}
		if err := b.record(ctx, b.delivery(last.Record, consent.OutcomeDelivered, reasonRecoveredAfterStop)); err != nil {
			return "", err
		}
	}
	if r == nil {
		return "", nil // delivered, then revoked or rejected since: nothing to link
	}
	if err := b.link(ctx, caseID, r.ID); err != nil {
		return "", err
	}
	return fmt.Sprintf("The previous run stopped while referring case %s, after Primero made the referral: its delivery is now recorded.", caseID), nil
}

// activeReferral returns the case's referral to recipient that is still in
// force (not revoked or rejected), or nil.
func activeReferral(refs []*primero.Referral, recipient string) *primero.Referral {
	for _, r := range refs {
		if r.TransitionedTo == recipient && r.Status != primero.ReferralRevoked && r.Status != primero.ReferralRejected {
			return r
		}
	}
	return nil
}

// link stores that the case was referred as referral refID. It is written
// after the send, so it is attempted even when the run is being stopped.
func (b *bridge) link(ctx context.Context, caseID, refID string) error {
	return b.linkUpdate(ctx, caseID, refID, func(ctx context.Context, tx sqlsink.StateTx, l sqlsink.Link) error {
		return tx.PutLink(ctx, l)
	})
}

// unlink removes a stored link the server does not know.
func (b *bridge) unlink(ctx context.Context, caseID, refID string) error {
	return b.linkUpdate(ctx, caseID, refID, func(ctx context.Context, tx sqlsink.StateTx, l sqlsink.Link) error {
		return tx.DeleteLink(ctx, l)
	})
}

func (b *bridge) linkUpdate(ctx context.Context, caseID, refID string, fn func(context.Context, sqlsink.StateTx, sqlsink.Link) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	l := sqlsink.Link{Kind: linkKind, From: b.caseRef(caseID), To: consent.RecordRef{System: b.referralSystem(), ID: refID}}
	return b.state.Update(ctx, b.scope, func(tx sqlsink.StateTx) error { return fn(ctx, tx, l) })
}

// errorCode names a failed send as a code for the audit trail, never with
// the error's text.
func errorCode(err error) string {
	var apiErr *primero.APIError
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, primero.ErrConsent):
		return "primero_consent_rule"
	case errors.As(err, &apiErr):
		return "http_" + strconv.Itoa(apiErr.StatusCode)
	case errors.Is(err, primero.ErrValidation):
		return "invalid_request"
	}
	return "transport_error"
}

// stopsPass reports whether a failed send stops the pass: anything but a
// refusal of this one case (Primero's consent rule, a 404, 409 or 422),
// since the next case would fail the same way (credentials, server down,
// interrupted).
func stopsPass(err error) bool {
	switch {
	case errors.Is(err, primero.ErrConsent), errors.Is(err, primero.ErrNotFound),
		errors.Is(err, primero.ErrConflict), errors.Is(err, primero.ErrValidation):
		return false
	}
	return true
}
