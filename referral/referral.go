package referral

import (
	"fmt"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
)

// Referral is one referral as the flows see it, whichever systems it
// travels between. Its typed fields are identifiers and codes only; what
// the receiving system needs to know about the person travels in Payload.
type Referral struct {
	// Key identifies the referral across runs and re-deliveries: the
	// sending system and its own id for the referral (a proGres
	// intervention number, a Primero composite key). Flows derive their
	// processed keys and links from it.
	Key consent.RecordRef
	// Person holds the person's identifiers in each system, by system
	// name ("primero" → case id, "progres" → UNHCR individual number).
	// Identifiers only: names and dates of birth belong in Payload.
	Person map[string]string
	// Services are the services requested.
	Services []Service
	// Consent is what the policy's consent conditions found on the sending
	// system's record (see ConsentOf).
	Consent Consent
	// IDs holds the referral's own id in each system it reached
	// ("primero" → the Primero referral or case id).
	IDs map[string]string
	// Status is where the referral stands.
	Status Status
	// Reason is the reason code of a rejection or revocation, from the
	// receiving system's code list (never free text).
	Reason string
	// UpdatedAt is when the sending system last changed the referral.
	UpdatedAt time.Time
	// Payload is the record mapped for the receiving system by the
	// direction's mapping spec, already filtered to the policy's
	// need-to-know fields. It may hold personal data: never log it.
	Payload mapping.Record
}

// Service is one requested service.
type Service struct {
	// ID is the service's id in the sending system (a Primero service
	// unique_id, a proGres intervention id).
	ID string
	// Type is the service type code, in the receiving system's code list
	// once mapped.
	Type string
}

// Consent is what the sending system recorded about consent to share, as
// the policy read it.
type Consent struct {
	// Given is true when consent to refer was recorded as given.
	Given bool
	// Withdrawn is true when consent was withdrawn after it was given.
	Withdrawn bool
	// Overridden is true when a permitted override replaced consent; then
	// OverrideReason names why (a code, not prose).
	Overridden     bool
	OverrideReason string
}

// Move applies the transition to the referral's status: it sets Status
// and, for a rejection or revocation, Reason. It returns ErrUnchanged when
// the referral already has that status and a *TransitionError when the
// state machine refuses; in both cases the referral is left as it was.
func (r *Referral) Move(to Status, reason string) error {
	s, err := r.Status.Next(to)
	if err != nil {
		return err
	}
	r.Status = s
	if to == Rejected || to == Revoked {
		r.Reason = reason
	}
	return nil
}

// Ref returns the referral's identity for audit events and state links.
func (r *Referral) Ref() consent.RecordRef { return r.Key }

// Validate checks what every flow relies on: a key, a valid status and
// service types. Errors name the field, never its value.
func (r *Referral) Validate() error {
	switch {
	case r.Key.System == "" || r.Key.ID == "":
		return fmt.Errorf("referral: Key: system and id are required")
	case !r.Status.Valid():
		return fmt.Errorf("referral: Status: %s", quoteStatus(r.Status))
	}
	for i, s := range r.Services {
		if s.Type == "" {
			return fmt.Errorf("referral: Services[%d].Type: required", i)
		}
	}
	return nil
}

// ConsentOf is what a consent gate's decision says of the record it
// checked: consent given (allowed without an override), withdrawn (denied
// as revoked), or overridden with its reason.
func ConsentOf(d consent.Decision) Consent {
	return Consent{
		Given:          d.Allowed && !d.Overridden,
		Withdrawn:      d.Has(consent.ReasonConsentRevoked),
		Overridden:     d.Overridden,
		OverrideReason: d.OverrideReason,
	}
}
