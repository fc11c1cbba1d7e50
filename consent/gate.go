package consent

import (
	"slices"
	"time"

	"github.com/casebridge/casebridge/mapping"
)

// Override asks the gate to let a record pass although its consent
// conditions fail. It is honoured only when the policy permits overrides
// and Reason is one of the policy's named reasons; it never lifts a
// revocation, a wrong recipient, purpose or service type. Every override
// shows in the Decision (ReasonConsentOverridden and the reason) and so in
// the audit trail.
//
// Primero accepts consent_overridden: true on a referral without checking
// the consent_override permission server-side (unconfirmed, see
// docs/systems/primero.md and pitfall 39); this gate is therefore the
// place where an override is actually controlled.
type Override struct {
	// Reason is one of the policy's override.reasons codes.
	Reason string
}

// Request is what a flow wants to do: send to Recipient for Purpose. One
// Request is bound once to a Gate and then checked against many records.
type Request struct {
	// Recipient is the receiving party; it must be one the policy names.
	Recipient Party
	// Sender, when set, must equal the policy's sending party.
	Sender Party
	// Purpose must equal the policy's purpose.
	Purpose string
	// ServiceType, when set, is the service being referred and is the only
	// one checked. When empty, the service types are read from the record
	// at the policy's services.field, and every one found must be allowed.
	ServiceType string
	// Override, when non-nil, asks to lift failing consent conditions.
	Override *Override
	// AsOf is the date ages are computed at (from date of birth). Zero
	// means the time the Gate is created.
	AsOf time.Time
}

// Decision is the gate's answer for one record. It holds the policy id and
// hash and reason codes only; Fields names the condition fields that failed
// by path, never their values.
type Decision struct {
	// Allowed is true only when every condition holds (or a permitted
	// override lifted the failing consent conditions).
	Allowed bool
	// Reasons are the reason codes: why it was denied, or, for an allowed
	// override, ReasonConsentOverridden followed by what was overridden.
	// Nil for a plain allow.
	Reasons []Reason
	// Fields are the paths of the consent and assent fields that failed.
	Fields []string
	// Overridden is true when the decision is allowed through an override.
	Overridden bool
	// OverrideReason is the override's named reason when Overridden.
	OverrideReason string
	// PolicyID is the id of the policy that decided.
	PolicyID string
	// PolicyHash is that policy's content hash (Policy.Hash).
	PolicyHash string
}

// Has reports whether the decision carries reason code r.
func (d Decision) Has(r Reason) bool { return slices.Contains(d.Reasons, r) }

// Gate is a Policy bound to one Request. Request-level checks (recipient,
// sender, purpose, override) run once in Policy.Gate; Check then only looks
// at the record and allocates nothing when it allows. A Gate is immutable
// and safe for concurrent use.
type Gate struct {
	p           *Policy
	req         Request
	asOf        date     // the date ages are computed at
	reqReasons  []Reason // request-level denials, fixed for the gate
	overrideOK  bool
	serviceOK   bool // req.ServiceType set and allowed
	serviceFrom bool // read service types from the record
}

// Gate binds the policy to a request. Problems with the request itself
// (recipient not a party, purpose mismatch, an override the policy does
// not permit or that lacks a known reason) make every Check deny with
// those reason codes, so that each attempt is still decided and audited.
func (p *Policy) Gate(req Request) *Gate {
	g := &Gate{p: p, req: req, asOf: asOfDate(req.AsOf)}
	if !slices.Contains(p.receivers, req.Recipient) {
		g.reqReasons = append(g.reqReasons, ReasonRecipientNotParty)
	}
	if req.Sender != (Party{}) && req.Sender != p.sender {
		g.reqReasons = append(g.reqReasons, ReasonSenderNotParty)
	}
	if req.Purpose != p.purpose {
		g.reqReasons = append(g.reqReasons, ReasonPurposeMismatch)
	}
	if o := req.Override; o != nil {
		switch {
		case !p.overridePermitted:
			g.reqReasons = append(g.reqReasons, ReasonOverrideNotPermitted)
		case o.Reason == "":
			g.reqReasons = append(g.reqReasons, ReasonOverrideReasonMissing)
		case !p.overrideReasons[o.Reason]:
			g.reqReasons = append(g.reqReasons, ReasonOverrideReasonUnknown)
		default:
			g.overrideOK = true
		}
	}
	switch {
	case req.ServiceType != "":
		if p.serviceAllowed[req.ServiceType] {
			g.serviceOK = true
		} else {
			g.reqReasons = append(g.reqReasons, ReasonServiceNotAllowed)
		}
	case p.serviceField != nil:
		g.serviceFrom = true
	default:
		g.reqReasons = append(g.reqReasons, ReasonServiceMissing)
	}
	return g
}

// asOfDate returns the UTC date of t, or of now when t is zero.
func asOfDate(t time.Time) date {
	if t.IsZero() {
		t = time.Now()
	}
	return dateOf(t.UTC())
}

// Check is shorthand for p.Gate(req).Check(rec); flows checking many
// records should create the Gate once.
func (p *Policy) Check(rec mapping.Record, req Request) Decision {
	return p.Gate(req).Check(rec)
}

// Policy returns the gate's policy.
func (g *Gate) Policy() *Policy { return g.p }

// Request returns the request the gate is bound to.
func (g *Gate) Request() Request { return g.req }

// Check decides whether rec may be shared under the gate's request. It
// denies by default: each consent field must be a boolean true (or a string
// the policy declares true); a missing, null, empty, unreadable or
// wrongly-typed value denies. The revoked_field fails closed the same way:
// consent stands only while it is absent, null, false or a declared false
// string; any other value (true, "true" or "yes" when the policy declares
// no strings, a number, a date, a list, an empty string) denies as revoked.
// Assent rules apply when the age (from the
// date of birth at the gate's AsOf date, else from the age field) is under
// the rule's age, and also when the age cannot be read.
func (g *Gate) Check(rec mapping.Record) Decision {
	p := g.p
	d := Decision{PolicyID: p.id, PolicyHash: p.hash}
	var reasons []Reason
	var fields []string
	if len(g.reqReasons) > 0 {
		reasons = append(reasons, g.reqReasons...)
	}
	m := map[string]any(rec)

	if p.revoked != nil {
		if revoked, invalid := p.readRevoked(m); revoked {
			reasons = addReason(reasons, ReasonConsentRevoked)
			if invalid {
				reasons = addReason(reasons, ReasonRevocationInvalid)
			}
			fields = append(fields, p.revoked.path)
		}
	}
	for i := range p.consent {
		f := &p.consent[i]
		if r, bad := consentReason(p.field(m, f), ReasonConsentMissing, ReasonConsentFalse, ReasonConsentInvalid); bad {
			reasons = addReason(reasons, r)
			fields = append(fields, f.path)
		}
	}
	if len(p.assent) > 0 {
		age, known := p.ageAt(m, g.asOf)
		for _, rule := range p.assent {
			if known && age >= rule.under {
				continue
			}
			for i := range rule.require {
				f := &rule.require[i]
				if r, bad := consentReason(p.field(m, f), ReasonAssentMissing, ReasonAssentFalse, ReasonAssentMissing); bad {
					reasons = addReason(reasons, r)
					if !known {
						reasons = addReason(reasons, ReasonAgeUnknown)
					}
					fields = append(fields, f.path)
				}
			}
		}
	}
	if g.serviceFrom {
		if r, bad := g.checkServices(m); bad {
			reasons = addReason(reasons, r)
		}
	}

	if len(reasons) == 0 {
		d.Allowed = true
		return d
	}
	if g.overrideOK && allOverridable(reasons) {
		d.Allowed = true
		d.Overridden = true
		d.OverrideReason = g.req.Override.Reason
		d.Reasons = append([]Reason{ReasonConsentOverridden}, reasons...)
		d.Fields = fields
		return d
	}
	d.Reasons = reasons
	d.Fields = fields
	return d
}

// Filter returns the minimized record; see Policy.Filter. It does not
// check consent: use Share to do both.
func (g *Gate) Filter(rec mapping.Record) mapping.Record { return g.p.Filter(rec) }

// Share checks rec and, only when allowed, returns the minimized record.
// When denied the record is nil.
func (g *Gate) Share(rec mapping.Record) (mapping.Record, Decision) {
	d := g.Check(rec)
	if !d.Allowed {
		return nil, d
	}
	return g.p.Filter(rec), d
}

// FilterInto is Filter into a reused record; see Policy.FilterInto.
func (g *Gate) FilterInto(dst, rec mapping.Record) mapping.Record { return g.p.FilterInto(dst, rec) }

// ShareInto is Share writing the minimized record into dst (see
// Policy.FilterInto), for loops that are done with each shared record
// before checking the next. When denied it returns nil and empties dst, so
// that nothing of an earlier record is left in it to be sent by mistake.
func (g *Gate) ShareInto(dst, rec mapping.Record) (mapping.Record, Decision) {
	d := g.Check(rec)
	if !d.Allowed {
		if !sameMap(dst, rec) {
			clear(dst)
		}
		return nil, d
	}
	return g.p.FilterInto(dst, rec), d
}

func consentReason(t tri, missing, falseR, invalid Reason) (Reason, bool) {
	switch t {
	case triTrue:
		return "", false
	case triFalse:
		return falseR, true
	case triInvalid:
		return invalid, true
	}
	return missing, true
}

func addReason(rs []Reason, r Reason) []Reason {
	if slices.Contains(rs, r) {
		return rs
	}
	return append(rs, r)
}

func allOverridable(rs []Reason) bool {
	for _, r := range rs {
		if !r.overridable() {
			return false
		}
	}
	return true
}

// checkServices reads the service types at services.field: at least one
// must be present and every one must be an allowed string.
func (g *Gate) checkServices(rec map[string]any) (Reason, bool) {
	found, bad := 0, false
	eachValue(rec, g.p.serviceField.segs, func(v any) {
		found++
		s, ok := v.(string)
		if !ok || !g.p.serviceAllowed[s] {
			bad = true
		}
	})
	switch {
	case found == 0:
		return ReasonServiceMissing, true
	case bad:
		return ReasonServiceNotAllowed, true
	}
	return "", false
}

// eachValue calls fn for every value at segs under cur.
func eachValue(cur any, segs []segment, fn func(any)) {
	if len(segs) == 0 {
		fn(cur)
		return
	}
	m, ok := asMap(cur)
	if !ok {
		return
	}
	v, ok := m[segs[0].key]
	if !ok {
		return
	}
	if !segs[0].list {
		eachValue(v, segs[1:], fn)
		return
	}
	switch l := v.(type) {
	case []any:
		for _, e := range l {
			eachValue(e, segs[1:], fn)
		}
	case []map[string]any:
		for _, e := range l {
			eachValue(e, segs[1:], fn)
		}
	case []mapping.Record:
		for _, e := range l {
			eachValue(e, segs[1:], fn)
		}
	}
}
