package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// DecisionsInConfig configures the flow that applies proGres's decisions
// on Primero's referrals to those referrals in Primero.
type DecisionsInConfig struct {
	Common
	// Primero finds the case and referral and applies the decision.
	// Required.
	Primero *primero.Client
	// PING, when set, makes this the PING flow: RunOnce polls the decision
	// list and marks what it applied synced. Without it this is the DTP
	// flow: DTP pushes the decisions to HandlerOption's callbacks, which
	// answer in the push's reply, so the flow needs no DTP client (unlike
	// the three others, which send through it).
	PING *progres.PINGClient
	// Spec is the decision spec; nil means the embedded SpecDecisionIn.
	Spec *mapping.Mapping
	// Recipient is the Primero user_name the referrals were made to (the
	// UNHCR user). Required.
	Recipient string
	// From is the partner deciding. Default {progres, unhcr}: decisions on
	// cases blocked for it by a consent revocation are not applied.
	From consent.Party
	// SyncedComment is the comment sent with PING's "synced" mark.
	// Default "Synced with Primero".
	SyncedComment string
}

// DecisionsIn applies proGres decisions to Primero referrals: flows 2-3
// (DTP, pushed) and 2.2 (PING, polled) of the earlier integration. For
// each decision it finds the case by case_id and the referral to the
// Recipient by its service (DTP: the composite key's suffix; PING: the
// full service unique_id), maps the decision through the spec, and
// accepts or rejects the referral in Primero, checking the move against
// Status.Next and Primero's answer (which is a silent 200 on an illegal
// move, pitfall 32).
//
// A decision already applied is Unchanged (a re-delivery): that, not a
// store of its own, is what makes applying a decision exactly-once, since
// Primero's referral status is the state. An unknown case or referral, a
// move the state machine refuses, or a Primero failure is an error back to
// proGres (DTP: the item's failed result, so DTP delivers it again; PING:
// not marked synced, so it is read again) and a Stats.Fail with its code
// (CodeUnknownCase, CodeUnknownReferral, CodeAmbiguousMatch,
// CodeInvalidTransition, CodePrimero); never a silent skip (pitfalls 13,
// 31). A decision on a case blocked by a consent revocation is not applied
// (Stats.Denied consent_revoked, audited) and is acknowledged.
//
// Only the decisions applied (or found applied, or denied) are marked
// synced on PING, in one SHP-2284 ingestion at the end of the run; if that
// answer is lost they are read again next run, found Unchanged and marked
// then.
//
// The DTP flow's audit trail is written by the handler's callbacks: serve
// a flow's inbound handler from one process.
type DecisionsIn struct {
	cfg    DecisionsInConfig
	name   string
	side   PrimeroSide
	m      *mapping.Mapping
	trails trails

	mu      sync.Mutex
	pending Stats // DTP: what the callbacks did since the last RunOnce
}

// NewDecisionsIn checks the configuration and returns the flow, named
// "progres-decisions-dtp" or "progres-decisions-ping".
func NewDecisionsIn(cfg DecisionsInConfig) (*DecisionsIn, error) {
	name := FlowProgresDecisionsDTP
	if cfg.PING != nil {
		name = FlowProgresDecisionsPING
	}
	if err := cfg.check(name); err != nil {
		return nil, err
	}
	if cfg.From == (consent.Party{}) {
		cfg.From = consent.Party{System: "progres", Agency: "unhcr"}
	}
	if cfg.SyncedComment == "" {
		cfg.SyncedComment = "Synced with Primero"
	}
	d := &DecisionsIn{cfg: cfg, name: name, m: cfg.Spec,
		side: PrimeroSide{Client: cfg.Primero, Recipient: cfg.Recipient, Agency: "-"}}
	if err := d.side.check(name); err != nil {
		return nil, err
	}
	if d.m == nil {
		m, err := Spec(SpecDecisionIn)
		if err != nil {
			return nil, err
		}
		d.m = m
	}
	return d, nil
}

// Name returns the flow's name.
func (d *DecisionsIn) Name() string { return d.name }

// decisionIn is one proGres decision, from either gateway.
type decisionIn struct {
	id      string // proGres's interoperability referral id
	caseID  string // Primero case_id
	matches func(serviceRecordID string) bool
	status  Status
	reason  string // the rejection reason's label
	comment string
}

// HandlerOption is progres.OnDecision(d.OnDecision) together with
// progres.OnInvalidDecision(d.OnInvalidDecision), for progres.NewHandler.
// A PING flow has nothing to mount: its option fails.
func (d *DecisionsIn) HandlerOption() progres.HandlerOption {
	return func(h *progres.Handler) error {
		if d.cfg.PING != nil {
			return errNoInbound(d.name)
		}
		if err := progres.OnDecision(d.OnDecision)(h); err != nil {
			return err
		}
		return progres.OnInvalidDecision(d.OnInvalidDecision)(h)
	}
}

// OnInvalidDecision is the DTP callback for a decision item refused for its
// own data (an unknown code, a malformed key): pass it to
// progres.OnInvalidDecision. Nothing is applied in Primero. The refusal is
// audited and counted once per delivery key (Stats code invalid_item), and
// the item is reported to DTP as not answered (the handler's 422): DTP has
// no channel to tell proGres more, and the sender must fix the item.
func (d *DecisionsIn) OnInvalidDecision(ctx context.Context, del progres.InvalidDelivery) error {
	var s Stats
	s.Received++
	defer func() {
		d.mu.Lock()
		d.pending = d.pending.Add(s)
		d.mu.Unlock()
	}()
	ref, _ := referralRef("progres-decision", del.ReferralID, "item:"+string(del.Key))
	key := "invalid:" + string(del.Key)
	done, err := d.cfg.State.Processed(ctx, d.name, key)
	if err != nil {
		s.Fail(ref.ID, "state", err)
		return err
	}
	unanswered := fmt.Errorf("referral: %s: %w", d.name, progres.ErrNotAnswered)
	if done {
		s.Unchanged++
		return unanswered
	}
	d.cfg.log().LogAttrs(ctx, slog.LevelWarn, "referral decision item invalid", slog.String("flow", d.name),
		slog.String("referral", ref.ID), slog.Any("paths", fieldPaths(del.Err)))
	tr, err := d.trails.trail(ctx, &d.cfg.Common, d.name)
	if err != nil {
		s.Fail(ref.ID, "state", err)
		return err
	}
	if _, err := tr.Append(ctx, consent.DeliveryEvent(d.name, ref, d.cfg.Policy.Sender(), d.cfg.Policy, d.m.Hash(), consent.OutcomeFailed, codeInvalidItem)); err != nil {
		s.Fail(ref.ID, "state", err)
		return err
	}
	if err := d.cfg.State.Update(ctx, d.name, func(tx sqlsink.StateTx) error {
		_, err := tx.MarkProcessed(ctx, key)
		return err
	}); err != nil {
		s.Fail(ref.ID, "state", err)
		return err
	}
	s.Fail(ref.ID, codeInvalidItem, del.Err)
	return unanswered
}

// OnDecision is the DTP callback: pass it to progres.OnDecision. It
// applies one pushed decision; its error makes the handler report the
// item failed, so that DTP delivers it again.
func (d *DecisionsIn) OnDecision(ctx context.Context, del progres.Delivery[*progres.IncomingReferralDecision]) error {
	it := del.Item
	dec := decisionIn{id: it.ReferralID, caseID: it.OrgReferralID.CaseID, matches: it.OrgReferralID.MatchesService,
		reason: it.RejectionReason.String(), comment: it.RejectionComment}
	switch it.ReviewDecision {
	case progres.DecisionAccepted:
		dec.status = Accepted
	case progres.DecisionRejected:
		dec.status = Rejected
	}
	var s Stats
	s.Received++
	err := d.apply(ctx, dec, &s)
	d.mu.Lock()
	d.pending = d.pending.Add(s)
	d.mu.Unlock()
	return err
}

// RunOnce polls PING's decision list (the PING flow), or reports what the
// DTP callbacks did since the previous RunOnce (the DTP flow).
func (d *DecisionsIn) RunOnce(ctx context.Context) (Stats, error) {
	if d.cfg.PING == nil {
		d.mu.Lock()
		s := d.pending
		d.pending = Stats{}
		d.mu.Unlock()
		s.Flow = d.name
		return s, nil
	}
	s := Stats{Flow: d.name}
	var synced []string
	var listErr error
	for sum, err := range d.cfg.PING.Decisions.List(ctx) {
		var rowErr *progres.RowError
		if errors.As(err, &rowErr) {
			// One unreadable row is reported; the others are applied.
			s.Fail(rowKey(rowErr), codeInvalidRow, err)
			continue
		}
		if err != nil {
			listErr = err
			break
		}
		if sum.Status == progres.InteropSynced {
			continue
		}
		s.Received++
		det, err := d.cfg.PING.Decisions.Detail(ctx, sum.ReferralID)
		if err != nil {
			s.Fail(sum.ReferralID, "decision_detail", err)
			continue
		}
		dec := decisionIn{id: sum.ReferralID, caseID: det.CaseID, reason: det.RejectionReasonName, comment: det.RejectionComment,
			matches: func(id string) bool { return id == det.ServiceUniqueID }}
		switch det.Status {
		case progres.InteropAccepted0, progres.InteropAccepted:
			dec.status = Accepted
		case progres.InteropRejected:
			dec.status = Rejected
		}
		if d.apply(ctx, dec, &s) == nil {
			synced = append(synced, sum.ReferralID)
		}
	}
	if len(synced) > 0 {
		if err := d.cfg.PING.Decisions.MarkSynced(ctx, synced, d.cfg.SyncedComment); err != nil {
			return s, errors.Join(listErr, err)
		}
	}
	d.cfg.log().InfoContext(ctx, "referral decisions run", "stats", s)
	return s, listErr
}

// apply applies one decision, counting and auditing what happened. A nil
// result means proGres may consider it delivered (applied, already
// applied, or denied by a revocation).
func (d *DecisionsIn) apply(ctx context.Context, dec decisionIn, s *Stats) error {
	tr, err := d.trails.trail(ctx, &d.cfg.Common, d.name)
	if err != nil {
		s.Fail(dec.id, "state", err)
		return err
	}
	to := d.cfg.Policy.Sender()
	if rs := d.cfg.Policy.Receivers(); len(rs) > 0 && rs[0].System == "primero" {
		to = rs[0]
	}
	// An event that cannot be stored fails the decision (after what it
	// reports has happened): proGres then delivers it again, and Primero's
	// status makes the repeat Unchanged.
	var auditErr error
	event := func(ref consent.RecordRef, outcome string, reasons ...string) {
		if _, err := tr.Append(ctx, consent.DeliveryEvent(d.name, ref, to, d.cfg.Policy, d.m.Hash(), outcome, reasons...)); err != nil && auditErr == nil {
			auditErr = err
		}
	}
	decRef := consent.RecordRef{System: "progres-decision", ID: dec.id}
	if dec.status == "" {
		s.Fail(dec.id, "unknown_decision", errors.New("referral: the decision is neither accepted nor rejected"))
		event(decRef, consent.OutcomeFailed, "unknown_decision")
		return decisionErr("unknown_decision", nil)
	}
	c, r, err := d.side.FindReferral(ctx, dec.caseID, dec.matches)
	if err != nil {
		code := decisionCode(err)
		s.Fail(dec.id, code, err)
		event(decRef, consent.OutcomeFailed, code)
		return err
	}
	ref := primeroReferralRef(r)
	blocked, err := Blocked(ctx, d.cfg.State, consent.RecordRef{System: "primero", ID: c.ID}, d.cfg.From)
	if err != nil {
		s.Fail(dec.id, "state", err)
		return err
	}
	if blocked {
		dd := consent.Decision{Reasons: []consent.Reason{consent.ReasonConsentRevoked}, PolicyID: d.cfg.Policy.ID(), PolicyHash: d.cfg.Policy.Hash()}
		s.Deny(dd.Reasons)
		_, err := tr.Append(ctx, consent.DecisionEvent(d.name, ref, to, dd, d.m.Hash()))
		return err
	}
	out, err := d.m.Apply(ctx, mapping.Record{"decision": string(dec.status), "reason": nilIfEmpty(dec.reason), "comment": nilIfEmpty(dec.comment)})
	if err != nil {
		s.Fail(dec.id, "mapping", err)
		event(ref, consent.OutcomeFailed, "mapping")
		return decisionErr("mapping", err)
	}
	reason, _ := out["rejected_reason"].(string)
	event(ref, consent.OutcomeIntended, "status:"+string(dec.status))
	err = d.side.ApplyDecision(ctx, c, r, dec.status, reason)
	switch {
	case errors.Is(err, ErrUnchanged):
		s.Unchanged++
		return auditErr
	case err != nil:
		code := decisionCode(err)
		s.Fail(dec.id, code, err)
		event(ref, consent.OutcomeFailed, code, errClass(err))
		return err
	}
	if err := d.cfg.State.Update(ctx, d.name, func(tx sqlsink.StateTx) error {
		_, err := tx.MarkProcessed(ctx, "decision:"+r.ID+":"+string(dec.status))
		return err
	}); err != nil {
		s.Fail(dec.id, "state", err)
		return err
	}
	s.Decided++
	event(ref, consent.OutcomeDelivered, "status:"+string(dec.status))
	// The referral as decided: its status moved on the state machine
	// (ApplyDecision checked the move), with proGres's id for it.
	o := outgoing(c, r)
	rr := o.AsReferral()
	if err := rr.Move(dec.status, reason); err == nil {
		rr.IDs["progres"] = dec.id
		d.cfg.observe(ctx, d.name, rr)
	}
	return auditErr
}

// decisionCode is the code of a *DecisionError, CodePrimero otherwise.
func decisionCode(err error) string {
	var de *DecisionError
	if errors.As(err, &de) {
		return de.Code
	}
	return CodePrimero
}

// nilIfEmpty maps "" to nil, which the spec reads as missing.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
