package primero

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
)

// Referral statuses (docs/systems/primero.md).
const (
	ReferralInProgress = "in_progress"
	ReferralAccepted   = "accepted"
	ReferralRejected   = "rejected"
	ReferralDone       = "done"
	ReferralRevoked    = "revoked"
)

// GBVModule is the module id whose consent rule needs only consent_for_services.
const GBVModule = "primeromodule-gbv"

// Referral is a Primero referral transition (docs/systems/primero.md). Fields Primero
// omits when null stay zero.
type Referral struct {
	ID                    string    `json:"id"`
	Type                  string    `json:"type,omitempty"`
	Status                string    `json:"status"`
	RecordID              string    `json:"record_id,omitempty"`
	RecordType            string    `json:"record_type,omitempty"`
	TransitionedTo        string    `json:"transitioned_to,omitempty"`
	TransitionedToAgency  string    `json:"transitioned_to_agency,omitempty"`
	TransitionedToRemote  string    `json:"transitioned_to_remote,omitempty"`
	TransitionedBy        string    `json:"transitioned_by,omitempty"`
	Service               string    `json:"service,omitempty"`
	ServiceRecordID       string    `json:"service_record_id,omitempty"`
	Notes                 string    `json:"notes,omitempty"`
	Remote                bool      `json:"remote,omitempty"`
	ConsentOverridden     bool      `json:"consent_overridden,omitempty"`
	RejectedReason        string    `json:"rejected_reason,omitempty"`
	RejectionNote         string    `json:"rejection_note,omitempty"`
	RespondedAt           time.Time `json:"responded_at,omitzero"`
	CreatedAt             time.Time `json:"created_at,omitzero"`
	UserCanAcceptOrReject bool      `json:"user_can_accept_or_reject,omitempty"`
	// Record holds the changed case fields Primero adds on create, PATCH
	// and DELETE (not on list).
	Record map[string]any `json:"record,omitempty"`
}

// ConsentOverride is how a caller asks, by name, to send a referral that
// fails Primero's consent rule (consent_overridden: true). Reason is
// required; the reason is not sent to Primero, so the caller must record
// it in its own audit trail (consent package).
type ConsentOverride struct {
	Reason string
}

// ReferralRequest is the body of a referral (docs/systems/primero.md).
type ReferralRequest struct {
	TransitionedTo         string // recipient user_name; required unless Remote
	TransitionedToAgency   string // agency unique_id (free text when Remote)
	TransitionedToRemote   string // free-text recipient (Remote only)
	Remote                 bool
	Service                string // lookup-service-type id
	ServiceRecordID        string // unique_id of the services_section row
	Notes                  string
	AuthorizedRoleUniqueID string
	AllowCaseCreation      bool
	// ConsentOverride, when set, sends consent_overridden: true instead of
	// requiring the case's consent fields. The server does not check the
	// consent_override permission, only the UI does (unconfirmed), so the
	// client makes the override explicit.
	ConsentOverride *ConsentOverride
}

func (r *ReferralRequest) validate(path string) error {
	v := &transport.ValidationError{}
	if r == nil {
		v.Add(path, "is nil")
		return v
	}
	if !r.Remote && r.TransitionedTo == "" {
		v.Add(path+".transitioned_to", "is required unless remote")
	}
	if r.Remote && r.TransitionedToRemote == "" {
		v.Add(path+".transitioned_to_remote", "is required for a remote referral")
	}
	if r.ConsentOverride != nil && strings.TrimSpace(r.ConsentOverride.Reason) == "" {
		v.Add(path+".ConsentOverride.Reason", "is required to override consent")
	}
	return v.Err()
}

func (r *ReferralRequest) body() map[string]any {
	m := map[string]any{}
	put := func(k, s string) {
		if s != "" {
			m[k] = s
		}
	}
	put("transitioned_to", r.TransitionedTo)
	put("transitioned_to_agency", r.TransitionedToAgency)
	put("transitioned_to_remote", r.TransitionedToRemote)
	put("service", r.Service)
	put("service_record_id", r.ServiceRecordID)
	put("notes", r.Notes)
	put("authorized_role_unique_id", r.AuthorizedRoleUniqueID)
	if r.Remote {
		m["remote"] = true
	}
	if r.AllowCaseCreation {
		m["allow_case_creation"] = true
	}
	if r.ConsentOverride != nil {
		m["consent_overridden"] = true
	}
	return m
}

// ConsentError is a referral refused client-side because the case lacks
// the consent Primero's rule requires; nothing was sent.
type ConsentError struct {
	CaseID  string   // record UUID
	Missing []string // consent fields not true
}

// Error names the case id and the missing consent fields.
func (e *ConsentError) Error() string {
	return "primero: case " + e.CaseID + ": referral refused before sending: consent missing (" +
		strings.Join(e.Missing, ", ") + "); set ConsentOverride with a reason to override"
}

// Is reports true for ErrConsent and ErrValidation.
func (e *ConsentError) Is(target error) bool { return target == ErrConsent || target == ErrValidation }

// MissingConsent applies Primero's referral consent rule to a case: a GBV
// case needs consent_for_services; any other needs consent_for_services and
// disclosure_other_orgs. It returns the fields that are not true.
func MissingConsent(c *Case) []string {
	var missing []string
	if !Bool(c.ConsentForServices) {
		missing = append(missing, "consent_for_services")
	}
	if c.ModuleID != GBVModule && !Bool(c.DisclosureOtherOrgs) {
		missing = append(missing, "disclosure_other_orgs")
	}
	return missing
}

// ReferralsService lists, creates and decides referrals of cases.
type ReferralsService struct{ c *Client }

// List returns the referrals of a case (not paginated). An answer without
// a data array is a *DecodeError, never an empty list, so that "not
// referred yet" is never read from a proxy's "{}".
func (s *ReferralsService) List(ctx context.Context, caseID string) ([]*Referral, error) {
	if err := checkID("caseID", caseID); err != nil {
		return nil, err
	}
	refs, _, _, err := getList[*Referral](ctx, s.c, http.MethodGet, "cases/"+url.PathEscape(caseID)+"/referrals", nil, nil)
	return refs, err
}

// consentFields are read to apply the consent rule.
var consentFields = []string{"id", "module_id", "consent_for_services", "disclosure_other_orgs"}

// checkConsent reads the case's consent fields and applies the rule.
func (s *ReferralsService) checkConsent(ctx context.Context, caseID string) error {
	q := url.Values{"fields": {strings.Join(consentFields, ",")}}
	c, err := doData[Case](ctx, s.c, http.MethodGet, "cases/"+url.PathEscape(caseID), q, nil)
	if err != nil {
		return err
	}
	if m := MissingConsent(c); len(m) > 0 {
		return &ConsentError{CaseID: caseID, Missing: m}
	}
	return nil
}

// Create refers one case. Unless req.ConsentOverride is set, it first reads
// the case's consent fields and refuses with a *ConsentError, sending no
// referral, when Primero's consent rule is not met. Never retried.
func (s *ReferralsService) Create(ctx context.Context, caseID string, req *ReferralRequest) (*Referral, error) {
	if err := checkID("caseID", caseID); err != nil {
		return nil, err
	}
	if err := req.validate("ReferralRequest"); err != nil {
		return nil, err
	}
	if req.ConsentOverride == nil {
		if err := s.checkConsent(ctx, caseID); err != nil {
			return nil, err
		}
	}
	return doData[Referral](ctx, s.c, http.MethodPost, "cases/"+url.PathEscape(caseID)+"/referrals", nil, req.body())
}

// CreateBulk refers several cases with one call (POST /cases/referrals).
// The consent rule is checked for every case first; if any fails, nothing
// is sent. Primero may stop at the first failing case with earlier ones
// already referred (pitfall 33; unconfirmed): after an error, re-read the referrals of
// each case before retrying, or prefer Create per case.
func (s *ReferralsService) CreateBulk(ctx context.Context, caseIDs []string, req *ReferralRequest) ([]*Referral, error) {
	v := &transport.ValidationError{}
	if len(caseIDs) == 0 {
		v.Add("caseIDs", "is empty")
	}
	seen := map[string]bool{}
	for i, id := range caseIDs {
		if err := checkID("caseIDs["+itoa(i)+"]", id); err != nil {
			v.Fields = append(v.Fields, err.(*transport.ValidationError).Fields...)
		}
		if seen[id] {
			v.Add("caseIDs["+itoa(i)+"]", "duplicate id")
		}
		seen[id] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := req.validate("ReferralRequest"); err != nil {
		return nil, err
	}
	if req.ConsentOverride == nil {
		for _, id := range caseIDs {
			if err := s.checkConsent(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	body := req.body()
	body["ids"] = caseIDs
	refs, _, _, err := getList[*Referral](ctx, s.c, http.MethodPost, "cases/referrals", nil, body)
	return refs, err
}

// allowedTransition is Primero's referral state machine (docs/systems/primero.md).
func allowedTransition(from, to string) bool {
	switch to {
	case ReferralAccepted, ReferralRejected:
		return from == ReferralInProgress
	case ReferralDone:
		return from == ReferralAccepted
	case ReferralRevoked:
		return from != ReferralRevoked
	}
	return false
}

// StatusUpdate is the body of a referral PATCH.
type StatusUpdate struct {
	Status         string // accepted, rejected or done
	RejectedReason string // with rejected
	RejectionNote  string // the provider's note, with done (or rejected)
}

// UpdateStatus PATCHes a referral's status without the local state check
// and verifies the answer: Primero answers 200 with the unchanged referral
// when the transition is not allowed, which is returned as a
// *TransitionError (pitfall 32). Prefer Accept, Reject and Done, which
// check the transition first.
func (s *ReferralsService) UpdateStatus(ctx context.Context, caseID, referralID string, u StatusUpdate) (*Referral, error) {
	v := &transport.ValidationError{}
	if err := checkID("caseID", caseID); err != nil {
		return nil, err
	}
	if err := checkID("referralID", referralID); err != nil {
		return nil, err
	}
	switch u.Status {
	case ReferralAccepted, ReferralDone:
	case ReferralRejected:
		if strings.TrimSpace(u.RejectedReason) == "" {
			v.Add("rejected_reason", "is required to reject")
		}
	default:
		v.Add("status", "must be accepted, rejected or done")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	body := map[string]any{"status": u.Status}
	if u.RejectedReason != "" {
		body["rejected_reason"] = u.RejectedReason
	}
	if u.RejectionNote != "" {
		body["rejection_note"] = u.RejectionNote
	}
	r, err := doData[Referral](ctx, s.c, http.MethodPatch, "cases/"+url.PathEscape(caseID)+"/referrals/"+url.PathEscape(referralID), nil, body)
	if err != nil {
		return nil, err
	}
	if r.Status != u.Status {
		return r, &TransitionError{ReferralID: referralID, Requested: u.Status, Got: referralStatus(r.Status)}
	}
	return r, nil
}

// transition checks the referral's current status locally, then PATCHes.
func (s *ReferralsService) transition(ctx context.Context, caseID, referralID string, u StatusUpdate) (*Referral, error) {
	cur, err := s.find(ctx, caseID, referralID)
	if err != nil {
		return nil, err
	}
	if !allowedTransition(cur.Status, u.Status) {
		return nil, &TransitionError{ReferralID: referralID, From: referralStatus(cur.Status), Requested: u.Status}
	}
	r, err := s.UpdateStatus(ctx, caseID, referralID, u)
	var te *TransitionError
	if errors.As(err, &te) {
		te.From = referralStatus(cur.Status)
	}
	return r, err
}

func (s *ReferralsService) find(ctx context.Context, caseID, referralID string) (*Referral, error) {
	if err := checkID("referralID", referralID); err != nil {
		return nil, err
	}
	list, err := s.List(ctx, caseID)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if r.ID == referralID {
			return r, nil
		}
	}
	return nil, notFound("cases/"+caseID+"/referrals", "referral not among the case's referrals")
}

// Accept accepts an in_progress referral.
func (s *ReferralsService) Accept(ctx context.Context, caseID, referralID string) (*Referral, error) {
	return s.transition(ctx, caseID, referralID, StatusUpdate{Status: ReferralAccepted})
}

// Reject rejects an in_progress referral with a reason (required).
func (s *ReferralsService) Reject(ctx context.Context, caseID, referralID, reason string) (*Referral, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, transport.NewValidationError("reason", "is required to reject")
	}
	return s.transition(ctx, caseID, referralID, StatusUpdate{Status: ReferralRejected, RejectedReason: reason})
}

// Done marks an accepted referral done, with the provider's note (optional).
func (s *ReferralsService) Done(ctx context.Context, caseID, referralID, note string) (*Referral, error) {
	return s.transition(ctx, caseID, referralID, StatusUpdate{Status: ReferralDone, RejectionNote: note})
}

// Revoke revokes a referral (DELETE), from any status but revoked, and
// verifies that Primero reports it revoked.
func (s *ReferralsService) Revoke(ctx context.Context, caseID, referralID string) (*Referral, error) {
	cur, err := s.find(ctx, caseID, referralID)
	if err != nil {
		return nil, err
	}
	if !allowedTransition(cur.Status, ReferralRevoked) {
		return nil, &TransitionError{ReferralID: referralID, From: referralStatus(cur.Status), Requested: ReferralRevoked}
	}
	r, err := doData[Referral](ctx, s.c, http.MethodDelete, "cases/"+url.PathEscape(caseID)+"/referrals/"+url.PathEscape(referralID), nil, nil)
	if err != nil {
		return nil, err
	}
	if r.Status != ReferralRevoked {
		return r, &TransitionError{ReferralID: referralID, From: referralStatus(cur.Status), Requested: ReferralRevoked, Got: referralStatus(r.Status)}
	}
	return r, nil
}
