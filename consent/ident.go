package consent

// maxIdent is the longest identifier IsIdentifier accepts, in bytes.
const maxIdent = 200

// IsIdentifier reports whether s is an identifier or a code, the only
// kind of text an audit event (and a policy's ids, parties and override
// reasons) may hold. It is meant to let through the ids and codes that
// real flows write and to refuse personal data that merely lacks spaces.
//
// An identifier is 1 to 200 bytes: tokens of ASCII letters and digits
// joined by single separators '_', '-', '.', ':', '/' or '#', starting and
// ending with a token. That admits Primero UUIDs, short ids and display
// ids ("CP-9e0f12a"), proGres numbers ("ETH-12345678", "123-45678901"),
// composite keys ("<case id>#0a1b2c3d4e5f"), OSCaR and DHIS2 ids, parties
// ("progres/unhcr"), and reason codes ("consent_missing",
// "override_reason:imminent_risk"). Two shapes are refused although made
// of those characters:
//
//   - a token that is a capitalised word or words: letters only, with every
//     upper-case letter followed by a lower-case one ("Firstname",
//     "FirstnameLastname", "firstnameLastname"), so a name joined by '_'
//     or '.' cannot pass; all-capital tokens ("UNHCR", "ETH") and tokens
//     with digits pass;
//   - a phone number: only digits and separators, 9 to 15 digits, starting
//     with 0 (a national number such as "0005550001" or "000-555-0001", or
//     one with the 00 international prefix).
//
// Spaces, '@', '+', '=', '&', '%', non-ASCII letters and control characters
// never pass, so prose, emails, "+" phone numbers, query strings and
// base64 cannot. A name written all in lower or all in capital letters
// ("firstname_lastname") cannot be told from a code and passes: the event
// constructors take identifiers and codes only for that reason.
func IsIdentifier(s string) bool {
	if len(s) == 0 || len(s) > maxIdent {
		return false
	}
	digits, onlyDigits := 0, true
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isAlnum(s[i]) {
			if s[i] >= '0' && s[i] <= '9' {
				digits++
			} else {
				onlyDigits = false
			}
			continue
		}
		if i < len(s) && !isSep(s[i]) {
			return false
		}
		if i == start || isWord(s[start:i]) {
			return false // empty token (leading, trailing or double separator) or a word
		}
		start = i + 1
	}
	if onlyDigits && s[0] == '0' && digits >= 9 && digits <= 15 {
		return false
	}
	return true
}

// isWord reports whether tok (letters and digits) is a capitalised word or
// words: letters only, with at least one upper-case letter, each followed
// by a lower-case one.
func isWord(tok string) bool {
	upper := false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if i+1 == len(tok) || tok[i+1] < 'a' || tok[i+1] > 'z' {
				return false
			}
			upper = true
		case c >= 'a' && c <= 'z':
		default:
			return false
		}
	}
	return upper
}

// isHash reports whether s is a content hash: "algorithm:hexdigits", the
// algorithm in lower-case letters and digits (as "sha256:…"), the digits
// lower-case hex, at most 200 bytes in all.
func isHash(s string) bool {
	if len(s) > maxIdent {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return i > 0 && allOf(s[:i], isLowerAlnum) && i+1 < len(s) && allOf(s[i+1:], isLowerHex)
		}
	}
	return false
}

func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isLowerHex(c byte) bool { return c >= 'a' && c <= 'f' || c >= '0' && c <= '9' }

func isSep(c byte) bool {
	switch c {
	case '_', '-', '.', ':', '/', '#':
		return true
	}
	return false
}
