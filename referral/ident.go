package referral

import "github.com/casebridge/casebridge/consent"

// Identifiers from outside (intervention numbers, UNHCR numbers) become
// state keys, link ids and audit references. The state store takes
// letters, digits and _.:/@+=- (at most 200 bytes); audit events take
// consent.IsIdentifier's narrower form. An item whose ids do not fit is
// refused as invalid data up front, never half-written.

// isStateID reports whether s fits the state store's identifiers.
func isStateID(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '_' || b == '.' || b == ':' || b == '/' || b == '@' || b == '+' || b == '=' || b == '-':
		default:
			return false
		}
	}
	return true
}

// isUserName reports whether s can be a Primero user_name here: a state
// identifier (user names may be email-like, which audit events refuse, so
// they are never put in an event).
func isUserName(s string) bool { return isStateID(s) }

// referralRef is the audit and state reference of a referral: its number
// when that is an identifier, else fallback (an id of the delivery that
// carried it).
func referralRef(system, number, fallback string) (consent.RecordRef, bool) {
	if consent.IsIdentifier(number) && isStateID(number) {
		return consent.RecordRef{System: system, ID: number}, true
	}
	return consent.RecordRef{System: system, ID: fallback}, false
}
