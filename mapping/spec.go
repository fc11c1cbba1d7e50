package mapping

import (
	"fmt"
	"sort"
)

// Spec is a mapping spec: the canonical form that the YAML and CSV files
// both decode into. Field order in Rules is preserved; Tables are kept in
// file order but compared and hashed by name.
type Spec struct {
	// Name identifies the mapping, e.g. "progres_to_primero".
	Name string `json:"name"`
	// Version is the version agreed at sign-off.
	Version string `json:"version,omitempty"`
	// Description is free text shown by Explain.
	Description string `json:"description,omitempty"`
	// Tables are the named value tables that rules refer to.
	Tables []Table `json:"tables,omitempty"`
	// Rules fill the target fields, one rule per target.
	Rules []Rule `json:"rules"`
	// File is the file the spec was read from, used in compile errors.
	File string `json:"-"`
}

// Combine values say how a rule with several sources combines them.
const (
	// CombineFirst takes the first non-empty source (the default).
	CombineFirst = "first"
	// CombineAll collects every non-empty source into a list, in order.
	CombineAll = "all"
)

// Unknown-value policies of a Table.
const (
	// UnknownError makes an unmapped value an error (the default).
	UnknownError = "error"
	// UnknownPass passes an unmapped value through unchanged.
	UnknownPass = "pass"
	// UnknownDefault replaces an unmapped value with the table's Default.
	UnknownDefault = "default"
	// UnknownDrop leaves the target field out.
	UnknownDrop = "drop"
)

// Rule fills one target field.
type Rule struct {
	// Name identifies the rule in errors and lineage; it defaults to Target.
	Name string `json:"name,omitempty"`
	// Target is the output path, e.g. "services_section[0].service_type"
	// or "services[*].type".
	Target string `json:"target"`
	// Sources are source paths. With one source the value is copied; with
	// several, Combine says how they are combined.
	Sources []string `json:"sources,omitempty"`
	// Combine is CombineFirst (default) or CombineAll.
	Combine string `json:"combine,omitempty"`
	// Constant is a fixed value (coerced by Type).
	Constant string `json:"constant,omitempty"`
	// Expr is an expr-lang expression computing the value; the record is
	// its environment (use $env["a.b"] for keys that contain dots).
	Expr string `json:"expr,omitempty"`
	// Transform lists transforms applied in order before the table:
	// trim, upper, lower, split("sep"), join("sep").
	Transform []string `json:"transform,omitempty"`
	// Table names the value table the value is looked up in.
	Table string `json:"table,omitempty"`
	// Type is the output type: string, int, float, bool, date, datetime or
	// list. Empty means the value is kept as it is.
	Type string `json:"type,omitempty"`
	// Layout is the Go time layout of a date or datetime input; when empty,
	// RFC 3339, "2006-01-02T15:04:05" and "2006-01-02" are tried.
	Layout string `json:"layout,omitempty"`
	// Format is the Go time layout of a date or datetime output; it
	// defaults to "2006-01-02" for date and RFC 3339 for datetime.
	Format string `json:"format,omitempty"`
	// Default is used when the value is missing or empty.
	Default string `json:"default,omitempty"`
	// Required makes a value missing after defaults an error.
	Required bool `json:"required,omitempty"`
	// When is an expr-lang condition; the rule only runs when it is true.
	When string `json:"when,omitempty"`
	// Notes is free text for the people who sign the mapping off.
	Notes string `json:"notes,omitempty"`
	// Pos is where the rule was declared.
	Pos Pos `json:"-"`
}

// RuleName returns the rule's name, or its target when it has none.
func (r *Rule) RuleName() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Target
}

// Table is a named value table.
type Table struct {
	// Name is how rules refer to the table.
	Name string `json:"name"`
	// Unknown is the policy for values that have no entry: UnknownError
	// (default), UnknownPass, UnknownDefault or UnknownDrop.
	Unknown string `json:"unknown,omitempty"`
	// Default is the value used by the UnknownDefault policy.
	Default string `json:"default,omitempty"`
	// TwoWay declares that the table must invert: every value maps back to
	// exactly one key, either because values are distinct or because one
	// entry per shared value is marked Inverse.
	TwoWay bool `json:"two_way,omitempty"`
	// Notes is free text shown by Explain.
	Notes string `json:"notes,omitempty"`
	// Entries are the key → value pairs, in order.
	Entries []Entry `json:"entries"`
	// Pos is where the table was declared.
	Pos Pos `json:"-"`
}

// Entry is one key → value pair of a Table.
type Entry struct {
	// Key is the source value.
	Key string `json:"key"`
	// Value is the target value.
	Value string `json:"value"`
	// Inverse marks this key as the one the inverse table maps Value back
	// to when several keys share Value.
	Inverse bool `json:"inverse,omitempty"`
	// Pos is where the entry was declared.
	Pos Pos `json:"-"`
}

// Pos is a position in a spec file: a line for YAML, a row for CSV (rows are
// counted like lines, the header being row 1).
type Pos struct {
	// File is the file name.
	File string
	// Line is the 1-based line or CSV row; 0 when unknown.
	Line int
}

// String renders the position as "file:line".
func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return ""
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
}

// TableByName returns the table with the given name.
func (s *Spec) TableByName(name string) (*Table, bool) {
	for i := range s.Tables {
		if s.Tables[i].Name == name {
			return &s.Tables[i], true
		}
	}
	return nil, false
}

// canonical returns a copy with tables sorted by name, the form that is
// hashed and compared.
func (s *Spec) canonical() Spec {
	c := *s
	c.Tables = append([]Table(nil), s.Tables...)
	sort.SliceStable(c.Tables, func(i, j int) bool { return c.Tables[i].Name < c.Tables[j].Name })
	return c
}
