package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// This file is the Primero side of an intake: a referral from another
// system becomes a service request on the child's Primero case. It knows
// nothing of proGres: the proGres flows (intake_progres.go) decode their
// gateway's items into intakeItems, call deliver, and answer their gateway
// with the outcome. An OSCaR intake can reuse it with its own spec, keys
// and answers.

// IntakeConfig is what every intake into Primero is configured with.
//
// An intake creates the child's case when Primero has none (owned by the
// intake user, under a stable id). Otherwise the case is the caseworker's
// record, and a referral arriving later (a new intervention for the same
// child, or the same one delivered again) must not undo their work. So an
// update
//
//   - adds the referral's service row when the case has none for it (found
//     by its stable unique_id, or by the intervention number for rows an
//     earlier integration made), and otherwise only fills the row's empty
//     fields: a decision already taken (unhcr_referral_status accepted or
//     rejected) is never reset to pending;
//   - adds the referral's languages to the case's, never removing one;
//   - fills case fields that are empty (names, date of birth, sex, ids,
//     contacts, consent as the source recorded it) and never overwrites one
//     that holds a value, even when the source sends another: a difference
//     is a question for a person, not for the bridge;
//   - never writes owned_by (the intake user reassigns by hand), module_id,
//     status (a closed case is not reopened: the new service shows in its
//     services) or the field the case was matched on.
//
// A delivery that has nothing to add writes nothing.
type IntakeConfig struct {
	Common
	// Primero is the client the cases are written with. Its user must see
	// every case (group permission "all"): a search limited to the user's
	// scope would miss the child's existing case and create a second one
	// (pitfall 5). Required.
	Primero *primero.Client
	// DTP or PING (exactly one) is the gateway the referrals come through:
	// DTP pushes them to the flow's HandlerOption and receives the delivery
	// feedback (ReceiveDecisionOutgoingReferral); PING is polled by RunOnce
	// for the pending interventions and receives their transfer status.
	DTP  *progres.DTPClient
	PING *progres.PINGClient
	// Spec maps one source item to the Primero case body. Nil: the
	// embedded Gambella spec for the gateway.
	Spec *mapping.Mapping
	// DefaultOwner is the Primero user_name that owns the cases the intake
	// creates: the intake focal point, who reassigns them. Required.
	DefaultOwner string
	// Owners picks another intake user by the referring agency: the
	// referring partner's number (DTP's user.progres_partner), else the
	// proGres business unit id. Unlisted agencies get DefaultOwner.
	Owners map[string]string
	// To is the receiving party the policy must name. Zero: the policy's
	// only receiving party (an error when it names several).
	To consent.Party
}

// Reason codes of intake failures (Stats.Errors[].Code, audit reasons).
const (
	codeMissingFields  = "missing_fields"
	codeServiceType    = "unknown_service_type"
	codeInvalidData    = "invalid_data"
	codeAmbiguous      = "ambiguous_match"
	codeConsent        = "consent_denied"
	codePrimero        = "primero"
	codeFeedback       = "feedback"
	codeState          = "state"
	codeCaseOutOfScope = "case_out_of_scope"
	// codeInvalidRow: a row of a PING list could not be read (an unknown
	// code, a missing id); the rows after it are still handled.
	codeInvalidRow = "invalid_row"
)

// intakeItem is one referral to deliver into Primero: the canonical
// referral as its source sent it, and the rows of one intervention (one
// per language or specific need), already decoded.
type intakeItem struct {
	// Referral is built by the source's adapter (newIntakeItem): Key is
	// the referral in its source system ({progres, <intervention number>};
	// the service row is named by it), Person[system] the person's id
	// there, also the value of the Primero field matchField (the UNHCR
	// individual number), Services the one service as the source named it,
	// Status Pending. deliver returns it completed with what Primero gave
	// it.
	Referral
	// Agency picks the owner of a created case (IntakeConfig.Owners).
	Agency string
	// Rows are the source records, in order; the first is the base, the
	// others add their languages.
	Rows []mapping.Record
}

// newIntakeItem is the item of the referral ref, about the person whose
// id in the source system is person, as the source's rows describe it.
func (c *intakeCore) newIntakeItem(ref consent.RecordRef, person, serviceType, agency string, rows []mapping.Record) intakeItem {
	return intakeItem{Referral: Referral{Key: ref, Person: map[string]string{c.system: person},
		Services: []Service{{ID: ref.ID, Type: serviceType}}, Status: Pending}, Agency: agency, Rows: rows}
}

// person is the person's id in the source system.
func (it *intakeItem) person(system string) string { return it.Person[system] }

// intakeOutcome is what deliver did with an item.
type intakeOutcome struct {
	// Code is "" when the referral is in Primero, else a failure code.
	Code string
	// CaseID and Owner are the Primero case's case_id and owned_by.
	CaseID, Owner string
	// RecordID is the Primero record id; ServiceID the unique_id of the
	// referral's service row in it.
	RecordID, ServiceID string
	// Created, Updated or neither (unchanged).
	Created, Updated bool
	// Reasons are the gate's reasons of a denial.
	Reasons []consent.Reason
	// Referral is the item's referral as delivered: Person["primero"] the
	// case's record id, IDs["primero"] the service row's unique_id, its
	// service type in Primero's code list, its consent as the gate read
	// it, and the shared record as Payload.
	Referral Referral
}

// failed reports whether the item could not be delivered and must be
// answered so (a permanent failure: delivering it again gives the same).
func (o intakeOutcome) failed() bool { return o.Code != "" }

// intakeSource says where an intake's referrals come from: what names
// its cases and service rows, and which Primero field carries the
// person's id in that system.
type intakeSource struct {
	system     string // the source system ("progres")
	caseKind   string // StableID kind of the case id ("progres-individual")
	svcKind    string // StableID kind of the service unique_id ("progres-intervention")
	matchField string // the Primero field holding Person ("unhcr_individual_no")
}

// StableID kinds of what the proGres intakes create.
const (
	kindProgresIndividual   = "progres-individual"
	kindProgresIntervention = "progres-intervention"
)

// progresSource is the proGres intakes' source.
var progresSource = intakeSource{system: "progres", caseKind: kindProgresIndividual,
	svcKind: kindProgresIntervention, matchField: "unhcr_individual_no"}

// intakeCore writes intakeItems into Primero; see deliver.
type intakeCore struct {
	intakeSource
	flow      string
	cfg       IntakeConfig
	m         *mapping.Mapping
	gate      *consent.Gate
	recipient consent.Party

	trails   trails
	mu       sync.Mutex // guards stats and ownersOK
	stats    Stats
	ownersOK bool // every intake user was found enabled in Primero
}

// newIntakeCore validates cfg for the named flow.
func newIntakeCore(flow string, src intakeSource, cfg IntakeConfig, defaultSpec string) (*intakeCore, error) {
	if err := cfg.check(flow); err != nil {
		return nil, err
	}
	switch {
	case cfg.Primero == nil:
		return nil, fmt.Errorf("referral: %s: Primero is required", flow)
	case cfg.DefaultOwner == "":
		return nil, fmt.Errorf("referral: %s: DefaultOwner is required", flow)
	case !isUserName(cfg.DefaultOwner):
		return nil, fmt.Errorf("referral: %s: DefaultOwner must be a user_name", flow)
	}
	for k, v := range cfg.Owners {
		if k == "" || !isUserName(v) {
			return nil, fmt.Errorf("referral: %s: Owners: every entry needs an agency and a user_name", flow)
		}
	}
	c := &intakeCore{intakeSource: src, flow: flow, cfg: cfg, m: cfg.Spec}
	if c.m == nil {
		m, err := Spec(defaultSpec)
		if err != nil {
			return nil, fmt.Errorf("referral: %s: Spec: %w", flow, err)
		}
		c.m = m
	}
	rec, err := recipientOf(flow, cfg.Policy, cfg.To)
	if err != nil {
		return nil, err
	}
	c.recipient = rec
	c.gate = cfg.Policy.Gate(consent.Request{Recipient: rec, Sender: cfg.Policy.Sender(), Purpose: cfg.Policy.Purpose()})
	return c, nil
}

// recipientOf checks the configured recipient against the policy, or
// takes the policy's only one.
func recipientOf(flow string, p *consent.Policy, want consent.Party) (consent.Party, error) {
	rs := p.Receivers()
	if want == (consent.Party{}) {
		if len(rs) != 1 {
			return consent.Party{}, fmt.Errorf("referral: %s: To is required: the policy names %d receiving parties", flow, len(rs))
		}
		return rs[0], nil
	}
	for _, r := range rs {
		if r == want {
			return want, nil
		}
	}
	return consent.Party{}, fmt.Errorf("referral: %s: To is not a receiving party of the policy", flow)
}

// owner is the intake user for the referring agency.
func (c *intakeCore) owner(agency string) string {
	if u, ok := c.cfg.Owners[agency]; ok {
		return u
	}
	return c.cfg.DefaultOwner
}

// caseID is the Primero id of the case the intake creates for person.
func (c *intakeCore) caseID(person string) string { return StableID("", c.caseKind, person) }

// serviceID is the unique_id of the service row made from the referral.
func (c *intakeCore) serviceID(ref consent.RecordRef) string { return StableID("", c.svcKind, ref.ID) }

// count adds to the flow's stats.
func (c *intakeCore) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// takeStats returns the stats gathered since the last call and resets them.
func (c *intakeCore) takeStats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	c.stats = Stats{}
	s.Flow = c.flow
	return s
}

// deliver maps, gates and writes one item into Primero. A returned error
// is transient (Primero or the state store unavailable): nothing is
// answered and the item must come again. An outcome with a Code is a
// permanent failure to answer as such; its audit event is written.
//
// What it rests on: the case is created under a stable id (a lost answer
// is found again, by the search or by the 409 a second create gets), the
// service row under a stable unique_id (PATCH merges into it), and an
// update writes only what is missing (mergePatch), so delivering the same
// item twice writes nothing the second time.
func (c *intakeCore) deliver(ctx context.Context, it intakeItem) (intakeOutcome, error) {
	tr, err := c.trails.trail(ctx, &c.cfg.Common, c.flow)
	if err != nil {
		return intakeOutcome{}, err
	}
	person := it.person(c.system)
	if !isPlainID(person) && person != "" {
		return c.fail(ctx, tr, it, codeInvalidData)
	}
	rec, code := c.mapItem(ctx, it)
	if code != "" {
		return c.fail(ctx, tr, it, code)
	}
	shared, d := c.gate.Share(rec)
	if _, err := tr.Append(ctx, consent.DecisionEvent(c.flow, it.Key, c.recipient, d, c.m.Hash())); err != nil {
		return intakeOutcome{}, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	if !d.Allowed {
		c.cfg.log().LogAttrs(ctx, slog.LevelWarn, "referral intake denied", slog.String("flow", c.flow),
			slog.String("referral", it.Key.ID), slog.Any("reasons", d.Reasons))
		c.count(func(s *Stats) { s.Deny(d.Reasons) })
		return intakeOutcome{Code: codeConsent, Reasons: d.Reasons}, nil
	}
	setServiceID(shared, c.serviceID(it.Key))

	existing, code, err := c.find(ctx, it)
	if err != nil {
		return intakeOutcome{}, err
	}
	if code != "" {
		return c.fail(ctx, tr, it, code)
	}
	if _, err := tr.Append(ctx, c.delivery(it, consent.OutcomeIntended)); err != nil {
		return intakeOutcome{}, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	out, err := c.write(ctx, it, shared, existing)
	if err != nil {
		if errors.Is(err, primero.ErrValidation) {
			return c.fail(ctx, tr, it, codeInvalidData)
		}
		if errors.Is(err, errCaseOutOfScope) {
			return c.fail(ctx, tr, it, codeCaseOutOfScope)
		}
		_, _ = tr.Append(ctx, c.delivery(it, consent.OutcomeFailed, codePrimero))
		return intakeOutcome{}, err
	}
	// The case is always found by the search on the person's id, never by
	// a link: Primero is the authority on which case is the child's (a
	// stored link would go stale when cases are merged), and a UNHCR
	// number shaped like a phone number cannot be a state key.
	if err := c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
		return tx.PutLink(ctx, sqlsink.Link{Kind: "service", From: it.Key,
			To: consent.RecordRef{System: "primero", ID: out.ServiceID}})
	}); err != nil {
		return intakeOutcome{}, fmt.Errorf("referral: %s: state: %w", c.flow, err)
	}
	if _, err := tr.Append(ctx, c.delivery(it, consent.OutcomeDelivered)); err != nil {
		return intakeOutcome{}, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	c.cfg.log().LogAttrs(ctx, slog.LevelDebug, "referral intake delivered", slog.String("flow", c.flow),
		slog.String("referral", it.Key.ID), slog.String("case", out.RecordID), slog.Bool("created", out.Created), slog.Bool("updated", out.Updated))
	out.Referral = delivered(it.Referral, out, d, shared)
	c.count(func(s *Stats) {
		switch {
		case out.Created:
			s.Created++
		case out.Updated:
			s.Updated++
		default:
			s.Unchanged++
		}
	})
	return out, nil
}

// delivered is r completed with what its delivery into Primero gave it.
func delivered(r Referral, out intakeOutcome, d consent.Decision, shared mapping.Record) Referral {
	r.Person = maps.Clone(r.Person)
	r.Person["primero"] = out.RecordID
	r.IDs = map[string]string{"primero": out.ServiceID}
	r.Services = slices.Clone(r.Services)
	if rows := asList(shared["services_section"]); len(rows) > 0 && len(r.Services) > 0 {
		if row, ok := rows[0].(map[string]any); ok {
			if t, ok := row["service_type"].(string); ok {
				r.Services[0].Type = t // in Primero's code list
			}
		}
	}
	r.Consent = ConsentOf(d)
	r.Payload = shared
	return r
}

// refuse audits an item refused before it is mapped and returns its
// outcome.
func (c *intakeCore) refuse(ctx context.Context, it intakeItem, code string) (intakeOutcome, error) {
	tr, err := c.trails.trail(ctx, &c.cfg.Common, c.flow)
	if err != nil {
		return intakeOutcome{}, err
	}
	return c.fail(ctx, tr, it, code)
}

// fail audits a permanent failure and returns its outcome.
func (c *intakeCore) fail(ctx context.Context, tr *consent.Trail, it intakeItem, code string) (intakeOutcome, error) {
	c.cfg.log().LogAttrs(ctx, slog.LevelWarn, "referral intake refused", slog.String("flow", c.flow),
		slog.String("referral", it.Key.ID), slog.String("code", code))
	if _, err := tr.Append(ctx, c.delivery(it, consent.OutcomeFailed, code)); err != nil {
		return intakeOutcome{}, fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	return intakeOutcome{Code: code}, nil
}

// delivery is the audit event of the write into Primero.
func (c *intakeCore) delivery(it intakeItem, outcome string, reasons ...string) consent.Event {
	return consent.DeliveryEvent(c.flow, it.Key, c.recipient, c.cfg.Policy, c.m.Hash(), outcome, reasons...)
}

// mapItem maps every row and collects their languages into the first.
// A mapping failure gives its code.
func (c *intakeCore) mapItem(ctx context.Context, it intakeItem) (mapping.Record, string) {
	var base mapping.Record
	for _, row := range it.Rows {
		out, err := c.m.ApplyAll(ctx, row)
		if err != nil {
			return nil, mappingCode(err)
		}
		if base == nil {
			base = out
			continue
		}
		base["language"] = union(asList(base["language"]), asList(out["language"]))
	}
	if base == nil {
		return nil, codeMissingFields
	}
	if v, ok := base[c.matchField].(string); !ok || v != it.person(c.system) {
		return nil, codeInvalidData // the spec must map the match field from the person's id
	}
	return base, ""
}

// mappingCode classifies a mapping error: a service type outside the
// agreed ones, a missing required field, or invalid data.
func mappingCode(err error) string {
	var errs mapping.Errors
	if !errors.As(err, &errs) {
		var fe *mapping.FieldError
		if !errors.As(err, &fe) {
			return codeInvalidData
		}
		errs = mapping.Errors{fe}
	}
	code := codeInvalidData
	for _, e := range errs {
		switch {
		case e.Code == mapping.CodeUnknownValue && isServiceTypePath(e.Path):
			return codeServiceType
		case e.Code == mapping.CodeRequired:
			code = codeMissingFields
		}
	}
	return code
}

// isServiceTypePath reports whether a target path is a service's type.
func isServiceTypePath(p string) bool {
	const suffix = ".service_type"
	return len(p) >= len(suffix) && p[len(p)-len(suffix):] == suffix
}

// setServiceID names the record's (only) service row.
func setServiceID(rec mapping.Record, id string) {
	rows := asList(rec["services_section"])
	for _, r := range rows {
		if m, ok := r.(map[string]any); ok {
			m["unique_id"] = id
		}
	}
	rec["services_section"] = rows
}

// asList returns v as a list of values ([]any, []string or a single
// value), nil for nil.
func asList(v any) []any {
	switch l := v.(type) {
	case nil:
		return nil
	case []any:
		return l
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	case []map[string]any:
		out := make([]any, len(l))
		for i, m := range l {
			out[i] = m
		}
		return out
	}
	return []any{v}
}

// union returns a's values followed by b's not already in a, in order,
// without duplicates (comparing scalars).
func union(a, b []any) []any {
	out := make([]any, 0, len(a)+len(b))
	seen := map[any]bool{}
	for _, v := range append(append([]any(nil), a...), b...) {
		if !isScalar(v) || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// isScalar reports whether v can be a map key (a JSON scalar).
func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, float64, int, int64:
		return true
	}
	return false
}
