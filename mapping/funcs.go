package mapping

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// safeBuiltins are the expr-lang builtins an expression may use; all others
// (now, date, fromJSON, …) are disabled so that expressions stay pure.
var safeBuiltins = []string{
	"len", "trim", "trimPrefix", "trimSuffix", "upper", "lower", "split", "join",
	"replace", "hasPrefix", "hasSuffix", "indexOf", "string", "int", "float",
	"abs", "min", "max", "first", "last", "filter", "map", "all", "any", "none",
	"one", "count",
}

// Fixed error messages: they never carry a value of the record.
var (
	errFuncArgs = errors.New("wrong number of arguments")
	errFuncDate = errors.New("argument is not a date")
)

// exprOptions is the restricted environment every expression compiles in:
// the record's fields (any key; $env["a.b"] for keys with dots) and the
// safe function set.
func exprOptions() []expr.Option {
	opts := []expr.Option{
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
		expr.DisableAllBuiltins(),
		expr.MaxNodes(500),
	}
	for _, b := range safeBuiltins {
		opts = append(opts, expr.EnableBuiltin(b))
	}
	return append(opts,
		expr.Function("age", fnAge),
		expr.Function("concat", fnConcat),
		expr.Function("coalesce", fnCoalesce),
		expr.Function("substr", fnSubstr),
		expr.Function("formatDate", fnFormatDate),
		expr.Function("joinNonEmpty", fnJoinNonEmpty),
	)
}

func parseDateArg(v any) (time.Time, bool, error) {
	if isEmpty(v) {
		return time.Time{}, false, nil
	}
	c := coercer{layouts: defaultLayouts, defaultLayouts: true}
	t, ok := c.parseTime(v)
	if !ok {
		return time.Time{}, false, errFuncDate
	}
	return t, true, nil
}

// dateParts returns the calendar date of a date argument as written.
func dateParts(v any) (y, m, d int, ok bool, err error) {
	if s, isStr := v.(string); isStr {
		if y, m, d, _, _, ok := isoDate(s); ok {
			return y, m, d, true, nil
		}
	}
	t, ok, err := parseDateArg(v)
	if err != nil || !ok {
		return 0, 0, 0, false, err
	}
	return t.Year(), int(t.Month()), t.Day(), true, nil
}

// fnAge is age(dob, at): whole years from dob to at. A missing dob gives
// nil, so a record without a date of birth gets no age (pitfall 20).
func fnAge(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, errFuncArgs
	}
	dy, dm, dd, ok, err := dateParts(args[0])
	if err != nil || !ok {
		return nil, err
	}
	ay, am, ad, ok, err := dateParts(args[1])
	if err != nil || !ok {
		return nil, err
	}
	years := ay - dy
	if am < dm || (am == dm && ad < dd) {
		years--
	}
	if years < 0 {
		return nil, nil
	}
	return years, nil
}

// fnConcat is concat(a, b, …): the string forms of the non-nil arguments,
// concatenated.
func fnConcat(args ...any) (any, error) {
	var b strings.Builder
	for _, a := range args {
		if s, ok := toString(a); ok {
			b.WriteString(s)
		}
	}
	return b.String(), nil
}

// fnCoalesce is coalesce(a, b, …): the first non-empty argument, or nil.
func fnCoalesce(args ...any) (any, error) {
	for _, a := range args {
		if !isEmpty(a) {
			return a, nil
		}
	}
	return nil, nil
}

// fnJoinNonEmpty is joinNonEmpty(sep, a, b, …): the non-empty arguments
// joined with sep.
func fnJoinNonEmpty(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, errFuncArgs
	}
	sep, _ := toString(args[0])
	parts := make([]string, 0, len(args)-1)
	for _, a := range args[1:] {
		if s, ok := toString(a); ok && strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep), nil
}

// fnSubstr is substr(s, start[, length]) over runes, clamped to the string.
func fnSubstr(args ...any) (any, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, errFuncArgs
	}
	if args[0] == nil {
		return nil, nil
	}
	s, _ := toString(args[0])
	r := []rune(s)
	start, code := toInt(args[1])
	if code != "" {
		return nil, errFuncArgs
	}
	from := clamp(start.(int), len(r))
	to := len(r)
	if len(args) == 3 {
		n, code := toInt(args[2])
		if code != "" {
			return nil, errFuncArgs
		}
		to = clamp(from+max(n.(int), 0), len(r))
	}
	return string(r[from:to]), nil
}

func clamp(i, n int) int {
	if i < 0 {
		i += n
		if i < 0 {
			return 0
		}
	}
	if i > n {
		return n
	}
	return i
}

// fnFormatDate is formatDate(date, layout): the date rendered with a Go
// layout; nil when date is missing.
func fnFormatDate(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, errFuncArgs
	}
	t, ok, err := parseDateArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	layout, _ := toString(args[1])
	return t.Format(layout), nil
}

// safeFuncs are the functions exprOptions defines.
var safeFuncs = map[string]bool{"age": true, "concat": true, "coalesce": true, "substr": true,
	"formatDate": true, "joinNonEmpty": true}

// callChecker rejects calls to anything but the safe function set: with
// undefined variables allowed, expr would otherwise accept a call to an
// unknown name (or a method of a value) and fail only at run time.
type callChecker struct{ bad string }

// Visit records the first call to a name outside safeFuncs.
func (c *callChecker) Visit(n *ast.Node) {
	call, ok := (*n).(*ast.CallNode)
	if !ok || c.bad != "" {
		return
	}
	switch callee := call.Callee.(type) {
	case *ast.IdentifierNode:
		if !safeFuncs[callee.Value] {
			c.bad = callee.Value
		}
	default:
		c.bad = "a method"
	}
}

// envShadowScan finds a "let $env = …" declaration, after which $env no
// longer names the record.
type envShadowScan struct{ found *bool }

// Visit notes a variable declared as $env.
func (s envShadowScan) Visit(n *ast.Node) {
	if d, ok := (*n).(*ast.VariableDeclaratorNode); ok && d.Name == "$env" {
		*s.found = true
	}
}

// envKeyReads rewrites $env["a.b"] into a plain read of the field "a.b".
// expr reads $env[…] through reflection, which allocates, and a field name
// compiles to a direct map read; both give the value or nil. Only dotted
// keys are rewritten: they cannot be the name of a variable or a function,
// so the rewritten name can only mean the field.
type envKeyReads struct{ shadowed *bool }

// Visit rewrites one $env["a.b"].
func (e envKeyReads) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok || m.Optional || *e.shadowed {
		return
	}
	env, ok := m.Node.(*ast.IdentifierNode)
	if !ok || env.Value != "$env" {
		return
	}
	key, ok := m.Property.(*ast.StringNode)
	if !ok || !strings.Contains(key.Value, ".") {
		return
	}
	ast.Patch(n, &ast.IdentifierNode{Value: key.Value})
}

// compileExpr compiles an expression in the restricted environment.
func compileExpr(code string, extra ...expr.Option) (*vm.Program, error) {
	// Patchers run in order, each over the whole tree: the scan for a
	// declared $env is complete before any $env["a.b"] is rewritten.
	var shadowed bool
	opts := append(exprOptions(), expr.Patch(envShadowScan{&shadowed}), expr.Patch(envKeyReads{&shadowed}))
	p, err := expr.Compile(code, append(opts, extra...)...)
	if err != nil {
		return nil, err
	}
	var c callChecker
	node := p.Node()
	ast.Walk(&node, &c)
	if c.bad != "" {
		return nil, fmt.Errorf("calls %s, which is not in the safe function set", c.bad)
	}
	return p, nil
}
