package referral

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
)

// PrimeroSide is the Primero half of the flows between Primero and a
// partner system that has a dedicated recipient user in Primero
// (proGres's UNHCR user today, OSCaR's later): selecting the referrals
// caseworkers made to that user, and applying the partner's decisions to
// them. Nothing in it knows the partner's gateway.
type PrimeroSide struct {
	// Client reads cases, referrals and users and writes decisions.
	Client *primero.Client
	// Recipient is the user_name caseworkers refer the partner's cases
	// to (for example "unhcr_cw").
	Recipient string
	// Agency is the service_implementing_agency a referred service must
	// name (for example "UNHCR"): a referral to Recipient whose service
	// names another agency is a caseworker's mistake, reported, not sent.
	Agency string
}

func (p *PrimeroSide) check(flow string) error {
	switch {
	case p.Client == nil:
		return fmt.Errorf("referral: %s: Primero is required", flow)
	case p.Recipient == "":
		return fmt.Errorf("referral: %s: Recipient is required (the Primero user_name referrals to the partner go to)", flow)
	case p.Agency == "":
		return fmt.Errorf("referral: %s: ImplementingAgency is required", flow)
	}
	return nil
}

// Outgoing is one referral made to the partner's recipient user.
type Outgoing struct {
	Case     *primero.Case
	Referral *primero.Referral
	// Service is the services_section row the referral names; nil when
	// the referral names none, or one the case does not have.
	Service *primero.Service

	consent Consent // what the flow's gate read, once it ran
}

// outgoing is referral r of case c with the service row it names.
func outgoing(c *primero.Case, r *primero.Referral) Outgoing {
	o := Outgoing{Case: c, Referral: r}
	for i := range c.Services {
		if r.ServiceRecordID != "" && c.Services[i].UniqueID == r.ServiceRecordID {
			o.Service = &c.Services[i]
		}
	}
	return o
}

// AsReferral is o as the canonical Referral: Key {primero-referral, <the
// Primero referral id>}, Person["primero"] the case's record id (and
// Person["progres"] its UNHCR individual number, when it holds one),
// Services the referred service row, IDs["primero"] the referral id,
// Status Primero's referral status on the state machine (PrimeroStatus),
// UpdatedAt the case's last_updated_at, Consent what the flow's gate read.
func (o *Outgoing) AsReferral() Referral {
	r := Referral{Key: primeroReferralRef(o.Referral), Person: map[string]string{"primero": o.Case.ID},
		IDs: map[string]string{"primero": o.Referral.ID}, Status: PrimeroStatus(o.Referral.Status),
		UpdatedAt: o.Case.LastUpdatedAt, Consent: o.consent}
	if n, ok := o.Case.Fields["unhcr_individual_no"].(string); ok && isKey(n) {
		r.Person["progres"] = n
	}
	if o.Service != nil {
		r.Services = []Service{{ID: o.Service.UniqueID, Type: o.Service.ServiceType}}
	}
	return r
}

// ReferralsTo lists the referrals of case c made to the recipient user,
// with the service each names. Remote referrals and other recipients are
// left out.
func (p *PrimeroSide) ReferralsTo(ctx context.Context, c *primero.Case) ([]Outgoing, error) {
	refs, err := p.Client.Referrals.List(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	var out []Outgoing
	for _, r := range refs {
		if r.TransitionedTo != p.Recipient || r.Remote || (r.Type != "" && r.Type != "Referral") {
			continue
		}
		out = append(out, outgoing(c, r))
	}
	return out, nil
}

// Source builds what a partner's outbound spec maps for referral o, from
// shared (the case as the consent gate let it out): the shared fields,
// plus "service" (the referred row, as shared), "referral"
// ({"created_at"}) and "owner" (the case owner's user_name, full_name,
// email, phone and position, from Primero's users; absent when the owner
// is unknown, so that the spec's required rules refuse it rather than a
// placeholder being sent, pitfall 25). The code names a failure:
// "policy_fields" when the policy does not let the service's unique_id
// through, CodePrimero when the users could not be read.
func (p *PrimeroSide) Source(ctx context.Context, o *Outgoing, shared mapping.Record) (mapping.Record, string, error) {
	var svc map[string]any
	if rows, ok := shared["services_section"].([]any); ok {
		for _, row := range rows {
			if m, ok := row.(map[string]any); ok && o.Service != nil && m["unique_id"] == o.Service.UniqueID {
				svc = m
			}
		}
	}
	if svc == nil {
		return nil, "policy_fields", errors.New("referral: the policy does not let the referred service's unique_id through")
	}
	src := shared.Clone()
	src["service"] = svc
	src["referral"] = map[string]any{"created_at": o.Referral.CreatedAt.UTC().Format(time.RFC3339)}
	if o.Case.OwnedBy != "" {
		u, err := p.Client.Users.Get(ctx, o.Case.OwnedBy)
		switch {
		case errors.Is(err, primero.ErrNotFound):
		case err != nil:
			return nil, CodePrimero, err
		default:
			src["owner"] = map[string]any{"user_name": u.UserName, "full_name": u.FullName,
				"email": u.Email, "phone": u.Phone, "position": u.Position}
		}
	}
	return src, "", nil
}

// PrimeroStatus maps a Primero referral status onto Status ("" when it
// is not one Primero uses).
func PrimeroStatus(s string) Status {
	switch s {
	case primero.ReferralInProgress:
		return Pending
	case primero.ReferralAccepted:
		return Accepted
	case primero.ReferralRejected:
		return Rejected
	case primero.ReferralDone:
		return Done
	case primero.ReferralRevoked:
		return Revoked
	}
	return ""
}

// Error codes of decisions that cannot be applied, for Stats.Fail and the
// answer to the partner.
const (
	CodeUnknownCase       = "unknown_case"
	CodeUnknownReferral   = "unknown_referral"
	CodeAmbiguousMatch    = "ambiguous_match"
	CodeInvalidTransition = "invalid_transition"
	CodePrimero           = "primero"
)

// DecisionError is a decision that could not be applied: Code says why.
type DecisionError struct {
	Code string
	Err  error
}

func (e *DecisionError) Error() string {
	if e.Err == nil {
		return "referral: decision not applied: " + e.Code
	}
	return "referral: decision not applied: " + e.Code + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *DecisionError) Unwrap() error { return e.Err }

func decisionErr(code string, err error) error { return &DecisionError{Code: code, Err: err} }

// FindReferral finds the case whose case_id is caseID (checking that the
// server really filtered on it, pitfall 3) and its referral to the
// recipient user whose service_record_id matches. Several cases, or
// several matching referrals, are CodeAmbiguousMatch: never a guess
// (pitfall 2).
func (p *PrimeroSide) FindReferral(ctx context.Context, caseID string, matches func(serviceRecordID string) bool) (*primero.Case, *primero.Referral, error) {
	opts := &primero.ListOptions{Per: 10, Fields: []string{"id", "case_id"}, Filters: []primero.Filter{primero.Raw("case_id", caseID)}}
	var hits []*primero.Case
	for c, err := range p.Client.Cases.All(ctx, opts) {
		if err != nil {
			return nil, nil, decisionErr(CodePrimero, err)
		}
		if c.CaseID != caseID {
			return nil, nil, decisionErr(CodePrimero, primero.ErrFilterIgnored)
		}
		hits = append(hits, c)
	}
	switch len(hits) {
	case 0:
		return nil, nil, decisionErr(CodeUnknownCase, nil)
	case 1:
	default:
		return nil, nil, decisionErr(CodeAmbiguousMatch, nil)
	}
	c := hits[0]
	refs, err := p.Client.Referrals.List(ctx, c.ID)
	if err != nil {
		return nil, nil, decisionErr(CodePrimero, err)
	}
	var found *primero.Referral
	for _, r := range refs {
		if r.TransitionedTo != p.Recipient || r.ServiceRecordID == "" || !matches(r.ServiceRecordID) {
			continue
		}
		if found != nil {
			return nil, nil, decisionErr(CodeAmbiguousMatch, nil)
		}
		found = r
	}
	if found == nil {
		return nil, nil, decisionErr(CodeUnknownReferral, nil)
	}
	return c, found, nil
}

// ApplyDecision moves the Primero referral r of case c to status to
// (Accepted or Rejected, with reason). It checks the move against the
// state machine first: a decision already applied is ErrUnchanged (a
// re-delivery), a move the machine refuses is CodeInvalidTransition. The
// client then checks Primero's answer, since Primero answers an illegal
// move with a silent 200 (pitfall 32).
func (p *PrimeroSide) ApplyDecision(ctx context.Context, c *primero.Case, r *primero.Referral, to Status, reason string) error {
	if _, err := PrimeroStatus(r.Status).Next(to); err != nil {
		if errors.Is(err, ErrUnchanged) {
			return err
		}
		return decisionErr(CodeInvalidTransition, err)
	}
	var err error
	switch to {
	case Accepted:
		_, err = p.Client.Referrals.Accept(ctx, c.ID, r.ID)
	case Rejected:
		_, err = p.Client.Referrals.Reject(ctx, c.ID, r.ID, reason)
	default:
		return decisionErr(CodeInvalidTransition, &TransitionError{From: PrimeroStatus(r.Status), To: to})
	}
	if errors.Is(err, primero.ErrTransition) {
		return decisionErr(CodeInvalidTransition, err)
	}
	if err != nil {
		return decisionErr(CodePrimero, err)
	}
	return nil
}
