package referral

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// Link kinds of the PING outbound flow: from a Primero referral to its
// async ingestion's SPHTransactionId ("ping-tx"), or to a marker that a
// Create's answer was lost ("ping-unconfirmed").
const (
	linkPINGTx          = "ping-tx"
	linkPINGUnconfirmed = "ping-unconfirmed"
)

// sendPING sends one referral by async ingestion, or follows up the one
// already sent:
//
//   - a stored SPHTransactionId is checked (never re-sent): a success marks
//     the referral processed; a record PING rejected drops the id so the
//     next run sends again; no result yet leaves it for the next run;
//   - a Create whose answer was lost is looked for in the decision list
//     when PINGReadBack is set, else reported until Resend;
//   - otherwise the referral is created and its transaction id stored at
//     once, then awaited.
func (r *outRun) sendPING(ctx context.Context, o *Outgoing, p mapping.Record) (bool, error) {
	ref := primeroReferralRef(o.Referral)
	st := r.cfg.State
	if tx, ok, err := st.LinkTo(ctx, linkPINGTx, ref, linkPINGTx); err != nil || ok {
		if err != nil {
			return false, err
		}
		return r.followPING(ctx, o, tx, false)
	}
	if _, ok, err := st.LinkTo(ctx, linkPINGUnconfirmed, ref, linkPINGUnconfirmed); err != nil || ok {
		if err != nil {
			return false, err
		}
		return r.unconfirmedPING(ctx, o, p)
	}
	if err := r.intend(ctx, o); err != nil {
		return false, err
	}
	// The referral is marked unconfirmed before the Create and the mark is
	// replaced by the transaction id after it: a process that stops in
	// between leaves it unconfirmed (never re-sent blindly), not unmarked.
	unconfirmed := sqlsink.Link{Kind: linkPINGUnconfirmed, From: ref, To: consent.RecordRef{System: linkPINGUnconfirmed, ID: o.Referral.ID}}
	if err := st.Update(ctx, r.name, func(tx sqlsink.StateTx) error { return tx.PutLink(ctx, unconfirmed) }); err != nil {
		return false, err
	}
	tx, err := r.cfg.PING.Referrals.Create(ctx, progres.PINGReferral{CaseID: o.Case.CaseID, RecordID: o.Case.ID, Fields: pingFields(r.m, p)})
	if err != nil {
		if mayHaveArrived(err) {
			// The ingestion may have been taken: never send it blindly again.
			return r.failed(ctx, o, "unconfirmed_send", err)
		}
		if uerr := st.Update(ctx, r.name, func(tx sqlsink.StateTx) error { return tx.DeleteLink(ctx, unconfirmed) }); uerr != nil {
			return false, uerr
		}
		return r.failed(ctx, o, "delivery", err)
	}
	if err := st.Update(ctx, r.name, func(stx sqlsink.StateTx) error {
		if err := stx.DeleteLink(ctx, unconfirmed); err != nil {
			return err
		}
		return stx.PutLink(ctx, sqlsink.Link{Kind: linkPINGTx, From: ref, To: consent.RecordRef{System: linkPINGTx, ID: tx}})
	}); err != nil {
		return false, err
	}
	return r.followPING(ctx, o, tx, true)
}

// followPING reads the result of the referral's async ingestion: waiting
// for it right after the send, checking once on later runs.
func (r *outRun) followPING(ctx context.Context, o *Outgoing, tx string, wait bool) (bool, error) {
	var st *progres.IngestionStatus
	var err error
	if wait {
		st, err = r.cfg.PING.Referrals.Wait(ctx, tx, r.cfg.Wait)
	} else {
		st, err = r.cfg.PING.Referrals.Status(ctx, tx)
	}
	switch {
	case errors.Is(err, progres.ErrIngestionPending) || (err == nil && !st.Ready):
		r.stats.Pending++
		return false, nil
	case err != nil:
		r.stats.Fail(o.Referral.ID, "ingestion_status", err)
		return false, nil
	}
	if ok, known := r.recordSucceeded(st, o); !known {
		r.stats.Fail(o.Referral.ID, "ingestion_result_unknown", errors.New("referral: PING's result names no outcome for the referral"))
		return false, nil
	} else if !ok {
		// PING refused the record: nothing was created, so the next run
		// may send it again.
		ref := primeroReferralRef(o.Referral)
		if err := r.cfg.State.Update(ctx, r.name, func(stx sqlsink.StateTx) error {
			return stx.DeleteLink(ctx, sqlsink.Link{Kind: linkPINGTx, From: ref, To: consent.RecordRef{System: linkPINGTx, ID: tx}})
		}); err != nil {
			return false, err
		}
		return r.failed(ctx, o, "ingestion_rejected", errors.New("referral: PING rejected the referral record"))
	}
	return r.delivered(ctx, o, o.Service.UniqueID, nil)
}

// recordSucceeded reads the per-record result of a one-record ingestion.
func (r *outRun) recordSucceeded(st *progres.IngestionStatus, o *Outgoing) (ok, known bool) {
	if len(st.Records) != 1 {
		return false, false
	}
	v, found := st.Records[0].Members[r.cfg.PINGStatusMember]
	s, isStr := v.(string)
	if !found || !isStr {
		return false, false
	}
	return strings.EqualFold(s, r.cfg.PINGSuccess), true
}

// unconfirmedPING handles a referral whose Create answer was lost.
func (r *outRun) unconfirmedPING(ctx context.Context, o *Outgoing, p mapping.Record) (bool, error) {
	if !r.cfg.PINGReadBack {
		r.stats.Fail(o.Referral.ID, "unconfirmed_send", errors.New("referral: a PING create's answer was lost; check proGres, then call Resend"))
		return false, nil
	}
	found, err := r.readBackPING(ctx, o.Service.UniqueID)
	if err != nil {
		r.stats.Fail(o.Referral.ID, "read_back", err)
		return false, nil
	}
	ref := primeroReferralRef(o.Referral)
	unconfirmed := sqlsink.Link{Kind: linkPINGUnconfirmed, From: ref, To: consent.RecordRef{System: linkPINGUnconfirmed, ID: o.Referral.ID}}
	if found {
		return r.delivered(ctx, o, o.Service.UniqueID, func(tx sqlsink.StateTx) error { return tx.DeleteLink(ctx, unconfirmed) })
	}
	if err := r.cfg.State.Update(ctx, r.name, func(tx sqlsink.StateTx) error { return tx.DeleteLink(ctx, unconfirmed) }); err != nil {
		return false, err
	}
	// Absent from a list that is known to show every referral: not made.
	return r.sendPING(ctx, o, p)
}

// readBackPING looks for a proGres referral made from the service in the
// decision list (SHP-2795, then SHP-2796 for each entry).
func (r *outRun) readBackPING(ctx context.Context, serviceUniqueID string) (bool, error) {
	for d, err := range r.cfg.PING.Decisions.List(ctx) {
		if err != nil {
			return false, err
		}
		det, err := r.cfg.PING.Decisions.Detail(ctx, d.ReferralID)
		if err != nil {
			return false, err
		}
		if det.ServiceUniqueID == serviceUniqueID {
			return true, nil
		}
	}
	return false, nil
}

// pingFields turns the mapped record into ingestion Fields, in the spec's
// rule order; absent targets are left out.
func pingFields(m *mapping.Mapping, p mapping.Record) []progres.Field {
	spec := m.Spec()
	out := make([]progres.Field, 0, len(spec.Rules))
	for _, rule := range spec.Rules {
		if v, ok := p[rule.Target]; ok && v != nil {
			out = append(out, progres.F(rule.Target, fmt.Sprint(v)))
		}
	}
	return out
}

// Resend clears the "unconfirmed" mark of a PING referral whose Create
// answer was lost, after a person checked in proGres that it was not
// created: the next run sends it again. referralID is the Primero
// referral's id (the key Stats.Errors reports).
func (o *Outbound) Resend(ctx context.Context, referralID string) error {
	ref := consent.RecordRef{System: "primero-referral", ID: referralID}
	return o.cfg.State.Update(ctx, o.name, func(tx sqlsink.StateTx) error {
		return tx.DeleteLink(ctx, sqlsink.Link{Kind: linkPINGUnconfirmed, From: ref, To: consent.RecordRef{System: linkPINGUnconfirmed, ID: referralID}})
	})
}
