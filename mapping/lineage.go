package mapping

import "context"

// Lineage says where a target field comes from. It never holds values.
type Lineage struct {
	// Target is the target path.
	Target string
	// Rule is the rule's name.
	Rule string
	// Sources are the source paths the rule reads, in order.
	Sources []string
	// How describes the rule: copy, constant, computed, table, type.
	How string
	// Table is the value table used, if any.
	Table string
	// Pos is where the rule is declared.
	Pos Pos
}

// Lineage returns, for every target field, the source paths and rule that
// produce it, in rule order.
func (m *Mapping) Lineage() []Lineage {
	out := make([]Lineage, 0, len(m.rules))
	for _, cr := range m.rules {
		r := cr.rule
		out = append(out, Lineage{Target: r.Target, Rule: r.RuleName(), Sources: append([]string(nil), r.Sources...),
			How: r.describe(), Table: r.Table, Pos: r.Pos})
	}
	return out
}

// Trace is the lineage of one field of one mapped record: which rule wrote
// it, from which source path, and whether a default stood in for a missing
// or unknown value. It never holds values.
type Trace struct {
	// Path is the written target path, with concrete list indices.
	Path string
	// Rule is the rule's name.
	Rule string
	// Source is the source path the value came from ("" for constants,
	// expressions and combined sources).
	Source string
	// Defaulted is true when the rule's default was used.
	Defaulted bool
	// TableDefault is true when the table's unknown-value default was used.
	TableDefault bool
}

// ApplyTrace is Apply that also returns the lineage of every field written,
// so that each use of a default is reported (pitfall 19).
func (m *Mapping) ApplyTrace(ctx context.Context, src Record) (Record, []Trace, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var traces []Trace
	a := applier{m: m, src: src, out: make(Record, len(m.rules)), trace: &traces}
	a.run()
	if len(a.errs) > 0 {
		return nil, nil, a.errs[0]
	}
	return a.out, traces, nil
}
