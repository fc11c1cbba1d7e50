package consent

import (
	"fmt"
	"strings"
)

// Party is one side of an information-sharing protocol: a system (primero,
// progres, oscar, dhis2, …) and the agency operating it.
type Party struct {
	System string `json:"system"`
	Agency string `json:"agency"`
}

// String returns "system/agency", the form used in audit events.
func (p Party) String() string { return p.System + "/" + p.Agency }

// RevocationAction says what flows must do for each recipient when consent
// is withdrawn after data was shared.
type RevocationAction string

// Revocation actions a policy may declare.
const (
	// RevokeAndNotify revokes the referral in the sending system and
	// notifies the recipient to stop processing and delete.
	RevokeAndNotify RevocationAction = "revoke_and_notify"
	// RevokeOnly revokes the referral in the sending system.
	RevokeOnly RevocationAction = "revoke"
	// NotifyOnly notifies the recipient.
	NotifyOnly RevocationAction = "notify"
)

// condField is a compiled consent, assent or revocation field.
type condField struct {
	path string
	segs []segment
}

// assentRule requires extra fields when the person is younger than under.
type assentRule struct {
	under   int
	require []condField
}

// Policy is a compiled information-sharing protocol. It is immutable and
// safe for concurrent use. Build it with Compile or Load.
type Policy struct {
	id, version, purpose string
	sender               Party
	receivers            []Party

	consent     []condField
	revoked     *condField
	trueValues  map[string]bool
	falseValues map[string]bool
	dob, age    *condField
	assent      []assentRule // ascending by under

	serviceField   *condField
	serviceAllowed map[string]bool

	fields    fieldTree
	fieldList []string

	overridePermitted bool
	overrideReasons   map[string]bool

	revocation RevocationAction
	hash       string
}

// ID returns the policy id.
func (p *Policy) ID() string { return p.id }

// Version returns the policy version as written.
func (p *Policy) Version() string { return p.version }

// Purpose returns the one purpose the policy allows sharing for.
func (p *Policy) Purpose() string { return p.purpose }

// Sender returns the sending party.
func (p *Policy) Sender() Party { return p.sender }

// Receivers returns a copy of the receiving parties.
func (p *Policy) Receivers() []Party { return append([]Party(nil), p.receivers...) }

// Fields returns a copy of the need-to-know paths, in policy order.
func (p *Policy) Fields() []string { return append([]string(nil), p.fieldList...) }

// ConsentFields returns the paths of the consent fields that must be true.
func (p *Policy) ConsentFields() []string {
	out := make([]string, len(p.consent))
	for i, c := range p.consent {
		out[i] = c.path
	}
	return out
}

// RevocationAction returns what flows must do on revocation.
func (p *Policy) RevocationAction() RevocationAction { return p.revocation }

// Hash returns the policy's content hash, "sha256:" and 64 hex digits. It
// is computed over a canonical form (see canonical.go), so formatting,
// comments and the order of keys and of list items in the YAML do not
// change it; any change of meaning does.
func (p *Policy) Hash() string { return p.hash }

// PolicyError is one problem found in a policy file.
type PolicyError struct {
	// Line is the 1-based line in the YAML source (0 when unknown).
	Line int
	// Path names the policy key, e.g. "parties.receiving[1].agency".
	Path string
	// Reason says what is wrong.
	Reason string
}

// Error returns "policy line N: path: reason".
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("consent: policy")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}
