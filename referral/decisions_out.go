package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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

// DecisionsOutConfig configures the decision flow to proGres.
type DecisionsOutConfig struct {
	Common
	// Primero is the client the changed cases are read with. Its user must
	// see every case the intake created. Required.
	Primero *primero.Client
	// DTP or PING (exactly one) is the gateway the decisions go through:
	// DTP's ReceiveDecisionOutgoingReferral, or PING's transfer status
	// (SHP-2748), which needs the ids the PING intake stored.
	DTP  *progres.DTPClient
	PING *progres.PINGClient
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
	// To is the receiving party the policy must name. Zero: the policy's
	// only receiving party.
	To consent.Party
}

// decision is one decision to send: a service the intake created whose
// unhcr_referral_status is accepted or rejected, as the canonical referral
// it decides: Key {progres, <intervention number>}, Person["primero"] the
// case's record id, Services and IDs["primero"] the service row, Status
// Accepted or Rejected, UpdatedAt the case's last_updated_at. Its Payload
// is Source mapped by the spec (it may hold the caseworker's free-text
// reason: never logged), set once the gate let it through; Consent is what
// the gate read.
type decision struct {
	Referral
	Source mapping.Record // {case_id, owned_by, service}
}

// number is the proGres intervention number.
func (d *decision) number() string { return d.Key.ID }

// processedKey is the key the decision is marked sent under: it carries
// the status, so that a changed decision is sent again and a repeated one
// is not.
func (d *decision) processedKey() string { return "decision:" + d.Key.ID + ":" + string(d.Status) }

// text reads a string of the mapped body.
func (d *decision) text(k string) string { s, _ := d.Payload[k].(string); return s }

// DecisionsOut sends Primero's decisions on the referrals proGres made
// (flow 2: 1-2 through DTP, 1.2 through PING): when a caseworker sets the
// unhcr_referral_status of a service the intake created to accepted or
// rejected, proGres receives it once, with the mapped reason, the Primero
// case_id and owner. See RunOnce.
//
// Through DTP the body is "acknowledged" or "rejected" with the closure
// reason. DTP has no read API: if DTP's answer is lost the decision is sent
// again next run with the same body, which proGres applies as a status set.
//
// Through PING it is one SHP-2748 ingestion, transfer status acknowledged
// or rejected with the comment "Referral acknowledged by PRIMERO" /
// "Referral rejected by PRIMERO: <reason>". PING needs the intervention's
// proGres id and business unit, which the PING intake keeps as a link of
// kind "ping-intervention"; a decision on a referral that did not come
// through the PING intake (or whose state was lost) fails with code
// "no_intervention_link" and is reported until the case changes again.
//
// The gateway's send is the only difference between DTP and PING.
type DecisionsOut struct {
	flow string
	// answered reports whether proGres has had the intake's answer about
	// an intervention (see one); begin starts a run.
	answered  func(ctx context.Context, number string) (bool, error)
	begin     func()
	cfg       DecisionsOutConfig
	m         *mapping.Mapping
	recipient consent.Party
	send      func(ctx context.Context, d *decision) error
	trails    trails
}

// NewDecisionsOut validates cfg and returns the flow, named
// FlowDecisionsDTP or FlowDecisionsPING after its gateway.
func NewDecisionsOut(cfg DecisionsOutConfig) (*DecisionsOut, error) {
	flow := FlowDecisionsDTP
	if cfg.PING != nil {
		flow = FlowDecisionsPING
	}
	if err := oneGateway(flow, cfg.DTP, cfg.PING); err != nil {
		return nil, err
	}
	c, err := newDecisionsOut(flow, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.DTP != nil {
		c.answered, c.send = dtpDecisions(cfg.State, cfg.DTP)
	} else {
		c.answered, c.begin = pingAnswered(cfg.State, cfg.PING)
		c.send = c.pingSend
	}
	return c, nil
}

// Name returns FlowDecisionsDTP or FlowDecisionsPING.
func (c *DecisionsOut) Name() string { return c.flow }

func newDecisionsOut(flow string, cfg DecisionsOutConfig) (*DecisionsOut, error) {
	if err := cfg.check(flow); err != nil {
		return nil, err
	}
	if cfg.Primero == nil {
		return nil, fmt.Errorf("referral: %s: Primero is required", flow)
	}
	rec, err := recipientOf(flow, cfg.Policy, cfg.To)
	if err != nil {
		return nil, err
	}
	m := cfg.Spec
	if m == nil {
		if m, err = Spec(SpecDecisionsOut); err != nil {
			return nil, fmt.Errorf("referral: %s: Spec: %w", flow, err)
		}
	}
	return &DecisionsOut{flow: flow, cfg: cfg, m: m, recipient: rec, begin: func() {}}, nil
}

// RunOnce reads the cases changed since the stored watermark and sends
// every new decision on a service the intake created.
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
func (c *DecisionsOut) RunOnce(ctx context.Context) (Stats, error) {
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
		var sent []*decision
		for i := range ds {
			ok, err := c.one(ctx, tr, cs, &ds[i], &st)
			if err != nil && ctx.Err() != nil {
				return st, err
			}
			if err != nil {
				stuck = true
				continue
			}
			if ok {
				sent = append(sent, &ds[i])
			}
		}
		if !stuck || len(sent) > 0 {
			if err := c.commit(ctx, sent, feed.Watermark(), !stuck); err != nil {
				return st, err
			}
			for _, d := range sent {
				c.cfg.observe(ctx, c.flow, d.Referral)
			}
		}
	}
	return st, nil
}

// one gates and sends one decision. It reports whether it was sent (false
// when it was sent before or the gate denied it); an error means it must
// be tried again.
func (c *DecisionsOut) one(ctx context.Context, tr *consent.Trail, cs *primero.Case, d *decision, st *Stats) (bool, error) {
	done, err := c.cfg.State.Processed(ctx, c.flow, d.processedKey())
	if err != nil {
		st.Fail(d.number(), codeState, err)
		return false, err
	}
	if done {
		st.Unchanged++
		return false, nil
	}
	// proGres applies each answer about an intervention as a status set:
	// the intake's answer (Pending, with the case) sent after the decision
	// would undo it. A decision waits until the intake's answer went.
	if answered, err := c.answered(ctx, d.number()); err != nil || !answered {
		if err == nil {
			err = errIntakeUnanswered
		}
		st.Fail(d.number(), codeIntakeUnanswered, err)
		return false, err
	}
	ref := progresRef(d.number())
	// Consent withdrawn after the case was shared with the recipient (the
	// outbound flow stores the block): nothing further is sent about it.
	blocked, err := Blocked(ctx, c.cfg.State, consent.RecordRef{System: "primero", ID: cs.ID}, c.recipient)
	if err != nil {
		st.Fail(d.number(), codeState, err)
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
		Purpose: c.cfg.Policy.Purpose(), ServiceType: d.Services[0].Type, AsOf: c.cfg.now()})
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
		st.Fail(d.number(), codeInvalidData, err)
		return false, nil
	}
	d.Payload, d.Consent = body, ConsentOf(dec)
	if _, err := tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, c.recipient, c.cfg.Policy, c.m.Hash(), consent.OutcomeIntended)); err != nil {
		return false, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	if err := c.send(ctx, d); err != nil {
		code := codeDelivery
		if permanent(err) {
			code = codeInvalidData
		}
		c.cfg.log().LogAttrs(ctx, slog.LevelWarn, "referral decision not sent", slog.String("flow", c.flow),
			slog.String("referral", d.number()), slog.String("code", code), slog.String("error", err.Error()))
		_, _ = tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, c.recipient, c.cfg.Policy, c.m.Hash(), consent.OutcomeFailed, code))
		st.Fail(d.number(), code, err)
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
		slog.String("referral", d.number()), slog.String("key", d.processedKey()))
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

// commit marks the sent decisions and, when advance, stores the
// watermark, together.
func (c *DecisionsOut) commit(ctx context.Context, sent []*decision, wm primero.Watermark, advance bool) error {
	err := c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
		for _, d := range sent {
			if _, err := tx.MarkProcessed(ctx, d.processedKey()); err != nil {
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
func (c *DecisionsOut) decisions(ctx context.Context, cs *primero.Case) ([]decision, error) {
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
		out = append(out, decision{Referral: Referral{Key: progresRef(num), Person: map[string]string{"primero": cs.ID},
			Services: []Service{{ID: s.UniqueID, Type: s.ServiceType}}, IDs: map[string]string{"primero": s.UniqueID},
			Status: Status(status), UpdatedAt: cs.LastUpdatedAt}, Source: src})
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
