package consent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads and compiles the policy file at path.
func Load(path string) (*Policy, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("consent: load policy: %w", err)
	}
	p, err := Compile(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Compile parses and checks a YAML policy. An invalid policy is rejected
// with every problem found, each a *PolicyError naming the line, the key
// and the reason (use errors.As to get the first one). Nothing is returned
// half-built.
//
// Rules: id (letters, digits, '.', '_', '-', and an identifier as
// IsIdentifier describes, since it is written to audit events), version, purpose, the sending
// party and at least one receiving party (each with system and agency,
// identifiers of the same form) are required; conditions.consent lists at least one field; a string is read as
// a boolean only through conditions.strings; assent rules need conditions.age;
// services.allowed lists at least one service type; fields lists at least one
// need-to-know path and no two paths overlap; override.permitted true needs
// at least one named reason; revocation.action is one of revoke_and_notify,
// revoke, notify.
func Compile(src []byte) (*Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &PolicyError{Reason: "empty policy"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &PolicyError{Line: extra.Line, Reason: "more than one YAML document"}
	}
	if len(doc.Content) == 0 {
		return nil, &PolicyError{Reason: "empty policy"}
	}
	var y yPolicy
	if err := doc.Content[0].Decode(&y); err != nil {
		return nil, yamlError(err)
	}
	c := compiler{}
	p := c.policy(&y)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	p.hash = canonicalHash(p)
	return p, nil
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// yamlError turns a decoder error into a *PolicyError keeping its line.
func yamlError(err error) error {
	var pe *PolicyError
	if errors.As(err, &pe) {
		return pe
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	return &PolicyError{Line: line, Reason: "invalid YAML: " + msg}
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// isPolicyIdent reports whether s may be a policy id, party or override
// reason: letters, digits, '.', '_' and '-', and an identifier as audit
// events accept it (IsIdentifier), because each of them ends up in one.
func isPolicyIdent(s string) bool { return idRE.MatchString(s) && IsIdentifier(s) }

type compiler struct {
	errs []error
}

func (c *compiler) fail(line int, path, format string, args ...any) {
	c.errs = append(c.errs, &PolicyError{Line: line, Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (c *compiler) required(s yStr, parentLine int, path string) string {
	v := strings.TrimSpace(s.V)
	if v == "" {
		line := s.Line
		if line == 0 {
			line = parentLine
		}
		c.fail(line, path, "required")
	}
	return v
}

func (c *compiler) field(s yStr, path string) *condField {
	segs, err := parsePath(s.V)
	if err != nil {
		c.fail(s.Line, path, "%v", err)
		return nil
	}
	return &condField{path: s.V, segs: segs}
}

// plainField compiles a field path that must not contain [*] (a single value).
func (c *compiler) plainField(s yStr, path string) *condField {
	f := c.field(s, path)
	if f == nil {
		return nil
	}
	for _, sg := range f.segs {
		if sg.list {
			c.fail(s.Line, path, "a condition field must name one value, not a list ([*])")
			return nil
		}
	}
	return f
}

func (c *compiler) party(y *yParty, parentLine int, path string) Party {
	if y == nil {
		c.fail(parentLine, path, "required")
		return Party{}
	}
	pt := Party{
		System: c.required(y.System, y.line, path+".system"),
		Agency: c.required(y.Agency, y.line, path+".agency"),
	}
	// Parties appear in audit events, which hold codes only.
	if pt.System != "" && !isPolicyIdent(pt.System) {
		c.fail(y.System.Line, path+".system", "an identifier: only letters, digits, '.', '_' and '-', and not a name (see consent.IsIdentifier)")
	}
	if pt.Agency != "" && !isPolicyIdent(pt.Agency) {
		c.fail(y.Agency.Line, path+".agency", "an identifier (the agency's unique id): only letters, digits, '.', '_' and '-', and not a name (see consent.IsIdentifier)")
	}
	return pt
}

func (c *compiler) policy(y *yPolicy) *Policy {
	p := &Policy{}
	p.id = c.required(y.ID, y.line, "id")
	if p.id != "" && !isPolicyIdent(p.id) {
		c.fail(y.ID.Line, "id", "only letters, digits, '.', '_' and '-' are allowed, and not a name (see consent.IsIdentifier)")
	}
	p.version = c.required(y.Version, y.line, "version")
	p.purpose = c.required(y.Purpose, y.line, "purpose")

	if y.Parties == nil {
		c.fail(y.line, "parties", "required")
	} else {
		p.sender = c.party(y.Parties.Sending, y.Parties.line, "parties.sending")
		if len(y.Parties.Receiving) == 0 {
			c.fail(y.Parties.line, "parties.receiving", "at least one receiving party is required")
		}
		seen := map[Party]bool{}
		for i := range y.Parties.Receiving {
			r := &y.Parties.Receiving[i]
			path := fmt.Sprintf("parties.receiving[%d]", i)
			pt := c.party(r, y.Parties.line, path)
			if seen[pt] {
				c.fail(r.line, path, "duplicate receiving party %s", pt)
			}
			seen[pt] = true
			p.receivers = append(p.receivers, pt)
		}
	}

	c.conditions(p, y)
	c.services(p, y)
	c.fieldsList(p, y)
	c.override(p, y)

	if y.Revocation == nil {
		c.fail(y.line, "revocation", "required (revocation.action: revoke_and_notify, revoke or notify)")
	} else {
		switch a := RevocationAction(strings.TrimSpace(y.Revocation.Action.V)); a {
		case RevokeAndNotify, RevokeOnly, NotifyOnly:
			p.revocation = a
		default:
			line := y.Revocation.Action.Line
			if line == 0 {
				line = y.Revocation.line
			}
			c.fail(line, "revocation.action", "must be revoke_and_notify, revoke or notify")
		}
	}
	return p
}

func (c *compiler) conditions(p *Policy, y *yPolicy) {
	cond := y.Conditions
	if cond == nil {
		c.fail(y.line, "conditions", "required (conditions.consent lists the consent fields)")
		return
	}
	if len(cond.Consent) == 0 {
		c.fail(cond.line, "conditions.consent", "at least one consent field is required")
	}
	seen := map[string]bool{}
	for i, s := range cond.Consent {
		path := fmt.Sprintf("conditions.consent[%d]", i)
		if seen[s.V] {
			c.fail(s.Line, path, "duplicate consent field %q", s.V)
		}
		seen[s.V] = true
		if f := c.plainField(s, path); f != nil {
			p.consent = append(p.consent, *f)
		}
	}
	if cond.RevokedField.V != "" {
		p.revoked = c.plainField(cond.RevokedField, "conditions.revoked_field")
	}
	if st := cond.Strings; st != nil {
		p.trueValues = c.stringSet(st.True, "conditions.strings.true_values")
		p.falseValues = c.stringSet(st.False, "conditions.strings.false_values")
		if len(p.trueValues) == 0 {
			c.fail(st.line, "conditions.strings.true_values", "at least one value is required when strings is given")
		}
		for v := range p.trueValues {
			if p.falseValues[v] {
				c.fail(st.line, "conditions.strings", "%q is both a true and a false value", v)
			}
		}
	}
	if a := cond.Age; a != nil {
		if a.DateOfBirth.V == "" && a.Age.V == "" {
			c.fail(a.line, "conditions.age", "date_of_birth or age (a field path) is required")
		}
		if a.DateOfBirth.V != "" {
			p.dob = c.plainField(a.DateOfBirth, "conditions.age.date_of_birth")
		}
		if a.Age.V != "" {
			p.age = c.plainField(a.Age, "conditions.age.age")
		}
	}
	if len(cond.Assent) > 0 && cond.Age == nil {
		c.fail(cond.Assent[0].line, "conditions.assent", "assent rules need conditions.age to know the age")
	}
	unders := map[int]bool{}
	for i, a := range cond.Assent {
		path := fmt.Sprintf("conditions.assent[%d]", i)
		if unders[a.Under.V] {
			c.fail(a.Under.Line, path+".under", "another assent rule already uses under: %d (merge their require lists)", a.Under.V)
		}
		unders[a.Under.V] = true
		if a.Under.V <= 0 || a.Under.V > 150 {
			line := a.Under.Line
			if line == 0 {
				line = a.line
			}
			c.fail(line, path+".under", "must be an age in years between 1 and 150")
		}
		if len(a.Require) == 0 {
			c.fail(a.line, path+".require", "at least one field is required")
		}
		rule := assentRule{under: a.Under.V}
		for j, s := range a.Require {
			if f := c.plainField(s, fmt.Sprintf("%s.require[%d]", path, j)); f != nil {
				rule.require = append(rule.require, *f)
			}
		}
		p.assent = append(p.assent, rule)
	}
	for i := 1; i < len(p.assent); i++ {
		for j := i; j > 0 && p.assent[j].under < p.assent[j-1].under; j-- {
			p.assent[j], p.assent[j-1] = p.assent[j-1], p.assent[j]
		}
	}
}

func (c *compiler) stringSet(vals []yStr, path string) map[string]bool {
	set := map[string]bool{}
	for i, s := range vals {
		v := normString(s.V)
		if v == "" {
			c.fail(s.Line, fmt.Sprintf("%s[%d]", path, i), "empty value")
			continue
		}
		set[v] = true
	}
	return set
}

// normString is how declared and record strings are compared: trimmed and
// lower-cased.
func normString(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func (c *compiler) services(p *Policy, y *yPolicy) {
	s := y.Services
	if s == nil {
		c.fail(y.line, "services", "required (services.allowed lists the service types)")
		return
	}
	if s.Field.V != "" {
		p.serviceField = c.field(s.Field, "services.field")
	}
	if len(s.Allowed) == 0 {
		c.fail(s.line, "services.allowed", "at least one service type is required")
	}
	p.serviceAllowed = map[string]bool{}
	for i, a := range s.Allowed {
		v := strings.TrimSpace(a.V)
		path := fmt.Sprintf("services.allowed[%d]", i)
		switch {
		case v == "":
			c.fail(a.Line, path, "empty service type")
		case p.serviceAllowed[v]:
			c.fail(a.Line, path, "duplicate service type %q", v)
		}
		p.serviceAllowed[v] = true
	}
}

func (c *compiler) fieldsList(p *Policy, y *yPolicy) {
	if len(y.Fields) == 0 {
		c.fail(y.line, "fields", "at least one need-to-know field is required")
		return
	}
	for i, s := range y.Fields {
		path := fmt.Sprintf("fields[%d]", i)
		segs, err := parsePath(s.V)
		if err != nil {
			c.fail(s.Line, path, "%v", err)
			continue
		}
		if err := p.fields.add(s.V, segs); err != nil {
			c.fail(s.Line, path, "%v", err)
			continue
		}
		p.fieldList = append(p.fieldList, s.V)
	}
}

func (c *compiler) override(p *Policy, y *yPolicy) {
	o := y.Override
	if o == nil {
		c.fail(y.line, "override", "required (override.permitted: true or false)")
		return
	}
	if !o.Permitted.Set {
		c.fail(o.line, "override.permitted", "required (true or false)")
	}
	p.overridePermitted = o.Permitted.V
	if !p.overridePermitted {
		if len(o.Reasons) > 0 {
			c.fail(o.Reasons[0].Line, "override.reasons", "reasons given but override.permitted is false")
		}
		return
	}
	if len(o.Reasons) == 0 {
		c.fail(o.line, "override.reasons", "a permitted override needs at least one named reason")
	}
	p.overrideReasons = map[string]bool{}
	for i, r := range o.Reasons {
		v := strings.TrimSpace(r.V)
		path := fmt.Sprintf("override.reasons[%d]", i)
		switch {
		case v == "":
			c.fail(r.Line, path, "empty reason")
		case !isPolicyIdent(v):
			c.fail(r.Line, path, "a reason is a code: only letters, digits, '.', '_' and '-', and not a name (see consent.IsIdentifier)")
		case p.overrideReasons[v]:
			c.fail(r.Line, path, "duplicate reason %q", v)
		}
		p.overrideReasons[v] = true
	}
}
