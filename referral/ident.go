package referral

import "github.com/casebridge/casebridge/consent"

// Identifiers from outside (intervention numbers, UNHCR numbers, GUIDs)
// become state keys, link ids and audit references, which take only
// consent.IsIdentifier's form. An item whose referral id does not fit is
// refused as invalid data up front, never half-written.

// isKey reports whether s can be a state key, link id or audit reference.
func isKey(s string) bool { return consent.IsIdentifier(s) }

// isPlainID reports whether s looks like an id a system issued: 1 to 100
// ASCII letters, digits and - _ . / (no spaces, no control characters).
// A UNHCR individual number is one, although the audit rule may refuse
// it (all digits starting with 0 reads as a phone number): it is only
// matched on in Primero, never stored as a key.
func isPlainID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '-' || b == '_' || b == '.' || b == '/':
		default:
			return false
		}
	}
	return true
}

// isUserName reports whether s can be a Primero user_name here: printable
// ASCII without spaces, 1 to 100 bytes (user names may be email-like; they
// are never put in the state store or an audit event).
func isUserName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// referralRef is the audit and state reference of a referral: its number
// when that is a key, else fallback (an id of the delivery that carried
// it), and whether the number was used.
func referralRef(system, number, fallback string) (consent.RecordRef, bool) {
	if isKey(number) {
		return consent.RecordRef{System: system, ID: number}, true
	}
	return consent.RecordRef{System: system, ID: fallback}, false
}
