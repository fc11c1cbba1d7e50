package referral

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// OutboundConfig configures the flow that sends Primero referrals to UNHCR
// (proGres), through DTP or PING.
type OutboundConfig struct {
	Common
	// Primero reads the changed cases, their referrals and their owners,
	// and revokes referrals when consent is withdrawn. Required.
	Primero *primero.Client
	// DTP or PING (exactly one) is the gateway the referrals go through.
	DTP  *progres.DTPClient
	PING *progres.PINGClient
	// Spec is the outbound spec; nil means the embedded one for the
	// gateway (SpecReferralDTP or SpecReferralPING).
	Spec *mapping.Mapping
	// Recipient is the Primero user_name caseworkers refer UNHCR's cases
	// to. Required.
	Recipient string
	// ImplementingAgency is the service_implementing_agency the referred
	// service must name. Default "UNHCR".
	ImplementingAgency string
	// To is the receiving party in the policy. Default {progres, unhcr}.
	To consent.Party
	// Purpose is the purpose asked of the policy. Default: the policy's.
	Purpose string
	// Start is where the first run reads changes from, when no cursor is
	// stored. Without either the flow refuses to run (ErrNoCursor).
	Start time.Time
	// OnRevocation tells the partner that consent was withdrawn on a case
	// it received. It must be set when the policy's revocation action
	// notifies (revoke_and_notify, notify). An error is retried on the
	// next run; it must therefore be safe to call again.
	OnRevocation func(context.Context, consent.Revocation) error
	// Wait bounds how long a run waits for PING's result of each async
	// ingestion (default: 1s first interval, 20s in all). A result not
	// there yet is checked again on the next run, never re-sent.
	Wait progres.WaitOptions
	// PINGReadBack says that this proGres installation lists a referral
	// made by async ingestion in the decision list (SHP-2795) as soon as
	// it exists (unconfirmed; off by default). With it, a referral whose
	// Create answer was lost is looked for there and re-sent only when it
	// is absent. Without it such a referral is never re-sent
	// automatically: each run reports it (code "unconfirmed_send") until a
	// person checks proGres and calls Outbound.Resend.
	PINGReadBack bool
	// PINGStatusMember and PINGSuccess say how a per-record checkstatus
	// result reports success (member names are not public, unconfirmed):
	// default member "Status", value "Success".
	PINGStatusMember, PINGSuccess string
}

// Outbound is the flow that sends Primero referrals to UNHCR: flows 2-1/2-2
// (DTP) and 2.1 (PING) of the earlier integration, with the defects of
// pitfalls 9, 12, 13, 25, 28 and 38 fixed. Each run
//
//  1. reads the cases changed since its cursor (a Primero watermark);
//  2. for each case, checks first whether consent was withdrawn after the
//     case was shared with UNHCR (see "Revocation" below);
//  3. selects the case's in_progress referrals to the Recipient user whose
//     service names ImplementingAgency, gates each through the policy
//     (only the need-to-know fields pass), maps what passed with the
//     spec, adds the case owner's contact details (from Primero's users;
//     a missing one refuses the referral, never a placeholder, pitfall 25),
//     and sends one body per service;
//  4. marks each referral processed right after proGres took it, and moves
//     the cursor over a case once everything of it is done.
//
// A referral that fails (gateway down, owner without contact details,
// unmapped value) is reported in Stats with a code and holds the cursor:
// later cases are still processed, and the failed one is tried again on
// every run until it passes (the cases after it are re-read and found
// processed). Nothing is skipped silently (pitfall 31).
//
// # Exactly once
//
// DTP has no read API. A referral is marked processed after DTP's 2xx; if
// the answer is lost, the next run sends the same body again with the
// same id (the composite key). The guarantee that proGres then holds one
// referral rests on proGres keeping referrals by that id (unconfirmed);
// casebridge guarantees the same id and body, and that a referral DTP
// answered is never sent again.
//
// PING answers an async ingestion with an SPHTransactionId, stored at once;
// the result is awaited (Wait) and, when not there yet, checked on the
// next run instead of re-sending. A Create whose answer was lost (no
// transaction id) is recorded as unconfirmed and handled as PINGReadBack
// says.
//
// # Revocation
//
// Every case shared with UNHCR is recorded (RecordShared) before the send.
// When a changed case's consent no longer holds, the flow, once per case
// and recipient: records the revocation in the audit trail and blocks the
// case (Blocked: no flow sends anything further about it, no decision on
// it is applied); then, as the policy's action says, revokes the Primero
// referrals of the case to Recipient (Primero refuses that with 422 once the consent
// fields are cleared unless the policy names a revoked_field set before
// clearing them: the refusal is audited and reported once, not retried)
// and calls OnRevocation (retried on later runs until it succeeds).
type Outbound struct {
	cfg    OutboundConfig
	name   string
	side   PrimeroSide
	m      *mapping.Mapping
	trails trails
}

// NewOutbound checks the configuration and returns the flow, named
// "primero-referrals-dtp" or "primero-referrals-ping".
func NewOutbound(cfg OutboundConfig) (*Outbound, error) {
	name, spec := FlowReferralsDTP, SpecReferralDTP
	if cfg.PING != nil {
		name, spec = FlowReferralsPING, SpecReferralPING
	}
	if err := oneGateway(name, cfg.DTP, cfg.PING); err != nil {
		return nil, err
	}
	if err := cfg.check(name); err != nil {
		return nil, err
	}
	if cfg.ImplementingAgency == "" {
		cfg.ImplementingAgency = "UNHCR"
	}
	if cfg.To == (consent.Party{}) {
		cfg.To = consent.Party{System: "progres", Agency: "unhcr"}
	}
	if cfg.Purpose == "" {
		cfg.Purpose = cfg.Policy.Purpose()
	}
	if cfg.PINGStatusMember == "" {
		cfg.PINGStatusMember = "Status"
	}
	if cfg.PINGSuccess == "" {
		cfg.PINGSuccess = "Success"
	}
	if cfg.Wait == (progres.WaitOptions{}) {
		cfg.Wait = progres.WaitOptions{Interval: time.Second, Timeout: 20 * time.Second}
	}
	switch cfg.Policy.RevocationAction() {
	case consent.RevokeAndNotify, consent.NotifyOnly:
		if cfg.OnRevocation == nil {
			return nil, fmt.Errorf("referral: %s: OnRevocation is required: the policy's revocation action notifies the recipient", name)
		}
	}
	o := &Outbound{cfg: cfg, name: name, m: cfg.Spec,
		side: PrimeroSide{Client: cfg.Primero, Recipient: cfg.Recipient, Agency: cfg.ImplementingAgency}}
	if err := o.side.check(name); err != nil {
		return nil, err
	}
	if o.m == nil {
		m, err := Spec(spec)
		if err != nil {
			return nil, err
		}
		o.m = m
	}
	return o, nil
}

// Name returns the flow's name.
func (o *Outbound) Name() string { return o.name }

// run is the state of one RunOnce.
type outRun struct {
	*Outbound
	tr    *consent.Trail
	stats *Stats
}

// RunOnce reads the cases changed since the cursor and sends their new
// referrals (see Outbound).
func (o *Outbound) RunOnce(ctx context.Context) (Stats, error) {
	stats := Stats{Flow: o.name}
	st := o.cfg.State
	wm, err := loadWatermark(ctx, st, o.name, o.cfg.Start)
	if err != nil {
		return stats, err
	}
	tr, err := o.trails.trail(ctx, &o.cfg.Common, o.name)
	if err != nil {
		return stats, err
	}
	r := &outRun{Outbound: o, tr: tr, stats: &stats}
	feed := o.cfg.Primero.Cases.Changes(&primero.ChangesOptions{Since: wm})
	held := false
	stored := wm.String()
	for c, err := range feed.All(ctx) {
		if err != nil {
			return stats, err
		}
		stats.Received++
		done, err := r.handleCase(ctx, c)
		if err != nil {
			return stats, err
		}
		held = held || !done
		if held {
			continue
		}
		if next := feed.Watermark().String(); next != stored {
			if err := st.Update(ctx, o.name, func(tx sqlsink.StateTx) error { return tx.SetCursor(ctx, next) }); err != nil {
				return stats, err
			}
			stored = next
		}
	}
	o.cfg.log().InfoContext(ctx, "referral outbound run", "stats", stats)
	return stats, ctx.Err()
}

// handleCase acts on one changed case. done is false when something of it
// is left for a later run (a failure, a result not there yet); err is a
// failure of the state store or the audit trail, which ends the run.
func (r *outRun) handleCase(ctx context.Context, c *primero.Case) (done bool, err error) {
	caseRef := consent.RecordRef{System: "primero", ID: c.ID}
	rec := c.ToRecord()
	lookup := SharedLookup{State: r.cfg.State, Recipients: []consent.Party{r.cfg.To}}
	revs, err := r.cfg.Policy.LookupRevocations(ctx, caseRef, rec, lookup, r.cfg.now())
	if err != nil {
		return false, err
	}
	blocked, err := Blocked(ctx, r.cfg.State, caseRef, r.cfg.To)
	if err != nil {
		return false, err
	}
	if len(revs) == 0 && blocked {
		// Consent was given again after a withdrawal whose steps may not
		// all have succeeded: they are still owed (the block stays).
		if revs, err = r.resumeRevocations(ctx, caseRef, lookup); err != nil {
			return false, err
		}
	}
	var outs []Outgoing
	if len(revs) > 0 || r.mayHaveReferrals(c) {
		if outs, err = r.side.ReferralsTo(ctx, c); err != nil {
			r.stats.Fail(c.ID, CodePrimero, err)
			return false, nil
		}
	}
	done = true
	if len(revs) > 0 {
		if done, err = r.revoke(ctx, c, outs, revs); err != nil {
			return false, err
		}
		blocked = true
	}
	for i := range outs {
		if outs[i].Referral.Status != primero.ReferralInProgress {
			continue
		}
		ok, err := r.sendOne(ctx, &outs[i], rec, blocked)
		if err != nil {
			return false, err
		}
		done = done && ok
	}
	return done, nil
}

// mayHaveReferrals reports whether the case can hold a referral to the
// recipient: Primero adds the recipient to assigned_user_names when it is
// referred, and the referred service names the agency. Other cases are not
// asked for their referrals.
func (r *outRun) mayHaveReferrals(c *primero.Case) bool {
	if slices.Contains(c.AssignedUserNames, r.cfg.Recipient) || slices.Contains(c.AssociatedUserNames, r.cfg.Recipient) {
		return true
	}
	return slices.ContainsFunc(c.Services, func(s primero.Service) bool { return s.ServiceImplementingAgency == r.cfg.ImplementingAgency })
}

// primeroReferralRef is the audit and state identity of a Primero referral.
func primeroReferralRef(r *primero.Referral) consent.RecordRef {
	return consent.RecordRef{System: "primero-referral", ID: r.ID}
}

// sentKey is the processed key of a referral proGres took.
func sentKey(r *primero.Referral) string { return "sent:" + r.ID }

// sendOne gates, maps and sends one referral. ok is false when it is left
// for a later run.
func (r *outRun) sendOne(ctx context.Context, o *Outgoing, rec mapping.Record, blocked bool) (bool, error) {
	st := r.cfg.State
	ref := primeroReferralRef(o.Referral)
	if done, err := st.Processed(ctx, r.name, sentKey(o.Referral)); err != nil || done {
		if done {
			r.stats.Unchanged++
		}
		return done, err
	}
	if blocked {
		d := consent.Decision{Reasons: []consent.Reason{consent.ReasonConsentRevoked}, PolicyID: r.cfg.Policy.ID(), PolicyHash: r.cfg.Policy.Hash()}
		r.stats.Deny(d.Reasons)
		_, err := r.tr.Append(ctx, consent.DecisionEvent(r.name, ref, r.cfg.To, d, r.m.Hash()))
		return true, err
	}
	switch {
	case o.Service == nil:
		r.stats.Fail(o.Referral.ID, "no_service", errors.New("referral: the referral names no service of the case"))
		return false, nil
	case o.Service.ServiceImplementingAgency != r.cfg.ImplementingAgency:
		r.stats.Fail(o.Referral.ID, "service_agency", errors.New("referral: the referred service names another implementing agency"))
		return false, nil
	}
	gate := r.cfg.Policy.Gate(consent.Request{Recipient: r.cfg.To, Sender: r.cfg.Policy.Sender(),
		Purpose: r.cfg.Purpose, ServiceType: o.Service.ServiceType, AsOf: r.cfg.now()})
	shared, d := gate.Share(rec)
	if _, err := r.tr.Append(ctx, consent.DecisionEvent(r.name, ref, r.cfg.To, d, r.m.Hash())); err != nil {
		return false, err
	}
	if !d.Allowed {
		r.stats.Deny(d.Reasons)
		return true, nil
	}
	o.consent = ConsentOf(d)
	payload, code, err := r.payload(ctx, o, shared)
	if err != nil {
		r.stats.Fail(o.Referral.ID, code, err)
		return false, nil
	}
	if r.cfg.DTP != nil {
		return r.sendDTP(ctx, o, payload)
	}
	return r.sendPING(ctx, o, payload)
}

// payload maps the referral's source record (PrimeroSide.Source) through
// the spec.
func (r *outRun) payload(ctx context.Context, o *Outgoing, shared mapping.Record) (mapping.Record, string, error) {
	src, code, err := r.side.Source(ctx, o, shared)
	if err != nil {
		return nil, code, err
	}
	out, err := r.m.Apply(ctx, src)
	if err != nil {
		return nil, outboundMappingCode(err), err
	}
	return out, "", nil
}

// outboundMappingCode is "owner_contact_missing" when a required owner field is
// missing (pitfall 25), else "mapping".
func outboundMappingCode(err error) string {
	var fe *mapping.FieldError
	if errors.As(err, &fe) && fe.Code == mapping.CodeRequired {
		switch fe.Path {
		case "primero_user", "position", "email", "phone", "full_name",
			"progres_orgposition", "progres_orgemail", "progres_orgphonenumber":
			return "owner_contact_missing"
		}
	}
	return "mapping"
}

// intend records the share and the intent before a send: the share first,
// so that a revocation reaches the recipient even if the send's answer is
// lost and the case's consent is withdrawn before the next run.
func (r *outRun) intend(ctx context.Context, o *Outgoing) error {
	caseRef := consent.RecordRef{System: "primero", ID: o.Case.ID}
	if err := r.cfg.State.Update(ctx, r.name, func(tx sqlsink.StateTx) error {
		return RecordShared(ctx, tx, caseRef, r.cfg.To, r.cfg.now())
	}); err != nil {
		return err
	}
	_, err := r.tr.Append(ctx, r.delivery(o, consent.OutcomeIntended))
	return err
}

func (r *outRun) delivery(o *Outgoing, outcome string, reasons ...string) consent.Event {
	return consent.DeliveryEvent(r.name, primeroReferralRef(o.Referral), r.cfg.To, r.cfg.Policy, r.m.Hash(), outcome, reasons...)
}

// failed audits and counts a failed send; the referral is tried again on
// the next run.
func (r *outRun) failed(ctx context.Context, o *Outgoing, code string, err error) (bool, error) {
	r.stats.Fail(o.Referral.ID, code, err)
	_, aerr := r.tr.Append(ctx, r.delivery(o, consent.OutcomeFailed, code, errClass(err)))
	return false, aerr
}

// delivered marks the referral processed, links it, and audits it.
func (r *outRun) delivered(ctx context.Context, o *Outgoing, partnerID string, extra func(tx sqlsink.StateTx) error) (bool, error) {
	err := r.cfg.State.Update(ctx, r.name, func(tx sqlsink.StateTx) error {
		if _, err := tx.MarkProcessed(ctx, sentKey(o.Referral)); err != nil {
			return err
		}
		if err := tx.PutLink(ctx, sqlsink.Link{Kind: "referral", From: primeroReferralRef(o.Referral),
			To: consent.RecordRef{System: "progres", ID: partnerID}}); err != nil {
			return err
		}
		if extra != nil {
			return extra(tx)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	r.stats.Sent++
	if _, err = r.tr.Append(ctx, r.delivery(o, consent.OutcomeDelivered)); err != nil {
		return false, err
	}
	rr := o.AsReferral()
	rr.IDs["progres"] = partnerID
	r.cfg.observe(ctx, r.name, rr)
	return true, nil
}
