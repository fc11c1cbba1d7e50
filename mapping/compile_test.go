package mapping

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compileYAML parses and compiles a spec; it returns the compile errors.
func compileYAML(t *testing.T, src string, opts ...Option) CompileErrors {
	t.Helper()
	s, err := ParseYAML("spec.yaml", []byte(src))
	require.NoError(t, err)
	_, err = Compile(s, opts...)
	if err == nil {
		return nil
	}
	var ces CompileErrors
	require.ErrorAs(t, err, &ces)
	return ces
}

func TestCompileChecks(t *testing.T) {
	const tables = `tables:
  t:
    entries: {a: x, b: y}
`
	cases := []struct {
		name string
		spec string
		line int
		rule string
		msg  string
	}{
		{"unknown table", tables + "rules:\n  - target: a\n    source: a\n    table: nope\n", 5, "a", `unknown table "nope"`},
		{"duplicate target", "rules:\n  - target: a\n    source: a\n  - name: second\n    target: a\n    source: b\n", 4, "second", "duplicate target a (already filled by rule \"a\" at spec.yaml:2)"},
		{"duplicate table key", "tables:\n  t:\n    entries:\n      a: x\n      b: y\n      a: z\nrules:\n  - target: a\n    source: a\n    table: t\n", 6, "", `duplicate key "a" (first at spec.yaml:4)`},
		{"bad expression", "rules:\n  - target: a\n    expr: 'concat(a,'\n", 2, "a", "bad expression"},
		{"expression with unknown function", "rules:\n  - target: a\n    expr: 'exec(\"rm\")'\n", 2, "a", "bad expression"},
		{"method call on a value", "rules:\n  - target: a\n    expr: 'dob.Format(\"2006\")'\n", 2, "a", "not in the safe function set"},
		{"disabled builtin", "rules:\n  - target: a\n    expr: 'now()'\n", 2, "a", "bad expression"},
		{"bad when", "rules:\n  - target: a\n    constant: x\n    when: 'a =='\n", 2, "a", "bad when condition"},
		{"two-way not one-to-one", "tables:\n  t:\n    two_way: true\n    entries:\n      - {key: a, value: x}\n      - {key: b, value: x}\nrules:\n  - target: a\n    source: a\n    table: t\n", 6, "", `two-way table is not one-to-one: value "x" has 2 keys`},
		{"two inverse marks", "tables:\n  t:\n    two_way: true\n    entries:\n      - {key: a, value: x, inverse: true}\n      - {key: b, value: x, inverse: true}\nrules:\n  - target: a\n    source: a\n    table: t\n", 5, "", "mark exactly one"},
		{"required without source or default", "rules:\n  - target: a\n    required: true\n", 2, "a", "required target a has neither a source nor a default"},
		{"no source at all", "rules:\n  - target: a\n", 2, "a", "has no source, constant, expr or default"},
		{"source and constant", "rules:\n  - target: a\n    source: a\n    constant: x\n", 2, "a", "give only one of source, constant and expr"},
		{"unknown type", "rules:\n  - target: a\n    source: a\n    type: money\n", 2, "a", `unknown type "money"`},
		{"constant not of its type", "rules:\n  - target: a\n    constant: maybe\n    type: bool\n", 2, "a", "constant is not a valid bool"},
		{"default not of its type", "rules:\n  - target: a\n    source: a\n    default: soon\n    type: date\n", 2, "a", "default is not a valid date"},
		{"unknown transform", "rules:\n  - target: a\n    source: a\n    transform: [reverse]\n", 2, "a", `unknown transform "reverse"`},
		{"join without separator", "rules:\n  - target: a\n    source: a\n    transform: [join]\n", 2, "a", "needs a quoted separator"},
		{"bad target path", "rules:\n  - target: 'a..b'\n    source: a\n", 2, "a..b", "bad target path"},
		{"bad source path", "rules:\n  - target: a\n    source: 'a[x]'\n", 2, "a", "bad source path"},
		{"target star without source star", "rules:\n  - target: 'a[*].b'\n    source: b\n", 2, "a[*].b", "has [*] but no source has [*]"},
		{"target with two stars", "rules:\n  - target: 'a[*].b[*].c'\n    source: 'x[*].y[*]'\n", 2, "a[*].b[*].c", "more than one [*]"},
		{"target starting with index", "rules:\n  - target: '[0].a'\n    source: a\n", 2, "[0].a", "must start with a field name"},
		{"bad unknown policy", "tables:\n  t:\n    unknown: ignore\n    entries: {a: x}\nrules:\n  - target: a\n    source: a\n    table: t\n", 2, "", `unknown policy "ignore"`},
		{"default policy without default", "tables:\n  t:\n    unknown: default\n    entries: {a: x}\nrules:\n  - target: a\n    source: a\n    table: t\n", 2, "", "needs a default value"},
		{"target inside another target", "rules:\n  - target: a\n    source: a\n  - target: a.b\n    source: b\n", 4, "a.b", "is inside target a"},
		{"layout without date type", "rules:\n  - target: a\n    source: a\n    layout: '2006'\n", 2, "a", "layout and format need type date or datetime"},
		{"bad combine", "rules:\n  - target: a\n    sources: [a, b]\n    combine: last\n", 2, "a", `combine "last"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := compileYAML(t, tc.spec)
			require.NotEmpty(t, errs, "Compile must reject the spec")
			found := false
			for _, e := range errs {
				if strings.Contains(e.Msg, tc.msg) {
					found = true
					assert.Equal(t, tc.line, e.Pos.Line, "line of %q", e.Error())
					assert.Equal(t, "spec.yaml", e.Pos.File)
					assert.Equal(t, tc.rule, e.Rule)
					assert.Contains(t, e.Error(), fmt.Sprintf("spec.yaml:%d: ", tc.line))
				}
			}
			assert.True(t, found, "want %q in %v", tc.msg, errs)
		})
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	errs := compileYAML(t, "rules:\n  - target: a\n    table: nope\n    source: a\n  - target: b\n    expr: '('\n  - target: b\n    source: c\n")
	require.Len(t, errs, 3)
	assert.Equal(t, []int{2, 5, 7}, []int{errs[0].Pos.Line, errs[1].Pos.Line, errs[2].Pos.Line})
}

func TestCompileSchemaChecks(t *testing.T) {
	schema := &Schema{Fields: map[string]Field{
		"sex":                              {Allowed: []string{"female", "male"}},
		"status":                           {Required: true, Allowed: []string{"open", "closed"}},
		"services_section[*].service_type": {Required: true},
		"module_id":                        {Required: true},
		"age":                              {Type: TypeInt},
	}}
	cases := []struct {
		name string
		spec string
		line int
		msg  string
	}{
		{"target not in schema", "rules:\n  - target: nickname\n    source: a\n", 2, "target nickname is not in the schema"},
		{"table value not allowed", "tables:\n  sex:\n    entries:\n      - {key: '1', value: female}\n      - {key: '2', value: unknown}\nrules:\n  - target: sex\n    source: s\n    table: sex\n", 5, `value "unknown" is not among the allowed values of sex`},
		{"table default not allowed", "tables:\n  sex:\n    unknown: default\n    default: other\n    entries: {'1': female}\nrules:\n  - target: sex\n    source: s\n    table: sex\n", 2, `default "other" is not among the allowed values`},
		{"constant not allowed", "rules:\n  - target: status\n    constant: pending\n", 2, "constant is not among the allowed values of status"},
		{"required schema field unfilled", "rules:\n  - target: sex\n    constant: female\n", 0, "required schema field module_id is filled by no rule"},
		{"type differs from schema", "rules:\n  - target: age\n    source: a\n    type: date\n", 2, "type date does not match the schema type int of age"},
		{"constant not of the schema type", "rules:\n  - target: age\n    constant: old\n", 2, "constant is not a valid int (the schema type of age)"},
		{"required list field unfilled", "rules:\n  - target: sex\n    constant: female\n", 0, "required schema field services_section[*].service_type is filled by no rule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := compileYAML(t, tc.spec, WithSchema(schema))
			found := false
			for _, e := range errs {
				if strings.Contains(e.Msg, tc.msg) {
					found = true
					assert.Equal(t, tc.line, e.Pos.Line, e.Error())
					assert.Equal(t, "spec.yaml", e.Pos.File)
				}
			}
			assert.True(t, found, "want %q in %v", tc.msg, errs)
		})
	}

	ok := "rules:\n  - target: status\n    constant: open\n  - target: module_id\n    constant: primeromodule-cp\n  - target: 'services_section[0].service_type'\n    constant: food\n"
	assert.Empty(t, compileYAML(t, ok, WithSchema(schema)), "a spec that fills every required field compiles")
}

func TestCompileCSVPositions(t *testing.T) {
	fsys := fstest.MapFS{
		"spec.csv": {Data: []byte("target,source,table\n#table,t.csv,t\na,a,t\nb,b,nope\n")},
		"t.csv":    {Data: []byte("key,value\n#unknown,error\nx,1\ny,2\nx,3\n")},
	}
	s, err := ParseCSV(fsys, "spec.csv")
	require.NoError(t, err)
	_, err = Compile(s)
	var ces CompileErrors
	require.ErrorAs(t, err, &ces)
	msgs := map[string]Pos{}
	for _, e := range ces {
		msgs[e.Msg] = e.Pos
	}
	assert.Equal(t, Pos{File: "t.csv", Line: 5}, msgs[`duplicate key "x" (first at t.csv:3)`])
	assert.Equal(t, Pos{File: "spec.csv", Line: 4}, msgs[`unknown table "nope"`])
	var ce *CompileError
	require.True(t, errors.As(err, &ce))
}

// TestTargetsOverlappingThroughAListAreRejected: a target that is a list
// element (a[0], a[*]) and a target inside that element (a[*].b, a[0].b)
// used to compile, and Apply then wrote b into the element, which is the
// source's own map when the element was copied from the source: the
// source record was modified and the outputs shared a map with it.
func TestTargetsOverlappingThroughAListAreRejected(t *testing.T) {
	for _, pair := range [][2]string{
		{"a[0]", "a[*].b"},
		{"a[*].b", "a[0]"},
		{"a[*]", "a[0].b"},
		{"a[0]", "a[0].b.c"},
		{"a[*]", "a[*].b"},
	} {
		t.Run(pair[0]+" and "+pair[1], func(t *testing.T) {
			spec := &Spec{Name: "overlap", Rules: []Rule{
				{Target: pair[0], Sources: []string{"m[*]"}},
				{Target: pair[1], Sources: []string{"l[*].x"}},
			}}
			_, err := Compile(spec)
			var ces CompileErrors
			require.ErrorAs(t, err, &ces, "Compile must reject %s with %s", pair[0], pair[1])
			require.Len(t, ces, 1)
			inner, outer := pair[1], pair[0]
			if len(inner) < len(outer) {
				inner, outer = outer, inner
			}
			assert.Equal(t, "target "+inner+" is inside target "+outer+` of rule "`+outer+`"`, ces[0].Msg)
		})
	}
	// Different elements of one list do not overlap.
	_, err := Compile(&Spec{Name: "apart", Rules: []Rule{
		{Target: "a[0]", Sources: []string{"m"}},
		{Target: "a[1].b", Sources: []string{"x"}},
	}})
	assert.NoError(t, err)
}

// TestTargetsDisagreeingOnAListAreRejected: a.b makes a an object and a[0]
// makes it a list; Apply kept whichever rule ran last and silently dropped
// the other's value.
func TestTargetsDisagreeingOnAListAreRejected(t *testing.T) {
	for _, pair := range [][2]string{
		{"a.b", "a[0]"},
		{"a[*].x", "a.b"},
		{"a[*].b.c", "a[1][0]"},
	} {
		t.Run(pair[0]+" and "+pair[1], func(t *testing.T) {
			spec := &Spec{Name: "shape", Rules: []Rule{
				{Target: pair[0], Sources: []string{"l[*].x"}},
				{Target: pair[1], Sources: []string{"m[*]"}},
			}}
			_, err := Compile(spec)
			var ces CompileErrors
			require.ErrorAs(t, err, &ces, "Compile must reject %s with %s", pair[0], pair[1])
			require.Len(t, ces, 1)
			assert.Contains(t, ces[0].Msg, "disagree on whether")
			assert.Equal(t, pair[1], ces[0].Rule, "the later rule is named")
		})
	}
	// Different elements of one list may differ.
	_, err := Compile(&Spec{Name: "apart", Rules: []Rule{
		{Target: "a[0].b", Sources: []string{"x"}},
		{Target: "a[1][0]", Sources: []string{"y"}},
	}})
	assert.NoError(t, err)
}
