package mapping

import (
	"fmt"
	"strings"
)

// InvertError says why a spec or table cannot be inverted: one Reason per
// rule that is not invertible.
type InvertError struct {
	// Reasons are "rule "x": why" lines.
	Reasons []string
}

// Error joins the reasons.
func (e *InvertError) Error() string {
	return "mapping: not invertible: " + strings.Join(e.Reasons, "; ")
}

// Invert derives the reverse mapping: each target becomes a source and each
// two-way table is turned around. A rule is invertible when it copies one
// source path, possibly through a two-way table, split/join transforms and
// a type coercion. Constants, expressions, defaults, conditions, several
// sources, lossy transforms (trim, upper, lower) and list wrapping are not;
// the error names every such rule and why.
func (s *Spec) Invert() (*Spec, error) {
	inv := &Spec{Name: s.Name + ".inverse", Version: s.Version, Description: "inverse of " + s.Name}
	var reasons []string
	used := map[string]bool{}
	for _, r := range s.Rules {
		ir, why := invertRule(&r)
		if why != "" {
			reasons = append(reasons, fmt.Sprintf("rule %q: %s", r.RuleName(), why))
			continue
		}
		if r.Table != "" {
			t, ok := s.TableByName(r.Table)
			if !ok {
				reasons = append(reasons, fmt.Sprintf("rule %q: unknown table %q", r.RuleName(), r.Table))
				continue
			}
			if !used[t.Name] {
				it, err := t.Invert()
				if err != nil {
					reasons = append(reasons, fmt.Sprintf("rule %q: %v", r.RuleName(), err))
					continue
				}
				used[t.Name] = true
				inv.Tables = append(inv.Tables, it)
			}
		}
		inv.Rules = append(inv.Rules, ir)
	}
	if len(reasons) > 0 {
		return nil, &InvertError{Reasons: reasons}
	}
	return inv, nil
}

func invertRule(r *Rule) (Rule, string) {
	switch {
	case r.Expr != "":
		return Rule{}, "computed by an expression"
	case r.Constant != "":
		return Rule{}, "a constant has no source to write back to"
	case len(r.Sources) == 0:
		return Rule{}, "has no source"
	case len(r.Sources) > 1:
		return Rule{}, "combines several sources"
	case r.Default != "":
		return Rule{}, "a default cannot be told apart from a copied value"
	case r.When != "":
		return Rule{}, "has a when condition"
	case r.Type == TypeList:
		return Rule{}, "wraps the value in a list"
	}
	ir := Rule{Name: r.Name, Target: r.Sources[0], Sources: []string{r.Target}, Table: r.Table,
		Required: r.Required, Notes: r.Notes}
	for i := len(r.Transform) - 1; i >= 0; i-- {
		st, err := parseTransform(r.Transform[i])
		if err != nil {
			return Rule{}, err.Error()
		}
		switch st.kind {
		case stepSplit:
			ir.Transform = append(ir.Transform, fmt.Sprintf("join(%q)", st.arg))
		case stepJoin:
			ir.Transform = append(ir.Transform, fmt.Sprintf("split(%q)", st.arg))
		default:
			return Rule{}, fmt.Sprintf("transform %s loses information", r.Transform[i])
		}
	}
	if len(ir.Transform) > 0 && r.Table != "" {
		return Rule{}, "a table after split/join cannot be reordered for the inverse"
	}
	switch r.Type {
	case TypeDate, TypeDatetime:
		ir.Type = r.Type
		ir.Layout = r.Format
		ir.Format = r.Layout
		if r.Layout == "" {
			return Rule{}, "a date without an explicit layout cannot be written back in its original layout"
		}
	}
	return ir, ""
}

// Invert returns the reverse table (value → key). The table must be
// two-way; where several keys share a value, the entry marked Inverse is
// the one the value maps back to. The unknown policy is kept, except that a
// default policy becomes error (the forward default has no single key).
func (t *Table) Invert() (Table, error) {
	if !t.TwoWay {
		return Table{}, fmt.Errorf("table %q is not declared two_way", t.Name)
	}
	it := Table{Name: t.Name, Unknown: t.Unknown, TwoWay: true, Notes: "inverse of " + t.Name}
	if it.Unknown == UnknownDefault {
		it.Unknown, it.Default = UnknownError, ""
	}
	count := map[string]int{}
	chosen := map[string]bool{}
	for _, e := range t.Entries {
		count[e.Value]++
		if e.Inverse {
			chosen[e.Value] = true
		}
	}
	done := map[string]bool{}
	for _, e := range t.Entries {
		if done[e.Value] {
			continue
		}
		if count[e.Value] > 1 && !chosen[e.Value] {
			return Table{}, fmt.Errorf("table %q is not one-to-one: value %q has %d keys and none is marked inverse", t.Name, e.Value, count[e.Value])
		}
		if count[e.Value] > 1 && !e.Inverse {
			continue
		}
		done[e.Value] = true
		it.Entries = append(it.Entries, Entry{Key: e.Value, Value: e.Key})
	}
	return it, nil
}
