package mapping

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// ParseYAML reads a spec in YAML. name is the file name used in positions.
// Unknown keys are errors, so that a misspelt column never goes unnoticed.
func ParseYAML(name string, data []byte) (*Spec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("mapping: %s: %w", name, err)
	}
	s := &Spec{File: name}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("mapping: %s: empty spec", name)
	}
	root := doc.Content[0]
	p := yamlParser{file: name}
	if root.Kind != yaml.MappingNode {
		return nil, p.errAt(root, "the spec must be a mapping")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var err error
		switch k.Value {
		case "name":
			err = p.scalar(v, &s.Name)
		case "version":
			err = p.scalar(v, &s.Version)
		case "description":
			err = p.scalar(v, &s.Description)
		case "tables":
			s.Tables, err = p.tables(v)
		case "rules":
			s.Rules, err = p.rules(v)
		default:
			err = p.errAt(k, "unknown key %q", k.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

type yamlParser struct{ file string }

func (p yamlParser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line} }

func (p yamlParser) errAt(n *yaml.Node, format string, args ...any) error {
	return &CompileError{Pos: p.pos(n), Msg: fmt.Sprintf(format, args...)}
}

func (p yamlParser) scalar(n *yaml.Node, dst *string) error {
	if n.Kind != yaml.ScalarNode {
		return p.errAt(n, "expected a single value")
	}
	if n.Tag == "!!null" {
		*dst = ""
		return nil
	}
	*dst = n.Value
	return nil
}

func (p yamlParser) boolean(n *yaml.Node, dst *bool) error {
	var s string
	if err := p.scalar(n, &s); err != nil {
		return err
	}
	b, code := toBool(s)
	if code != "" && s != "" {
		return p.errAt(n, "expected true or false")
	}
	*dst, _ = b.(bool)
	return nil
}

// list accepts a single value or a sequence of values.
func (p yamlParser) list(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" || n.Value == "" {
			return nil, nil
		}
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errAt(n, "expected a value or a list")
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		var s string
		if err := p.scalar(c, &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p yamlParser) tables(n *yaml.Node) ([]Table, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, "tables must be a mapping of table name to table")
	}
	var out []Table
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		t := Table{Name: k.Value, Pos: p.pos(k)}
		if v.Kind != yaml.MappingNode {
			return nil, p.errAt(v, "table %q must be a mapping", k.Value)
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			fk, fv := v.Content[j], v.Content[j+1]
			var err error
			switch fk.Value {
			case "unknown":
				err = p.scalar(fv, &t.Unknown)
			case "default":
				err = p.scalar(fv, &t.Default)
			case "two_way":
				err = p.boolean(fv, &t.TwoWay)
			case "notes":
				err = p.scalar(fv, &t.Notes)
			case "entries":
				t.Entries, err = p.entries(fv)
			default:
				err = p.errAt(fk, "table %q: unknown key %q", t.Name, fk.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// entries accepts a mapping (key: value) or a list of {key, value, inverse}.
// Duplicate keys are kept so that Compile can report them (pitfall 18).
func (p yamlParser) entries(n *yaml.Node) ([]Entry, error) {
	var out []Entry
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			e := Entry{Pos: p.pos(n.Content[i])}
			if err := p.scalar(n.Content[i], &e.Key); err != nil {
				return nil, err
			}
			if err := p.scalar(n.Content[i+1], &e.Value); err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind != yaml.MappingNode {
				return nil, p.errAt(c, "an entry must be {key: …, value: …}")
			}
			e := Entry{Pos: p.pos(c)}
			for j := 0; j+1 < len(c.Content); j += 2 {
				fk, fv := c.Content[j], c.Content[j+1]
				var err error
				switch fk.Value {
				case "key":
					err = p.scalar(fv, &e.Key)
				case "value":
					err = p.scalar(fv, &e.Value)
				case "inverse":
					err = p.boolean(fv, &e.Inverse)
				default:
					err = p.errAt(fk, "unknown entry key %q", fk.Value)
				}
				if err != nil {
					return nil, err
				}
			}
			out = append(out, e)
		}
	default:
		return nil, p.errAt(n, "entries must be a mapping or a list")
	}
	return out, nil
}

func (p yamlParser) rules(n *yaml.Node) ([]Rule, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errAt(n, "rules must be a list")
	}
	out := make([]Rule, 0, len(n.Content))
	for _, c := range n.Content {
		if c.Kind != yaml.MappingNode {
			return nil, p.errAt(c, "a rule must be a mapping")
		}
		r := Rule{Pos: p.pos(c)}
		for j := 0; j+1 < len(c.Content); j += 2 {
			fk, fv := c.Content[j], c.Content[j+1]
			var err error
			switch fk.Value {
			case "name":
				err = p.scalar(fv, &r.Name)
			case "target":
				err = p.scalar(fv, &r.Target)
			case "source", "sources":
				var l []string
				l, err = p.list(fv)
				r.Sources = append(r.Sources, l...)
			case "combine":
				err = p.scalar(fv, &r.Combine)
			case "constant":
				err = p.scalar(fv, &r.Constant)
			case "expr":
				err = p.scalar(fv, &r.Expr)
			case "transform":
				r.Transform, err = p.list(fv)
			case "table":
				err = p.scalar(fv, &r.Table)
			case "type":
				err = p.scalar(fv, &r.Type)
			case "layout":
				err = p.scalar(fv, &r.Layout)
			case "format":
				err = p.scalar(fv, &r.Format)
			case "default":
				err = p.scalar(fv, &r.Default)
			case "required":
				err = p.boolean(fv, &r.Required)
			case "when":
				err = p.scalar(fv, &r.When)
			case "notes":
				err = p.scalar(fv, &r.Notes)
			default:
				err = p.errAt(fk, "unknown rule key %q", fk.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// EncodeYAML renders the spec as YAML that ParseYAML reads back to an
// equal spec.
func (s *Spec) EncodeYAML() ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(m *yaml.Node, k string, v *yaml.Node) {
		m.Content = append(m.Content, str(k), v)
	}
	addStr := func(m *yaml.Node, k, v string) {
		if v != "" {
			add(m, k, str(v))
		}
	}
	addStr(root, "name", s.Name)
	addStr(root, "version", s.Version)
	addStr(root, "description", s.Description)
	if len(s.Tables) > 0 {
		tabs := &yaml.Node{Kind: yaml.MappingNode}
		for _, t := range s.Tables {
			tn := &yaml.Node{Kind: yaml.MappingNode}
			addStr(tn, "unknown", t.Unknown)
			addStr(tn, "default", t.Default)
			if t.TwoWay {
				add(tn, "two_way", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
			}
			addStr(tn, "notes", t.Notes)
			es := &yaml.Node{Kind: yaml.SequenceNode}
			for _, e := range t.Entries {
				en := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
				add(en, "key", str(e.Key))
				add(en, "value", str(e.Value))
				if e.Inverse {
					add(en, "inverse", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
				}
				es.Content = append(es.Content, en)
			}
			add(tn, "entries", es)
			add(tabs, t.Name, tn)
		}
		add(root, "tables", tabs)
	}
	rules := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range s.Rules {
		rn := &yaml.Node{Kind: yaml.MappingNode}
		addStr(rn, "name", r.Name)
		addStr(rn, "target", r.Target)
		switch len(r.Sources) {
		case 0:
		case 1:
			add(rn, "source", str(r.Sources[0]))
		default:
			add(rn, "sources", strList(r.Sources))
		}
		addStr(rn, "combine", r.Combine)
		addStr(rn, "constant", r.Constant)
		addStr(rn, "expr", r.Expr)
		if len(r.Transform) > 0 {
			add(rn, "transform", strList(r.Transform))
		}
		addStr(rn, "table", r.Table)
		addStr(rn, "type", r.Type)
		addStr(rn, "layout", r.Layout)
		addStr(rn, "format", r.Format)
		addStr(rn, "default", r.Default)
		if r.Required {
			add(rn, "required", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		}
		addStr(rn, "when", r.When)
		addStr(rn, "notes", r.Notes)
		rules.Content = append(rules.Content, rn)
	}
	add(root, "rules", rules)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// str makes a string scalar; the explicit tag makes the encoder quote
// strings such as "true" or "125080000" so they read back as strings.
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func strList(l []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range l {
		n.Content = append(n.Content, str(s))
	}
	return n
}
