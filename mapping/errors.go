package mapping

import (
	"fmt"
	"strings"
)

// Reason codes carried by a FieldError.
const (
	// CodeRequired: a required target has no value after defaults.
	CodeRequired = "required"
	// CodeUnknownValue: a value has no entry in a table whose policy is error.
	CodeUnknownValue = "unknown_value"
	// CodeInvalidType: a value cannot be coerced to the rule's type.
	CodeInvalidType = "invalid_type"
	// CodeInvalidDate: a value is not a date or datetime in the expected layout.
	CodeInvalidDate = "invalid_date"
	// CodeExpr: an expression or condition failed at run time.
	CodeExpr = "expr_error"
	// CodeNotAllowed: a value is not among the schema field's allowed values.
	CodeNotAllowed = "not_allowed"
	// CodeValidate: a value fails the schema field's validator/v10 tag.
	CodeValidate = "invalid"
)

// FieldError is one problem with one field of one record. It names the
// rule, the target path (with concrete list indices) and a reason code, and
// never the value.
type FieldError struct {
	// Rule is the rule's name.
	Rule string
	// Path is the target field path, e.g. "services_section[0].service_type".
	Path string
	// Source is the source path the value came from, when there is one.
	Source string
	// Code is a reason code (CodeRequired, CodeUnknownValue, …).
	Code string
	// Detail adds non-personal context: a table name, a type, a tag.
	Detail string
}

// Error renders the error without any record value.
func (e *FieldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mapping: rule %q: field %s: %s", e.Rule, e.Path, e.Code)
	if e.Detail != "" {
		b.WriteString(" (")
		b.WriteString(e.Detail)
		b.WriteByte(')')
	}
	if e.Source != "" {
		b.WriteString(" from source ")
		b.WriteString(e.Source)
	}
	return b.String()
}

// Errors is every FieldError of one record, in rule order.
type Errors []*FieldError

// Error joins the messages.
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets errors.As find each FieldError.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// CompileError is one problem Compile found in a spec, with its position
// and the rule (or table) it concerns.
type CompileError struct {
	// Pos is the file and line (or CSV row).
	Pos Pos
	// Rule is the rule name, or "" for spec-level problems.
	Rule string
	// Table is the table name when the problem is in a table.
	Table string
	// Msg says what is wrong.
	Msg string
}

// Error renders "file:line: rule "x": msg".
func (e *CompileError) Error() string {
	var b strings.Builder
	b.WriteString("mapping: ")
	if ps := e.Pos.String(); ps != "" {
		b.WriteString(ps)
		b.WriteString(": ")
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	if e.Table != "" {
		fmt.Fprintf(&b, "table %q: ", e.Table)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// CompileErrors is every problem Compile found.
type CompileErrors []*CompileError

// Error joins the messages, one per line.
func (es CompileErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find each CompileError.
func (es CompileErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
