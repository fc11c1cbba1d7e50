package mapping

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// describe says in words how a rule produces its value.
func (r *Rule) describe() string {
	var parts []string
	switch {
	case r.Expr != "":
		parts = append(parts, "computed: "+r.Expr)
	case r.Constant != "":
		parts = append(parts, "constant "+r.Constant)
	case len(r.Sources) > 1 && r.Combine == CombineAll:
		parts = append(parts, "all non-empty sources")
	case len(r.Sources) > 1:
		parts = append(parts, "first non-empty source")
	case len(r.Sources) == 1:
		parts = append(parts, "copy")
	default:
		parts = append(parts, "default only")
	}
	if len(r.Transform) > 0 {
		parts = append(parts, "then "+strings.Join(r.Transform, ", "))
	}
	if r.Table != "" {
		parts = append(parts, "through table "+r.Table)
	}
	if r.Type != "" {
		t := "as " + r.Type
		if r.Layout != "" {
			t += " from layout " + r.Layout
		}
		if r.Format != "" {
			t += " in format " + r.Format
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "; ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// mdCell escapes a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

// Explain writes the spec as Markdown for sign-off: a header with the name,
// version and content hash, one table row per rule and one section per
// value table with its unknown-value policy.
func (s *Spec) Explain(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Mapping %s", mdCell(s.Name))
	if s.Version != "" {
		fmt.Fprintf(&b, " (version %s)", mdCell(s.Version))
	}
	fmt.Fprintf(&b, "\n\nContent hash: `%s`\n\n", s.Hash())
	if s.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", mdCell(s.Description))
	}
	b.WriteString("| # | Target | Source | How | Default | Required | When | Notes |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for i, r := range s.Rules {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", i+1, mdCell(r.Target),
			mdCell(strings.Join(r.Sources, ", ")), mdCell(r.describe()), mdCell(r.Default),
			yesNo(r.Required), mdCell(r.When), mdCell(r.Notes))
	}
	for _, t := range s.Tables {
		fmt.Fprintf(&b, "\n## Table %s\n\nUnknown values: %s", mdCell(t.Name), policyText(&t))
		if t.TwoWay {
			b.WriteString("; two-way")
		}
		b.WriteString("\n\n")
		if t.Notes != "" {
			fmt.Fprintf(&b, "%s\n\n", mdCell(t.Notes))
		}
		b.WriteString("| Key | Value | Inverse |\n|---|---|---|\n")
		for _, e := range t.Entries {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCell(e.Key), mdCell(e.Value), yesNo(e.Inverse))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func policyText(t *Table) string {
	switch t.Unknown {
	case UnknownPass:
		return "passed through unchanged"
	case UnknownDefault:
		return "replaced by " + mdCell(t.Default)
	case UnknownDrop:
		return "field left out"
	}
	return "error"
}

// ExplainCSV writes the same content as Explain as one CSV sheet: a row per
// rule (section "rule") and a row per table entry (section "table"), with
// the content hash in the first row.
func (s *Spec) ExplainCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"section", "name", "target_or_key", "source_or_value", "how", "default", "required", "when", "notes"})
	_ = cw.Write([]string{"spec", s.Name, s.Version, s.Hash(), "", "", "", "", s.Description})
	for _, r := range s.Rules {
		_ = cw.Write([]string{"rule", r.RuleName(), r.Target, strings.Join(r.Sources, csvMulti), r.describe(),
			r.Default, yesNo(r.Required), r.When, r.Notes})
	}
	for _, t := range s.Tables {
		_ = cw.Write([]string{"table", t.Name, "", "", "unknown values: " + policyText(&t), t.Default, "", "", t.Notes})
		for _, e := range t.Entries {
			how := ""
			if e.Inverse {
				how = "inverse"
			}
			_ = cw.Write([]string{"table", t.Name, e.Key, e.Value, how, "", "", "", ""})
		}
	}
	cw.Flush()
	return cw.Error()
}
