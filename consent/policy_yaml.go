package consent

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// This file holds the YAML shape of a policy. Every scalar remembers its
// line so that Compile can name the line of each problem.

// yStr is a string scalar with its line.
type yStr struct {
	V    string
	Line int
}

// UnmarshalYAML decodes yStr, keeping its line.
func (s *yStr) UnmarshalYAML(n *yaml.Node) error {
	s.Line = n.Line
	if n.Kind != yaml.ScalarNode {
		return &PolicyError{Line: n.Line, Reason: "expected a text value, got " + kindName(n)}
	}
	if n.Tag == "!!null" {
		return nil
	}
	s.V = n.Value
	return nil
}

// yBool is a boolean scalar (true/false only) with its line.
type yBool struct {
	V    bool
	Set  bool
	Line int
}

// UnmarshalYAML decodes yBool, keeping its line.
func (b *yBool) UnmarshalYAML(n *yaml.Node) error {
	b.Line = n.Line
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return &PolicyError{Line: n.Line, Reason: "expected true or false"}
	}
	v, err := strconv.ParseBool(n.Value)
	if err != nil {
		return &PolicyError{Line: n.Line, Reason: "expected true or false"}
	}
	b.V, b.Set = v, true
	return nil
}

// yInt is an integer scalar with its line.
type yInt struct {
	V    int
	Line int
}

// UnmarshalYAML decodes yInt, keeping its line.
func (i *yInt) UnmarshalYAML(n *yaml.Node) error {
	i.Line = n.Line
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return &PolicyError{Line: n.Line, Reason: "expected a whole number"}
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		return &PolicyError{Line: n.Line, Reason: "expected a whole number"}
	}
	i.V = v
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a scalar"
}

// decodeMapping checks that n is a mapping whose keys are all in allowed
// (each at most once), then decodes it into v.
func decodeMapping(n *yaml.Node, v any, allowed ...string) error {
	if n.Kind != yaml.MappingNode {
		return &PolicyError{Line: n.Line, Reason: "expected a mapping, got " + kindName(n)}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ok := false
		for _, a := range allowed {
			if k.Value == a {
				ok = true
				break
			}
		}
		if !ok {
			return &PolicyError{Line: k.Line, Path: k.Value, Reason: fmt.Sprintf("unknown key (allowed: %v)", allowed)}
		}
		if first, dup := seen[k.Value]; dup {
			return &PolicyError{Line: k.Line, Path: k.Value, Reason: fmt.Sprintf("duplicate key (first at line %d)", first)}
		}
		seen[k.Value] = k.Line
	}
	return n.Decode(v)
}

type yPolicy struct {
	ID         yStr         `yaml:"id"`
	Version    yStr         `yaml:"version"`
	Parties    *yParties    `yaml:"parties"`
	Purpose    yStr         `yaml:"purpose"`
	Conditions *yConditions `yaml:"conditions"`
	Services   *yServices   `yaml:"services"`
	Fields     []yStr       `yaml:"fields"`
	Override   *yOverride   `yaml:"override"`
	Revocation *yRevocation `yaml:"revocation"`
	line       int
}

// UnmarshalYAML decodes yPolicy, keeping its line.
func (p *yPolicy) UnmarshalYAML(n *yaml.Node) error {
	type plain yPolicy
	p.line = n.Line
	return decodeMapping(n, (*plain)(p), "id", "version", "parties", "purpose", "conditions", "services", "fields", "override", "revocation")
}

type yParty struct {
	System yStr `yaml:"system"`
	Agency yStr `yaml:"agency"`
	line   int
}

// UnmarshalYAML decodes yParty, keeping its line.
func (p *yParty) UnmarshalYAML(n *yaml.Node) error {
	type plain yParty
	p.line = n.Line
	return decodeMapping(n, (*plain)(p), "system", "agency")
}

type yParties struct {
	Sending   *yParty  `yaml:"sending"`
	Receiving []yParty `yaml:"receiving"`
	line      int
}

// UnmarshalYAML decodes yParties, keeping its line.
func (p *yParties) UnmarshalYAML(n *yaml.Node) error {
	type plain yParties
	p.line = n.Line
	return decodeMapping(n, (*plain)(p), "sending", "receiving")
}

type yConditions struct {
	Consent      []yStr    `yaml:"consent"`
	RevokedField yStr      `yaml:"revoked_field"`
	Strings      *yStrings `yaml:"strings"`
	Age          *yAge     `yaml:"age"`
	Assent       []yAssent `yaml:"assent"`
	line         int
}

// UnmarshalYAML decodes yConditions, keeping its line.
func (c *yConditions) UnmarshalYAML(n *yaml.Node) error {
	type plain yConditions
	c.line = n.Line
	return decodeMapping(n, (*plain)(c), "consent", "revoked_field", "strings", "age", "assent")
}

type yStrings struct {
	True  []yStr `yaml:"true_values"`
	False []yStr `yaml:"false_values"`
	line  int
}

// UnmarshalYAML decodes yStrings, keeping its line.
func (s *yStrings) UnmarshalYAML(n *yaml.Node) error {
	type plain yStrings
	s.line = n.Line
	return decodeMapping(n, (*plain)(s), "true_values", "false_values")
}

type yAge struct {
	DateOfBirth yStr `yaml:"date_of_birth"`
	Age         yStr `yaml:"age"`
	line        int
}

// UnmarshalYAML decodes yAge, keeping its line.
func (a *yAge) UnmarshalYAML(n *yaml.Node) error {
	type plain yAge
	a.line = n.Line
	return decodeMapping(n, (*plain)(a), "date_of_birth", "age")
}

type yAssent struct {
	Under   yInt   `yaml:"under"`
	Require []yStr `yaml:"require"`
	line    int
}

// UnmarshalYAML decodes yAssent, keeping its line.
func (a *yAssent) UnmarshalYAML(n *yaml.Node) error {
	type plain yAssent
	a.line = n.Line
	return decodeMapping(n, (*plain)(a), "under", "require")
}

type yServices struct {
	Field   yStr   `yaml:"field"`
	Allowed []yStr `yaml:"allowed"`
	line    int
}

// UnmarshalYAML decodes yServices, keeping its line.
func (s *yServices) UnmarshalYAML(n *yaml.Node) error {
	type plain yServices
	s.line = n.Line
	return decodeMapping(n, (*plain)(s), "field", "allowed")
}

type yOverride struct {
	Permitted yBool  `yaml:"permitted"`
	Reasons   []yStr `yaml:"reasons"`
	line      int
}

// UnmarshalYAML decodes yOverride, keeping its line.
func (o *yOverride) UnmarshalYAML(n *yaml.Node) error {
	type plain yOverride
	o.line = n.Line
	return decodeMapping(n, (*plain)(o), "permitted", "reasons")
}

type yRevocation struct {
	Action yStr `yaml:"action"`
	line   int
}

// UnmarshalYAML decodes yRevocation, keeping its line.
func (r *yRevocation) UnmarshalYAML(n *yaml.Node) error {
	type plain yRevocation
	r.line = n.Line
	return decodeMapping(n, (*plain)(r), "action")
}
