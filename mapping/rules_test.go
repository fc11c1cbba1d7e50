package mapping

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustCompile(t testing.TB, s *Spec, opts ...Option) *Mapping {
	t.Helper()
	m, err := Compile(s, opts...)
	require.NoError(t, err)
	return m
}

func TestApplyRules(t *testing.T) {
	tables := []Table{
		{Name: "codes", Entries: []Entry{{Key: "a", Value: "alpha"}, {Key: "b", Value: "beta"}}},
		{Name: "pass", Unknown: UnknownPass, Entries: []Entry{{Key: "a", Value: "alpha"}}},
		{Name: "dflt", Unknown: UnknownDefault, Default: "other", Entries: []Entry{{Key: "a", Value: "alpha"}}},
		{Name: "drop", Unknown: UnknownDrop, Entries: []Entry{{Key: "a", Value: "alpha"}}},
	}
	src := Record{
		"s": "  Mixed Case  ", "n": 42.0, "ns": "17", "f": "2.5", "code": "a", "other": "zz",
		"empty": "", "blank": "   ", "yes": "yes", "no": "NO", "one": 1.0, "zero": "0", "t": true,
		"dob": "2016-07-19T00:00:00", "dmy": "19/07/2016", "csv": "x, y,,z",
		"list": []any{"p", "q"}, "codes": []any{"a", "b"},
		"flat.key": "flat", "nested": map[string]any{"key": "deep", "list": []any{map[string]any{"v": "first"}, map[string]any{"v": "second"}}},
		"rows": []any{
			map[string]any{"type": "a", "when": "2025-01-02T03:04:05Z"},
			map[string]any{"type": "b", "when": "2025-02-03T04:05:06Z"},
		},
	}
	cases := []struct {
		name string
		rule Rule
		want any // nil means the target must be absent
		code string
	}{
		{"copy", Rule{Target: "out", Sources: []string{"s"}}, "  Mixed Case  ", ""},
		{"copy missing is absent", Rule{Target: "out", Sources: []string{"nope"}}, nil, ""},
		{"copy flattened dotted key", Rule{Target: "out", Sources: []string{"flat.key"}}, "flat", ""},
		{"copy nested path", Rule{Target: "out", Sources: []string{"nested.key"}}, "deep", ""},
		{"copy list index", Rule{Target: "out", Sources: []string{"nested.list[1].v"}}, "second", ""},
		{"copy list index out of range is absent", Rule{Target: "out", Sources: []string{"nested.list[5].v"}}, nil, ""},
		{"constant", Rule{Target: "out", Constant: "fixed"}, "fixed", ""},
		{"constant typed bool", Rule{Target: "out", Constant: "yes", Type: TypeBool}, true, ""},
		{"default when missing", Rule{Target: "out", Sources: []string{"nope"}, Default: "d"}, "d", ""},
		{"default when empty", Rule{Target: "out", Sources: []string{"empty"}, Default: "d"}, "d", ""},
		{"default when blank", Rule{Target: "out", Sources: []string{"blank"}, Default: "d"}, "d", ""},
		{"default not used when present", Rule{Target: "out", Sources: []string{"code"}, Default: "d"}, "a", ""},
		{"default only", Rule{Target: "out", Default: "d"}, "d", ""},
		{"required present", Rule{Target: "out", Sources: []string{"code"}, Required: true}, "a", ""},
		{"required missing", Rule{Target: "out", Sources: []string{"nope"}, Required: true}, nil, CodeRequired},
		{"required empty", Rule{Target: "out", Sources: []string{"empty"}, Required: true}, nil, CodeRequired},
		{"required satisfied by default", Rule{Target: "out", Sources: []string{"nope"}, Default: "d", Required: true}, "d", ""},
		{"table hit", Rule{Target: "out", Sources: []string{"code"}, Table: "codes"}, "alpha", ""},
		{"table unknown error", Rule{Target: "out", Sources: []string{"other"}, Table: "codes"}, nil, CodeUnknownValue},
		{"table unknown pass", Rule{Target: "out", Sources: []string{"other"}, Table: "pass"}, "zz", ""},
		{"table unknown default", Rule{Target: "out", Sources: []string{"other"}, Table: "dflt"}, "other", ""},
		{"table unknown drop", Rule{Target: "out", Sources: []string{"other"}, Table: "drop"}, nil, ""},
		{"table number key", Rule{Target: "out", Sources: []string{"n"}, Table: "pass"}, 42.0, ""},
		{"table over a list", Rule{Target: "out", Sources: []string{"codes"}, Table: "codes"}, []any{"alpha", "beta"}, ""},
		{"string from number", Rule{Target: "out", Sources: []string{"n"}, Type: TypeString}, "42", ""},
		{"int from number", Rule{Target: "out", Sources: []string{"n"}, Type: TypeInt}, 42, ""},
		{"int from string", Rule{Target: "out", Sources: []string{"ns"}, Type: TypeInt}, 17, ""},
		{"int from bad string", Rule{Target: "out", Sources: []string{"s"}, Type: TypeInt}, nil, CodeInvalidType},
		{"float from string", Rule{Target: "out", Sources: []string{"f"}, Type: TypeFloat}, 2.5, ""},
		{"bool yes", Rule{Target: "out", Sources: []string{"yes"}, Type: TypeBool}, true, ""},
		{"bool NO", Rule{Target: "out", Sources: []string{"no"}, Type: TypeBool}, false, ""},
		{"bool 1", Rule{Target: "out", Sources: []string{"one"}, Type: TypeBool}, true, ""},
		{"bool \"0\"", Rule{Target: "out", Sources: []string{"zero"}, Type: TypeBool}, false, ""},
		{"bool true", Rule{Target: "out", Sources: []string{"t"}, Type: TypeBool}, true, ""},
		{"bool invalid", Rule{Target: "out", Sources: []string{"s"}, Type: TypeBool}, nil, CodeInvalidType},
		{"date from datetime", Rule{Target: "out", Sources: []string{"dob"}, Type: TypeDate}, "2016-07-19", ""},
		{"date with layout", Rule{Target: "out", Sources: []string{"dmy"}, Type: TypeDate, Layout: "02/01/2006"}, "2016-07-19", ""},
		{"date with format", Rule{Target: "out", Sources: []string{"dob"}, Type: TypeDate, Format: "02.01.2006"}, "19.07.2016", ""},
		{"date invalid", Rule{Target: "out", Sources: []string{"s"}, Type: TypeDate}, nil, CodeInvalidDate},
		{"datetime", Rule{Target: "out", Sources: []string{"dob"}, Type: TypeDatetime}, "2016-07-19T00:00:00Z", ""},
		{"list wraps scalar", Rule{Target: "out", Sources: []string{"code"}, Type: TypeList}, []any{"a"}, ""},
		{"trim", Rule{Target: "out", Sources: []string{"s"}, Transform: []string{"trim"}}, "Mixed Case", ""},
		{"upper", Rule{Target: "out", Sources: []string{"s"}, Transform: []string{"trim", "upper"}}, "MIXED CASE", ""},
		{"lower", Rule{Target: "out", Sources: []string{"s"}, Transform: []string{"trim", "lower"}}, "mixed case", ""},
		{"split", Rule{Target: "out", Sources: []string{"csv"}, Transform: []string{`split(",")`}}, []any{"x", "y", "z"}, ""},
		{"join", Rule{Target: "out", Sources: []string{"list"}, Transform: []string{`join("-")`}}, "p-q", ""},
		{"first non-empty", Rule{Target: "out", Sources: []string{"nope", "empty", "code", "other"}}, "a", ""},
		{"first non-empty none", Rule{Target: "out", Sources: []string{"nope", "empty"}}, nil, ""},
		{"all non-empty joined", Rule{Target: "out", Sources: []string{"code", "empty", "nope", "other"}, Combine: CombineAll, Transform: []string{`join(" ")`}}, "a zz", ""},
		{"expr", Rule{Target: "out", Expr: `concat(code, "-", other)`}, "a-zz", ""},
		{"expr dotted key via $env", Rule{Target: "out", Expr: `upper($env["flat.key"])`}, "FLAT", ""},
		{"expr dotted key via optional $env", Rule{Target: "out", Expr: `$env?.["flat.key"]`}, "flat", ""},
		{"expr missing dotted key via $env", Rule{Target: "out", Expr: `$env["no.such"]`}, nil, ""},
		{"expr missing dotted key defaulted", Rule{Target: "out", Expr: `$env["no.such"] ?? "d"`}, "d", ""},
		{"expr dotted key in a predicate", Rule{Target: "out", Expr: `map(list, $env["flat.key"] + #)`}, []any{"flatp", "flatq"}, ""},
		{"expr $env declared by let", Rule{Target: "out", Expr: `let $env = {"flat.key": "own"}; $env["flat.key"]`}, "own", ""},
		{"expr age", Rule{Target: "out", Expr: `age(dob, "2026-07-18")`, Type: TypeInt}, 9, ""},
		{"expr age birthday", Rule{Target: "out", Expr: `age(dob, "2026-07-19")`, Type: TypeInt}, 10, ""},
		{"expr age without dob", Rule{Target: "out", Expr: `age(nope, "2026-07-19")`, Type: TypeInt}, nil, ""},
		{"expr coalesce", Rule{Target: "out", Expr: `coalesce(nope, empty, code)`}, "a", ""},
		{"expr substr", Rule{Target: "out", Expr: `substr("abcdef", 1, 3)`}, "bcd", ""},
		{"expr substr negative", Rule{Target: "out", Expr: `substr("abcdef", -2)`}, "ef", ""},
		{"expr formatDate", Rule{Target: "out", Expr: `formatDate(dob, "2006/01/02")`}, "2016/07/19", ""},
		{"expr runtime error", Rule{Target: "out", Expr: `age(s, "2026-01-01")`}, nil, CodeExpr},
		{"when true", Rule{Target: "out", Constant: "c", When: `code == "a"`}, "c", ""},
		{"when false", Rule{Target: "out", Constant: "c", When: `code == "b"`}, nil, ""},
		{"when false skips required", Rule{Target: "out", Sources: []string{"nope"}, Required: true, When: `code == "b"`}, nil, ""},
		{"nested target", Rule{Target: "a.b[1].c", Sources: []string{"code"}}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, &Spec{Name: "t", Tables: tables, Rules: []Rule{tc.rule}})
			out, err := m.Apply(context.Background(), src)
			if tc.code != "" {
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tc.code, fe.Code)
				assert.Equal(t, tc.rule.Target, fe.Path)
				assert.Equal(t, tc.rule.RuleName(), fe.Rule)
				assert.Nil(t, out, "no half-written record with an error")
				return
			}
			require.NoError(t, err)
			if tc.rule.Target == "a.b[1].c" {
				assert.Equal(t, Record{"a": map[string]any{"b": []any{nil, map[string]any{"c": "a"}}}}, out)
				return
			}
			got, ok := out["out"]
			if tc.want == nil {
				assert.False(t, ok, "target must be absent, got %v", got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestApplyStarOverSubform(t *testing.T) {
	m := mustCompile(t, &Spec{Name: "t",
		Tables: []Table{{Name: "codes", Entries: []Entry{{Key: "a", Value: "alpha"}, {Key: "b", Value: "beta"}}}},
		Rules: []Rule{
			{Target: "services[*].type", Sources: []string{"rows[*].type"}, Table: "codes", Required: true},
			{Target: "services[*].day", Sources: []string{"rows[*].when"}, Type: TypeDate},
			{Target: "types", Sources: []string{"rows[*].type"}, Transform: []string{`join(",")`}},
		}})
	src := Record{"rows": []any{
		map[string]any{"type": "a", "when": "2025-01-02T03:04:05Z"},
		map[string]any{"type": "b", "when": "2025-02-03T04:05:06Z"},
	}}
	out, err := m.Apply(context.Background(), src)
	require.NoError(t, err)
	assert.Equal(t, Record{
		"services": []any{
			map[string]any{"type": "alpha", "day": "2025-01-02"},
			map[string]any{"type": "beta", "day": "2025-02-03"},
		},
		"types": "a,b",
	}, out)

	src["rows"].([]any)[1].(map[string]any)["type"] = "zz"
	_, err = m.Apply(context.Background(), src)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "services[1].type", fe.Path, "the error names the list element")
	assert.Equal(t, CodeUnknownValue, fe.Code)
}

func TestApplyAllCollectsEveryError(t *testing.T) {
	m := mustCompile(t, &Spec{Name: "t", Rules: []Rule{
		{Target: "a", Sources: []string{"a"}, Required: true},
		{Target: "b", Sources: []string{"b"}, Type: TypeInt},
		{Target: "c", Sources: []string{"c"}},
		{Target: "d", Sources: []string{"d"}, Type: TypeDate},
	}})
	src := Record{"b": "Synthetic", "c": "ok", "d": "not a date"}
	out, err := m.ApplyAll(context.Background(), src)
	var es Errors
	require.ErrorAs(t, err, &es)
	require.Len(t, es, 3)
	assert.Equal(t, []string{"a", "b", "d"}, []string{es[0].Path, es[1].Path, es[2].Path})
	assert.Equal(t, []string{CodeRequired, CodeInvalidType, CodeInvalidDate}, []string{es[0].Code, es[1].Code, es[2].Code})
	assert.Equal(t, "ok", out["c"], "the partial record is returned for inspection")
	var fe *FieldError
	assert.True(t, errors.As(err, &fe), "errors.As finds a FieldError inside Errors")

	_, err = m.Apply(context.Background(), src)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "a", fe.Path, "Apply stops at the first error")
}

func TestErrorsNeverQuoteValues(t *testing.T) {
	m := mustCompile(t, &Spec{Name: "t",
		Tables: []Table{{Name: "codes", Entries: []Entry{{Key: "a", Value: "alpha"}}}},
		Rules: []Rule{
			{Target: "name", Sources: []string{"name"}, Table: "codes"},
			{Target: "dob", Sources: []string{"dob"}, Type: TypeDate},
			{Target: "n", Sources: []string{"n"}, Type: TypeInt},
			{Target: "x", Expr: `age(dob, "2026-01-01")`},
		}})
	secret := "SyntheticSecretName"
	_, err := m.ApplyAll(context.Background(), Record{"name": secret, "dob": secret + "Dob", "n": secret + "N"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	assert.Contains(t, err.Error(), `rule "name": field name: unknown_value (table codes) from source name`)
}

func TestApplyHonoursContext(t *testing.T) {
	m := mustCompile(t, &Spec{Name: "t", Rules: []Rule{{Target: "a", Constant: "x"}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.Apply(ctx, Record{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestApplyAcceptsGoTypes(t *testing.T) {
	m := mustCompile(t, &Spec{Name: "t", Rules: []Rule{
		{Target: "d", Sources: []string{"d"}, Type: TypeDate},
		{Target: "n", Sources: []string{"sub.n"}, Type: TypeString},
		{Target: "l", Sources: []string{"rows[*].v"}, Transform: []string{`join("+")`}},
	}})
	out, err := m.Apply(context.Background(), Record{
		"d":    time.Date(2020, 2, 29, 23, 0, 0, 0, time.UTC),
		"sub":  Record{"n": int64(7)},
		"rows": []map[string]any{{"v": "a"}, {"v": "b"}},
	})
	require.NoError(t, err)
	assert.Equal(t, Record{"d": "2020-02-29", "n": "7", "l": "a+b"}, out)
}
