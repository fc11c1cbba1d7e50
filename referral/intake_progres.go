package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// Flow names of the proGres intakes.
const (
	FlowIntakeDTP  = "progres-intake-dtp"
	FlowIntakePING = "progres-intake-ping"
)

// Delivery-failure texts sent to proGres (closure_reason) for the codes
// the proGres package has no text for. Fixed texts: no value of the
// referral is ever echoed.
const (
	reasonConsent   = "The referral carries no consent to share with Primero. Record the consent in proGres and send the referral again."
	reasonAmbiguous = "Several Primero cases carry this UNHCR individual number. A person must resolve the duplicate in Primero before the referral can be delivered."
	reasonScope     = "The Primero case for this individual cannot be read by the integration. Ask the Primero administrator to check the integration user's access."
)

// closureReason is the closure_reason of a Delivery Fail for code.
func closureReason(code string) string {
	switch code {
	case codeMissingFields:
		return progres.ReasonMissingFields
	case codeServiceType:
		return progres.ReasonServiceType
	case codeConsent:
		return reasonConsent
	case codeAmbiguous:
		return reasonAmbiguous
	case codeCaseOutOfScope:
		return reasonScope
	}
	return progres.ReasonInvalidData
}

// progresRef is the referral's identity: its intervention number.
func progresRef(number string) consent.RecordRef {
	return consent.RecordRef{System: "progres", ID: number}
}

// DTPIntakeConfig configures the intake of the referrals DTP pushes.
type DTPIntakeConfig struct {
	IntakeConfig
	// DTP sends the delivery feedback (ReceiveDecisionOutgoingReferral).
	// Required.
	DTP *progres.DTPClient
}

// DTPIntake receives proGres referrals pushed by DTP (flow 1-1) and
// answers each intervention with its delivery feedback (1-3 / 1-4).
// Mount it with progres.NewHandler(..., intake.HandlerOption()).
//
// For each pushed item, OnReferral maps it with the spec, gates it with
// the policy, finds the child's case by UNHCR individual number (none:
// creates it, owned by the intake user; one: adds the service and fills
// what is missing; several: does not guess), and sends the feedback once
// per intervention: "Pending Acknowledgement" with the Primero case_id and
// owner, or "Delivery Fail" with a reason. It returns nil only once the
// item is durably handled (case written, state committed, feedback sent),
// so the Handler's per-item answer makes DTP deliver again exactly what
// did not go through.
//
// An intervention with several languages arrives as several items: each
// adds its language to the case, the service row is the same one, and the
// feedback goes once.
//
// DTP has no read API: when DTP's answer to a feedback is lost, the item
// is handled again on re-delivery and the feedback sent again with the
// same body, which proGres applies as a status set. One process should
// serve the inbound endpoint (the flow's audit trail has one writer).
type DTPIntake struct {
	core *intakeCore
	dtp  *progres.DTPClient
	mu   sync.Mutex // one item at a time: ordered rows, one trail writer
}

// NewDTPIntake validates cfg and returns the flow (FlowIntakeDTP).
func NewDTPIntake(cfg DTPIntakeConfig) (*DTPIntake, error) {
	if cfg.DTP == nil {
		return nil, fmt.Errorf("referral: %s: DTP is required", FlowIntakeDTP)
	}
	core, err := newIntakeCore(FlowIntakeDTP, progresSource, cfg.IntakeConfig, SpecIntakeDTP)
	if err != nil {
		return nil, err
	}
	return &DTPIntake{core: core, dtp: cfg.DTP}, nil
}

// Name returns FlowIntakeDTP.
func (f *DTPIntake) Name() string { return FlowIntakeDTP }

// HandlerOption is progres.OnReferral(f.OnReferral).
func (f *DTPIntake) HandlerOption() progres.HandlerOption { return progres.OnReferral(f.OnReferral) }

// RunOnce returns what the pushes did since the last call (the flow has
// nothing to poll: DTP pushes). It lets a Runner report the intake with
// the polling flows.
func (f *DTPIntake) RunOnce(context.Context) (Stats, error) { return f.core.takeStats(), nil }

// OnReferral handles one pushed item; see DTPIntake.
func (f *DTPIntake) OnReferral(ctx context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.core
	c.count(func(s *Stats) { s.Received++ })
	it := d.Item
	if it == nil {
		return errors.New("referral: nil referral item")
	}
	number := it.InterventionNumber
	ref, ok := referralRef("progres", number, string(d.Key))
	itemKey := "item:" + string(d.Key)
	if done, err := c.cfg.State.Processed(ctx, c.flow, itemKey); err != nil {
		c.count(func(s *Stats) { s.Fail(number, codeState, err) })
		return err
	} else if done {
		c.count(func(s *Stats) { s.Unchanged++ })
		return nil
	}
	agency := it.BusinessUnit
	if it.UserPartner != nil && it.UserPartner.Name != "" {
		agency = it.UserPartner.Name
	}
	item := intakeItem{Ref: ref, Person: it.IndividualID, Agency: agency, Rows: []mapping.Record{it.Record()}}
	var out intakeOutcome
	var err error
	if !ok {
		// A number no key can hold: refused before anything is written,
		// audited under the delivery's key.
		out, err = c.refuse(ctx, item, codeInvalidData)
	} else {
		out, err = c.deliver(ctx, item)
	}
	if err != nil {
		c.count(func(s *Stats) { s.Fail(ref.ID, codePrimero, err) })
		return err
	}
	return f.answer(ctx, number, ref.ID, itemKey, out)
}

// answer sends the intervention's feedback unless it was sent, then marks
// the item handled. Delivered feedback goes once per intervention; a
// failure is answered once per item and outcome.
func (f *DTPIntake) answer(ctx context.Context, number, refID, itemKey string, out intakeOutcome) error {
	c := f.core
	fedKey := "fed:" + refID
	var fb *progres.Feedback
	marks := []string{itemKey}
	if out.failed() {
		c.countFailure(refID, out)
		failKey := itemKey + ":failed:" + out.Code
		for _, k := range []string{fedKey, failKey} {
			done, err := c.cfg.State.Processed(ctx, c.flow, k)
			if err != nil {
				return err
			}
			if done {
				return nil // answered already: delivered, or this very failure
			}
		}
		fb = progres.DeliveryFailed(number, closureReason(out.Code))
		marks = []string{failKey}
	} else {
		done, err := c.cfg.State.Processed(ctx, c.flow, fedKey)
		if err != nil {
			return err
		}
		if !done {
			fb = progres.Delivered(number, out.CaseID, out.Owner)
			marks = append(marks, fedKey)
		}
	}
	if fb != nil {
		if err := f.sendFeedback(ctx, refID, fb); err != nil {
			return err
		}
	}
	return c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
		for _, k := range marks {
			if _, err := tx.MarkProcessed(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// countFailure counts a permanent failure; a consent denial is counted
// in Stats.Denied (by deliver) and not again as a failure.
func (c *intakeCore) countFailure(number string, out intakeOutcome) {
	if out.Code != codeConsent {
		c.count(func(s *Stats) { s.Fail(number, out.Code, errors.New("referral: "+out.Code)) })
	}
}

// sendFeedback sends one feedback body, audited as a delivery to proGres
// about the referral refID.
func (f *DTPIntake) sendFeedback(ctx context.Context, refID string, fb *progres.Feedback) error {
	return f.core.feedback(ctx, refID, func() error { return f.dtp.Feedback.Send(ctx, fb) })
}

// feedback runs send (one answer to the source system about the referral
// number), audited before and after, and counts it.
func (c *intakeCore) feedback(ctx context.Context, number string, send func() error) error {
	tr, err := c.trails.trail(ctx, &c.cfg.Common, c.flow)
	if err != nil {
		return err
	}
	ref := progresRef(number)
	to := c.cfg.Policy.Sender()
	if _, err := tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, to, c.cfg.Policy, c.m.Hash(), consent.OutcomeIntended, codeFeedback)); err != nil {
		return fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	if err := send(); err != nil {
		c.cfg.log().LogAttrs(ctx, slog.LevelWarn, "referral feedback not sent", slog.String("flow", c.flow),
			slog.String("referral", number), slog.String("error", err.Error()))
		_, _ = tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, to, c.cfg.Policy, c.m.Hash(), consent.OutcomeFailed, codeFeedback))
		c.count(func(s *Stats) { s.Fail(number, codeFeedback, err) })
		return fmt.Errorf("referral: %s: feedback: %w", c.flow, err)
	}
	if _, err := tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, to, c.cfg.Policy, c.m.Hash(), consent.OutcomeDelivered, codeFeedback)); err != nil {
		return fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	c.count(func(s *Stats) { s.Sent++ })
	return nil
}

// PINGIntakeConfig configures the intake of the referrals PING lists.
type PINGIntakeConfig struct {
	IntakeConfig
	// PING reads the pending interventions and sets their transfer status.
	// Required.
	PING *progres.PINGClient
}

// PINGIntake polls PING for proGres referrals (flow 1.1): the pending list
// (SHP-2747), each intervention's detail rows (SHP-2358, one per language
// or specific need, grouped here and their languages collected), then the
// same Primero write as DTPIntake, and for each intervention delivered one
// transfer-status update "Pending" with the Primero case_id and owner
// (SHP-2748), which takes it off the pending list.
//
// PING has no failure status for an intervention (none is known;
// unconfirmed): one that cannot be delivered stays pending, is reported in
// Stats.Errors and the audit trail on every run, and is delivered once it
// is fixed. One whose status update fails is delivered again next run
// (writing nothing new) and its status sent again.
type PINGIntake struct {
	core *intakeCore
	ping *progres.PINGClient
}

// NewPINGIntake validates cfg and returns the flow (FlowIntakePING).
func NewPINGIntake(cfg PINGIntakeConfig) (*PINGIntake, error) {
	if cfg.PING == nil {
		return nil, fmt.Errorf("referral: %s: PING is required", FlowIntakePING)
	}
	core, err := newIntakeCore(FlowIntakePING, progresSource, cfg.IntakeConfig, SpecIntakePING)
	if err != nil {
		return nil, err
	}
	return &PINGIntake{core: core, ping: cfg.PING}, nil
}

// Name returns FlowIntakePING.
func (f *PINGIntake) Name() string { return FlowIntakePING }

// RunOnce reads the whole pending list first (setting a status takes an
// intervention off the list, which would shift the pages being read), then
// delivers each intervention. A failure of one intervention is counted and
// the next one tried; the run fails only when PING cannot be read or ctx
// ends.
func (f *PINGIntake) RunOnce(ctx context.Context) (Stats, error) {
	c := f.core
	c.takeStats() // this run's stats only
	var pending []*progres.PendingIntervention
	for p, err := range f.ping.Interventions.Pending(ctx) {
		if err != nil {
			return c.takeStats(), fmt.Errorf("referral: %s: pending list: %w", c.flow, err)
		}
		pending = append(pending, p)
	}
	for _, p := range pending {
		if err := ctx.Err(); err != nil {
			return c.takeStats(), err
		}
		if err := f.one(ctx, p); err != nil && ctx.Err() != nil {
			return c.takeStats(), err
		}
	}
	return c.takeStats(), nil
}

// one delivers one pending intervention and sets its transfer status.
func (f *PINGIntake) one(ctx context.Context, p *progres.PendingIntervention) error {
	c := f.core
	rows, err := f.ping.Interventions.Detail(ctx, p.LPInterventionID)
	if err != nil {
		c.count(func(s *Stats) { s.Fail(p.InterventionNumber, "progres", err) })
		return err
	}
	for _, g := range groupRows(rows) {
		c.count(func(s *Stats) { s.Received++ })
		first := g[0]
		if first.LPInterventionID != "" && first.LPInterventionID != p.LPInterventionID {
			// The detail answered rows of another intervention: the status
			// update below names the pending one, so these are not ours.
			c.count(func(s *Stats) {
				s.Fail(p.LPInterventionID, codeInvalidData, errors.New("referral: detail rows of another intervention"))
			})
			continue
		}
		recs := make([]mapping.Record, len(g))
		for i, r := range g {
			recs[i] = r.Record()
		}
		number := first.InterventionNumber
		ref, ok := referralRef("progres", number, p.LPInterventionID)
		if !ok || !isKey(p.LPInterventionID) {
			c.count(func(s *Stats) {
				s.Fail(ref.ID, codeInvalidData, errors.New("referral: intervention ids are not identifiers"))
			})
			continue
		}
		out, err := c.deliver(ctx, intakeItem{Ref: ref, Person: first.IndividualID, Agency: first.BusinessUnit, Rows: recs})
		if err != nil {
			c.count(func(s *Stats) { s.Fail(number, codePrimero, err) })
			return err
		}
		if out.failed() {
			c.countFailure(number, out)
			continue
		}
		unit := first.BusinessUnit
		if unit == "" {
			unit = p.BusinessUnit
		}
		if err := c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
			return putPINGIntervention(ctx, tx, number, p.LPInterventionID, unit)
		}); err != nil {
			c.count(func(s *Stats) { s.Fail(number, codeState, err) })
			return err
		}
		up := progres.TransferUpdate{CaseID: out.CaseID, LPInterventionID: p.LPInterventionID, BusinessUnit: unit,
			Status: progres.TransferPending, Date: c.cfg.now().Format(time.DateOnly), PrimeroCaseworker: out.Owner}
		if err := c.feedback(ctx, number, func() error { return f.ping.Interventions.SetTransferStatus(ctx, up) }); err != nil {
			return err
		}
		if err := c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
			_, err := tx.MarkProcessed(ctx, "fed:"+number)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// groupRows groups detail rows by intervention number, in first-seen
// order: the rows of one intervention differ only in their language or
// specific need.
func groupRows(rows []*progres.InterventionRow) [][]*progres.InterventionRow {
	idx := map[string]int{}
	var out [][]*progres.InterventionRow
	for _, r := range rows {
		i, ok := idx[r.InterventionNumber]
		if !ok {
			i = len(out)
			idx[r.InterventionNumber] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}
