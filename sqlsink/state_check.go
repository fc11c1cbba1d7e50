package sqlsink

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/casebridge/casebridge/consent"
)

// maxCursor is the longest cursor accepted, in bytes.
const maxCursor = 1024

// checkIdent refuses v unless it is an identifier by the rule of consent
// audit events (consent.IsIdentifier): flow names, kinds, systems, ids,
// keys and trail names are codes and ids, never prose, names, emails or
// phone numbers, which keeps personal data out of the state store. The
// error names the field, never the value.
func checkIdent(field, v string) error {
	if !consent.IsIdentifier(v) {
		return fmt.Errorf("sqlsink: state: %s must be an identifier (see consent.IsIdentifier: letters and digits joined by _-.:/#, no spaces, no names, emails or phone numbers)", field)
	}
	return nil
}

// checkRef checks both parts of a record reference.
func checkRef(field string, r consent.RecordRef) error {
	if err := checkIdent(field+".system", r.System); err != nil {
		return err
	}
	return checkIdent(field+".id", r.ID)
}

// checkLink checks every part of a link.
func checkLink(l Link) error {
	if err := checkIdent("link kind", l.Kind); err != nil {
		return err
	}
	if err := checkRef("link from", l.From); err != nil {
		return err
	}
	return checkRef("link to", l.To)
}

// checkLookup checks the arguments of LinkTo / LinkFrom.
func checkLookup(kind string, ref consent.RecordRef, other string) error {
	if err := checkIdent("link kind", kind); err != nil {
		return err
	}
	if err := checkRef("link record", ref); err != nil {
		return err
	}
	return checkIdent("link system", other)
}

// checkCursor refuses an empty or over-long cursor, invalid UTF-8 and
// control characters; otherwise a cursor is opaque.
func checkCursor(c string) error {
	if c == "" || len(c) > maxCursor || !utf8.ValidString(c) {
		return fmt.Errorf("sqlsink: state: cursor must be 1-%d bytes of UTF-8", maxCursor)
	}
	for _, r := range c {
		if unicode.IsControl(r) {
			return errors.New("sqlsink: state: cursor must not hold control characters")
		}
	}
	return nil
}
