package progres

import (
	"strings"

	"github.com/casebridge/casebridge/internal/transport"
)

// ReferralKey is the id of a referral Primero sends to UNHCR through DTP:
// "<case_id>#<last 12 characters of the service's unique_id>". proGres
// echoes it back as progres_orgreferralid on its decision, so the flow can
// find the case and then the referral whose service_record_id ends with
// the suffix (docs/systems/progres.md).
type ReferralKey struct {
	CaseID        string // Primero case_id
	ServiceSuffix string // last 12 characters of the service unique_id: lower-case hex
}

// SuffixLen is the length of a ReferralKey's service suffix.
const SuffixLen = 12

// maxCaseIDLen bounds a case_id (Primero's are UUIDs).
const maxCaseIDLen = 100

// NewReferralKey builds the key from a case_id and the service's full
// unique_id, and validates it.
func NewReferralKey(caseID, serviceUniqueID string) (ReferralKey, error) {
	if len(serviceUniqueID) < SuffixLen {
		return ReferralKey{}, transport.NewValidationError("service_unique_id", "is shorter than 12 characters")
	}
	k := ReferralKey{CaseID: caseID, ServiceSuffix: serviceUniqueID[len(serviceUniqueID)-SuffixLen:]}
	return k, k.Validate()
}

// ParseReferralKey reads "<case_id>#<suffix>". A value without exactly one
// "#" matches no referral and is refused.
func ParseReferralKey(s string) (ReferralKey, error) {
	caseID, suffix, ok := strings.Cut(s, "#")
	if !ok {
		return ReferralKey{}, transport.NewValidationError("referral_key", "has no '#'")
	}
	k := ReferralKey{CaseID: caseID, ServiceSuffix: suffix}
	return k, k.Validate()
}

// Validate checks both parts: a case_id without '#', whitespace or control
// characters, at most 100 characters; a suffix of 12 lower-case hex digits.
func (k ReferralKey) Validate() error {
	v := &ValidationError{}
	switch {
	case k.CaseID == "":
		v.Add("referral_key.case_id", "is empty")
	case len(k.CaseID) > maxCaseIDLen:
		v.Add("referral_key.case_id", "is longer than 100 characters")
	case strings.ContainsFunc(k.CaseID, func(r rune) bool { return r == '#' || r <= ' ' || r == 0x7f }):
		v.Add("referral_key.case_id", "contains '#', whitespace or control characters")
	}
	if len(k.ServiceSuffix) != SuffixLen || !isLowerHex(k.ServiceSuffix) {
		v.Add("referral_key.service_suffix", "must be 12 lower-case hex digits")
	}
	return v.Err()
}

// String renders "<case_id>#<suffix>".
func (k ReferralKey) String() string { return k.CaseID + "#" + k.ServiceSuffix }

// IsZero reports whether k is the zero key.
func (k ReferralKey) IsZero() bool { return k == ReferralKey{} }

// MatchesService reports whether a Primero service (or referral
// service_record_id) with this unique_id is the one the key names.
func (k ReferralKey) MatchesService(uniqueID string) bool {
	return len(uniqueID) >= SuffixLen && uniqueID[len(uniqueID)-SuffixLen:] == k.ServiceSuffix
}

// MarshalText renders the key; an invalid key is an error.
func (k ReferralKey) MarshalText() ([]byte, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	return []byte(k.String()), nil
}

// UnmarshalText parses the key.
func (k *ReferralKey) UnmarshalText(b []byte) error {
	p, err := ParseReferralKey(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
