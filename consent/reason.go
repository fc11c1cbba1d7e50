package consent

// Reason is a reason code in a Decision or an audit event. Reason codes are
// the only explanation the gate gives: they name rules, never values.
type Reason string

// Reason codes.
const (
	// ReasonConsentMissing: a consent field is absent, null or empty.
	ReasonConsentMissing Reason = "consent_missing"
	// ReasonConsentFalse: a consent field is false (or a declared false string).
	ReasonConsentFalse Reason = "consent_false"
	// ReasonConsentInvalid: a consent field has a value that is not a
	// boolean: a number, a list, an object, or a string the policy does not
	// declare (for example "yes" when conditions.strings is absent).
	ReasonConsentInvalid Reason = "consent_invalid"
	// ReasonConsentRevoked: the policy's revoked_field says consent was
	// withdrawn: it holds true (or a declared true string), or any value
	// that is not an explicit false (see ReasonRevocationInvalid). A
	// revocation cannot be overridden.
	ReasonConsentRevoked Reason = "consent_revoked"
	// ReasonRevocationInvalid accompanies ReasonConsentRevoked when the
	// revoked_field holds something other than null, a boolean or a
	// declared string (for example "true" without conditions.strings, a
	// number, a date or a list). The gate cannot prove that consent still
	// stands, so it fails closed and treats consent as withdrawn.
	ReasonRevocationInvalid Reason = "revocation_invalid"
	// ReasonAssentMissing: the person is under an assent age (or the age is
	// unknown) and a required assent field is absent, null, empty or invalid.
	ReasonAssentMissing Reason = "assent_missing"
	// ReasonAssentFalse: a required assent field is false.
	ReasonAssentFalse Reason = "assent_false"
	// ReasonAgeUnknown accompanies an assent denial when neither the date
	// of birth nor the age could be read, so assent was required.
	ReasonAgeUnknown Reason = "age_unknown"
	// ReasonServiceMissing: no service type in the request or the record.
	ReasonServiceMissing Reason = "service_missing"
	// ReasonServiceNotAllowed: a service type is not in services.allowed.
	ReasonServiceNotAllowed Reason = "service_not_allowed"
	// ReasonRecipientNotParty: the recipient is not a receiving party.
	ReasonRecipientNotParty Reason = "recipient_not_party"
	// ReasonSenderNotParty: the request names a sender other than the policy's.
	ReasonSenderNotParty Reason = "sender_not_party"
	// ReasonPurposeMismatch: the request's purpose is not the policy's.
	ReasonPurposeMismatch Reason = "purpose_mismatch"
	// ReasonOverrideNotPermitted: an override was requested but the policy
	// does not permit one.
	ReasonOverrideNotPermitted Reason = "override_not_permitted"
	// ReasonOverrideReasonMissing: an override was requested without a reason.
	ReasonOverrideReasonMissing Reason = "override_reason_missing"
	// ReasonOverrideReasonUnknown: the override's reason is not one the
	// policy names.
	ReasonOverrideReasonUnknown Reason = "override_reason_unknown"
	// ReasonConsentOverridden marks an allowed decision that passed only
	// through a permitted override; the overridden codes follow it.
	ReasonConsentOverridden Reason = "consent_overridden"
)

// overridable reports whether an override may lift this reason.
func (r Reason) overridable() bool {
	switch r {
	case ReasonConsentMissing, ReasonConsentFalse, ReasonConsentInvalid,
		ReasonAssentMissing, ReasonAssentFalse, ReasonAgeUnknown:
		return true
	}
	return false
}

// descriptions are the reason codes in words for people who read reports
// (caseworkers, their managers, ISP signatories).
var descriptions = map[Reason]string{
	ReasonConsentMissing:        "consent not recorded",
	ReasonConsentFalse:          "consent refused",
	ReasonConsentInvalid:        "consent recorded in a form the policy cannot read",
	ReasonConsentRevoked:        "consent withdrawn",
	ReasonRevocationInvalid:     "withdrawal field holds a value that is not yes or no, read as withdrawn",
	ReasonAssentMissing:         "child's assent not recorded",
	ReasonAssentFalse:           "child's assent refused",
	ReasonAgeUnknown:            "age unknown, so assent was required",
	ReasonServiceMissing:        "no service named",
	ReasonServiceNotAllowed:     "service not covered by the agreement",
	ReasonRecipientNotParty:     "recipient not a party to the agreement",
	ReasonSenderNotParty:        "sender not a party to the agreement",
	ReasonPurposeMismatch:       "purpose not the agreement's",
	ReasonOverrideNotPermitted:  "override asked for but the agreement allows none",
	ReasonOverrideReasonMissing: "override asked for without a reason",
	ReasonOverrideReasonUnknown: "override reason not one the agreement names",
	ReasonConsentOverridden:     "shared through a permitted override",
}

// Describe returns the reason in plain words, for reports a person reads
// ("consent refused" for consent_false). A code this package does not
// define is returned as it is.
func (r Reason) Describe() string {
	if d, ok := descriptions[r]; ok {
		return d
	}
	return string(r)
}
