package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// Flow names of the decision flows to proGres.
const (
	FlowDecisionsDTP  = "primero-decisions-dtp"
	FlowDecisionsPING = "primero-decisions-ping"
)

// DecisionsOutConfig is what both decision flows to proGres are
// configured with.
type DecisionsOutConfig struct {
	Common
	// Primero is the client the changed cases are read with. Its user must
	// see every case the intake created. Required.
	Primero *primero.Client
	// Spec maps a decision ({case_id, owned_by, service: <the service
	// row>}) to the body sent: progres_interventionnumber, case_id,
	// primero_user, status (DTP), ping_status (PING code), closure_reason.
	// Nil: the embedded Gambella spec (SpecDecisionsOut).
	Spec *mapping.Mapping
	// Start is where the first run reads from when no cursor is stored.
	// Zero with no stored cursor: the run fails with ErrNoCursor rather
	// than re-send years of decisions (pitfall 12).
	Start time.Time
	// Filters narrow the feed of changed cases (e.g. the module). They must
	// not be on values a caseworker's update changes.
	Filters []primero.Filter
	// Recipient is the party the policy must name as receiving. Zero: the
	// policy's only receiving party.
	Recipient consent.Party
}

// decision is one decision to send: a service the intake created whose
// unhcr_referral_status is accepted or rejected.
type decision struct {
	Number  string         // the proGres intervention number
	Service string         // the service type
	Key     string         // the processed key, carrying the status
	Source  mapping.Record // {case_id, owned_by, service}
	// Body is Source mapped by the spec (may hold the caseworker's free
	// text reason: never logged).
	Body mapping.Record
}

// text reads a string of the mapped body.
func (d decision) text(k string) string { s, _ := d.Body[k].(string); return s }

// decisionsCore reads the changes and sends each decision once; the
// gateway's send is the only difference between DTP and PING.
type decisionsCore struct {
	flow string
	// answered reports whether proGres has had the intake's answer about
	// an intervention (see one); begin starts a run.
	answered  func(ctx context.Context, number string) (bool, error)
	begin     func()
	cfg       DecisionsOutConfig
	m         *mapping.Mapping
	recipient consent.Party
	send      func(ctx context.Context, d decision) error
	trails    trails
}

func newDecisionsCore(flow string, cfg DecisionsOutConfig) (*decisionsCore, error) {
	if err := cfg.check(flow); err != nil {
		return nil, err
	}
	if cfg.Primero == nil {
		return nil, fmt.Errorf("referral: %s: Primero is required", flow)
	}
	rec, err := recipientOf(flow, cfg.Policy, cfg.Recipient)
	if err != nil {
		return nil, err
	}
	m := cfg.Spec
	if m == nil {
		if m, err = Spec(SpecDecisionsOut); err != nil {
			return nil, fmt.Errorf("referral: %s: Spec: %w", flow, err)
		}
	}
	return &decisionsCore{flow: flow, cfg: cfg, m: m, recipient: rec, begin: func() {}}, nil
}

// run is RunOnce: it reads the cases changed since the stored watermark
// and sends every new decision on a service the intake created.
//
// Exactly once: a decision is marked processed under a key that carries
// its status ("decision:<intervention>:accepted"), in the same State.Update
// as the cursor, only after proGres took it; a case touched again without
// a new decision sends nothing (pitfall 10), a changed decision sends the
// new one. A send that fails is counted and the cursor stops before that
// case for the rest of the run (the later cases are still handled and
// their keys stored), so the next run reads it again and retries it; what
// was sent is skipped by its key. A failure that sending again cannot
// cure (a decision the spec cannot map, a body refused before it is sent,
// PING ids not known) is reported and audited but does not hold the
// cursor: the case changing again (once fixed) brings it back. The cursor
// is the feed's watermark, server time, never the clock (pitfall 9).
//
// Order: proGres applies each answer about an intervention as a status
// set, so a decision goes only once proGres has had the intake's own
// answer about it; until then it is reported (code "intake_unanswered")
// and holds the cursor like a failed send.
func (c *decisionsCore) run(ctx context.Context) (Stats, error) {
	st := Stats{Flow: c.flow}
	c.begin()
	wm, err := loadWatermark(ctx, c.cfg.State, c.flow, c.cfg.Start)
	if err != nil {
		return st, err
	}
	tr, err := c.trails.trail(ctx, &c.cfg.Common, c.flow)
	if err != nil {
		return st, err
	}
	feed := c.cfg.Primero.Cases.Changes(&primero.ChangesOptions{Since: wm, Filters: c.cfg.Filters})
	stuck := false
	for cs, err := range feed.All(ctx) {
		if err != nil {
			return st, fmt.Errorf("referral: %s: read changes: %w", c.flow, err)
		}
		st.Received++
		ds, err := c.decisions(ctx, cs)
		if err != nil {
			return st, err
		}
		var sent []string
		for _, d := range ds {
			ok, err := c.one(ctx, tr, cs, d, &st)
			if err != nil && ctx.Err() != nil {
				return st, err
			}
			if err != nil {
				stuck = true
				continue
			}
			if ok {
				sent = append(sent, d.Key)
			}
		}
		if !stuck || len(sent) > 0 {
			if err := c.commit(ctx, sent, feed.Watermark(), !stuck); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// one gates and sends one decision. It reports whether it was sent (false
// when it was sent before or the gate denied it); an error means it must
// be tried again.
func (c *decisionsCore) one(ctx context.Context, tr *consent.Trail, cs *primero.Case, d decision, st *Stats) (bool, error) {
	done, err := c.cfg.State.Processed(ctx, c.flow, d.Key)
	if err != nil {
		st.Fail(d.Number, codeState, err)
		return false, err
	}
	if done {
		st.Unchanged++
		return false, nil
	}
	// proGres applies each answer about an intervention as a status set:
	// the intake's answer (Pending, with the case) sent after the decision
	// would undo it. A decision waits until the intake's answer went.
	if answered, err := c.answered(ctx, d.Number); err != nil || !answered {
		if err == nil {
			err = errIntakeUnanswered
		}
		st.Fail(d.Number, codeIntakeUnanswered, err)
		return false, err
	}
	ref := progresRef(d.Number)
	// Consent withdrawn after the case was shared with the recipient (the
	// outbound flow stores the block): nothing further is sent about it.
	blocked, err := Blocked(ctx, c.cfg.State, consent.RecordRef{System: "primero", ID: cs.ID}, c.recipient)
	if err != nil {
		st.Fail(d.Number, codeState, err)
		return false, err
	}
	if blocked {
		dd := consent.Decision{Reasons: []consent.Reason{consent.ReasonConsentRevoked}, PolicyID: c.cfg.Policy.ID(), PolicyHash: c.cfg.Policy.Hash()}
		if _, err := tr.Append(ctx, consent.DecisionEvent(c.flow, ref, c.recipient, dd, c.m.Hash())); err != nil {
			return false, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
		}
		st.Deny(dd.Reasons)
		return false, nil
	}
	g := c.cfg.Policy.Gate(consent.Request{Recipient: c.recipient, Sender: c.cfg.Policy.Sender(),
		Purpose: c.cfg.Policy.Purpose(), ServiceType: d.Service, AsOf: c.cfg.now()})
	dec := g.Check(cs.ToRecord())
	if _, err := tr.Append(ctx, consent.DecisionEvent(c.flow, ref, c.recipient, dec, c.m.Hash())); err != nil {
		return false, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	if !dec.Allowed {
		// Not marked: once consent is recorded the case changes and the
		// decision is sent then.
		st.Deny(dec.Reasons)
		return false, nil
	}
	body, err := c.m.ApplyAll(ctx, d.Source)
	if err != nil {
		// The case lacks what the decision needs (its owner, say): a
		// problem of the record, not of the gateway. It is reported, not
		// marked, and does not hold the cursor: fixing the case changes it,
		// and the next run sends the decision.
		_, _ = tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, c.recipient, c.cfg.Policy, c.m.Hash(), consent.OutcomeFailed, codeInvalidData))
		st.Fail(d.Number, codeInvalidData, err)
		return false, nil
	}
	d.Body = body
	if _, err := tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, c.recipient, c.cfg.Policy, c.m.Hash(), consent.OutcomeIntended)); err != nil {
		return false, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	if err := c.send(ctx, d); err != nil {
		code := codeDelivery
		if permanent(err) {
			code = codeInvalidData
		}
		c.cfg.log().LogAttrs(ctx, slog.LevelWarn, "referral decision not sent", slog.String("flow", c.flow),
			slog.String("referral", d.Number), slog.String("code", code), slog.String("error", err.Error()))
		_, _ = tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, c.recipient, c.cfg.Policy, c.m.Hash(), consent.OutcomeFailed, code))
		st.Fail(d.Number, code, err)
		if code == codeInvalidData {
			// Sending it again would fail the same way: reported, not
			// marked, and the cursor moves on; a change to the case
			// brings it back.
			return false, nil
		}
		return false, err
	}
	if _, err := tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, c.recipient, c.cfg.Policy, c.m.Hash(), consent.OutcomeDelivered)); err != nil {
		return false, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	c.cfg.log().LogAttrs(ctx, slog.LevelDebug, "referral decision sent", slog.String("flow", c.flow),
		slog.String("referral", d.Number), slog.String("key", d.Key))
	st.Decided++
	return true, nil
}

// codeDelivery is the failure code of a decision proGres did not take.
const codeDelivery = "delivery"

// codeIntakeUnanswered is a decision held back because proGres has not yet
// had the intake's answer about the intervention.
const codeIntakeUnanswered = "intake_unanswered"

// errIntakeUnanswered holds a decision until the intake's answer about the
// intervention reached proGres (retried next run: the cursor stays).
var errIntakeUnanswered = errors.New("referral: intake_unanswered: proGres has not yet had the intake's answer about the intervention")

// permanent reports an error that sending again cannot cure: the body is
// refused before it is sent, or PING's ids for the intervention are not
// known.
func permanent(err error) bool {
	var ve *progres.ValidationError
	return errors.Is(err, errNoInterventionLink) || errors.Is(err, errPINGStatus) || errors.As(err, &ve)
}

// commit stores the sent keys and, when advance, the watermark, together.
func (c *decisionsCore) commit(ctx context.Context, keys []string, wm primero.Watermark, advance bool) error {
	err := c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
		for _, k := range keys {
			if _, err := tx.MarkProcessed(ctx, k); err != nil {
				return err
			}
		}
		if advance && !wm.IsZero() {
			return tx.SetCursor(ctx, wm.String())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("referral: %s: state: %w", c.flow, err)
	}
	return nil
}

// decisions returns the decisions on the case's services that the intake
// created: a row named by the intervention's stable unique_id, or one the
// intake linked to the intervention. The agency the row names does not
// matter (pitfall 23: rows referred by a partner carry its number there).
func (c *decisionsCore) decisions(ctx context.Context, cs *primero.Case) ([]decision, error) {
	var out []decision
	for _, s := range cs.Services {
		num, _ := s.Fields["progres_interventionnumber"].(string)
		status, _ := s.Fields["unhcr_referral_status"].(string)
		if num == "" || (status != "accepted" && status != "rejected") {
			continue
		}
		ours := s.UniqueID == StableID("", kindProgresIntervention, num)
		if !ours && s.UniqueID != "" {
			from, ok, err := c.cfg.State.LinkFrom(ctx, "service", consent.RecordRef{System: "primero", ID: s.UniqueID}, "progres")
			if err != nil {
				return nil, fmt.Errorf("referral: %s: state: %w", c.flow, err)
			}
			ours = ok && from == num
		}
		if !ours {
			continue
		}
		row, err := serviceRecord(s)
		if err != nil {
			return nil, fmt.Errorf("referral: %s: service row: %w", c.flow, err)
		}
		src := mapping.Record{"service": row}
		if cs.CaseID != "" {
			src["case_id"] = cs.CaseID
		}
		if cs.OwnedBy != "" {
			src["owned_by"] = cs.OwnedBy
		}
		out = append(out, decision{Number: num, Service: s.ServiceType, Key: "decision:" + num + ":" + status, Source: src})
	}
	return out, nil
}

// serviceRecord renders a service row as its JSON fields.
func serviceRecord(s primero.Service) (map[string]any, error) {
	b, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	row := map[string]any{}
	return row, json.Unmarshal(b, &row)
}

// DTPDecisionsConfig configures the decision flow to DTP.
type DTPDecisionsConfig struct {
	DecisionsOutConfig
	// DTP sends the decisions (ReceiveDecisionOutgoingReferral). Required.
	DTP *progres.DTPClient
}

// DTPDecisions sends Primero's decisions on the referrals proGres made
// (flow 1-2): when a caseworker sets a service's unhcr_referral_status to
// accepted or rejected, proGres receives "acknowledged" or "rejected" with
// the reason, the Primero case_id and owner, once per decision.
//
// DTP has no read API: if DTP's answer is lost the decision is sent again
// next run with the same body, which proGres applies as a status set.
type DTPDecisions struct{ core *decisionsCore }

// NewDTPDecisions validates cfg and returns the flow (FlowDecisionsDTP).
func NewDTPDecisions(cfg DTPDecisionsConfig) (*DTPDecisions, error) {
	if cfg.DTP == nil {
		return nil, fmt.Errorf("referral: %s: DTP is required", FlowDecisionsDTP)
	}
	core, err := newDecisionsCore(FlowDecisionsDTP, cfg.DecisionsOutConfig)
	if err != nil {
		return nil, err
	}
	// DTP delivers a referral again until the intake's feedback went, and
	// the intake marks it sent only after DTP took it: the mark is sure.
	core.answered = func(ctx context.Context, number string) (bool, error) {
		return cfg.State.Processed(ctx, FlowIntakeDTP, "fed:"+number)
	}
	core.send = func(ctx context.Context, d decision) error {
		return cfg.DTP.Feedback.Send(ctx, &progres.Feedback{InterventionNumber: d.text("progres_interventionnumber"),
			Status: progres.FeedbackStatus(d.text("status")), CaseID: d.text("case_id"), PrimeroUser: d.text("primero_user"),
			ClosureReason: d.text("closure_reason")})
	}
	return &DTPDecisions{core: core}, nil
}

// Name returns FlowDecisionsDTP.
func (f *DTPDecisions) Name() string { return FlowDecisionsDTP }

// RunOnce sends the decisions made since the last run; see decisionsCore.
func (f *DTPDecisions) RunOnce(ctx context.Context) (Stats, error) { return f.core.run(ctx) }

// PINGDecisionsConfig configures the decision flow to PING.
type PINGDecisionsConfig struct {
	DecisionsOutConfig
	// PING sends the decisions (SHP-2748). Required.
	PING *progres.PINGClient
}

// PINGDecisions sends Primero's decisions through PING (flow 1.2): one
// SHP-2748 ingestion per decision, transfer status acknowledged or
// rejected, with the Primero case_id and owner and a comment "Referral
// acknowledged by PRIMERO" / "Referral rejected by PRIMERO: <reason>".
//
// PING needs the intervention's proGres id and business unit, which the
// PING intake keeps as a link of kind "ping-intervention"; a decision on a
// referral that did not come through the PING intake (or whose state was
// lost) fails with code "no_intervention_link" and stays retried.
type PINGDecisions struct{ core *decisionsCore }

// NewPINGDecisions validates cfg and returns the flow (FlowDecisionsPING).
func NewPINGDecisions(cfg PINGDecisionsConfig) (*PINGDecisions, error) {
	if cfg.PING == nil {
		return nil, fmt.Errorf("referral: %s: PING is required", FlowDecisionsPING)
	}
	core, err := newDecisionsCore(FlowDecisionsPING, cfg.DecisionsOutConfig)
	if err != nil {
		return nil, err
	}
	core.answered, core.begin = pingAnswered(cfg.State, cfg.PING)
	core.send = func(ctx context.Context, d decision) error {
		lp, unit, err := pingIntervention(ctx, cfg.State, d.Number)
		if err != nil {
			return err
		}
		up := progres.TransferUpdate{CaseID: d.text("case_id"), LPInterventionID: lp, BusinessUnit: unit,
			Date: core.cfg.now().Format(time.DateOnly), PrimeroCaseworker: d.text("primero_user")}
		switch d.text("ping_status") {
		case strconv.Itoa(int(progres.TransferAcknowledged)):
			up.Status, up.Comment = progres.TransferAcknowledged, "Referral acknowledged by PRIMERO"
		case strconv.Itoa(int(progres.TransferRejected)):
			up.Status, up.Comment = progres.TransferRejected, "Referral rejected by PRIMERO"
			if r := d.text("closure_reason"); r != "" && r != progres.NoReasonSpecified {
				up.Comment += ": " + r
			}
		default:
			return errPINGStatus
		}
		return cfg.PING.Interventions.SetTransferStatus(ctx, up)
	}
	return &PINGDecisions{core: core}, nil
}

// errPINGStatus is a spec whose ping_status is not a decision code.
var errPINGStatus = errors.New("referral: the decision spec's ping_status is not 125080003 or 125080004")

// Name returns FlowDecisionsPING.
func (f *PINGDecisions) Name() string { return FlowDecisionsPING }

// RunOnce sends the decisions made since the last run; see decisionsCore.
func (f *PINGDecisions) RunOnce(ctx context.Context) (Stats, error) { return f.core.run(ctx) }

// pingAnswered reports whether PING has had the PING intake's status
// update about an intervention: the intake marked it sent, or (its answer
// lost after PING applied it) PING no longer lists the intervention as
// pending. The pending list is read at most once per run, and only when a
// decision's intervention is not marked.
func pingAnswered(st sqlsink.State, ping *progres.PINGClient) (answered func(context.Context, string) (bool, error), begin func()) {
	var pending map[string]bool // this run's pending list; nil: not read yet
	begin = func() { pending = nil }
	answered = func(ctx context.Context, number string) (bool, error) {
		if ok, err := st.Processed(ctx, FlowIntakePING, "fed:"+number); err != nil || ok {
			return ok, err
		}
		if pending == nil {
			list := map[string]bool{}
			for p, err := range ping.Interventions.Pending(ctx) {
				if err != nil {
					return false, fmt.Errorf("referral: %s: pending list: %w", FlowDecisionsPING, err)
				}
				list[p.InterventionNumber] = true
			}
			pending = list
		}
		return !pending[number], nil
	}
	return answered, begin
}
