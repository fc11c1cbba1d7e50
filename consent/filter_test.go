package consent

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func policyWithFields(t *testing.T, fields ...string) *Policy {
	t.Helper()
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "  - %q\n", f)
	}
	src := testPolicySource(t)
	start := strings.Index(src, "fields:\n")
	end := strings.Index(src, "override:")
	src = src[:start] + "fields:\n" + b.String() + src[end:]
	p, err := Compile([]byte(src))
	require.NoError(t, err)
	return p
}

// leafPaths lists every leaf of a JSON-shaped value as a path, lists as [*].
func leafPaths(prefix string, v any, out map[string]bool) {
	if m, ok := asMap(v); ok {
		for k, e := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leafPaths(p, e, out)
		}
		return
	}
	if l, ok := asList(v); ok {
		for _, e := range l {
			leafPaths(prefix+"[*]", e, out)
		}
		return
	}
	out[prefix] = true
}

func TestFilterKeepsOnlyNeedToKnow(t *testing.T) {
	p := loadTestPolicy(t)
	got := p.Filter(okRecord())
	want := mapping.Record{
		"case_id":          "803-00000001",
		"name_first":       "Test",
		"sex":              "female",
		"date_of_birth":    "2000-03-04",
		"location":         map[string]any{"code": "LOC001"},
		"services_section": []any{map[string]any{"unique_id": "svc-0001", "service_type": "alternative_care"}},
		"languages":        []any{"language1", "language2"},
	}
	assert.Equal(t, want, got)
}

func TestFilterNestedAndListCases(t *testing.T) {
	cases := []struct {
		name   string
		fields []string
		in     mapping.Record
		want   mapping.Record
	}{
		{
			"deep nesting keeps only the listed leaf",
			[]string{"a.b.c"},
			mapping.Record{"a": map[string]any{"b": map[string]any{"c": "keep", "d": "drop"}, "e": "drop"}, "f": "drop"},
			mapping.Record{"a": map[string]any{"b": map[string]any{"c": "keep"}}},
		},
		{
			"a leaf passes its whole subtree",
			[]string{"a"},
			mapping.Record{"a": map[string]any{"x": []any{1.0, map[string]any{"y": "keep"}}}, "b": "drop"},
			mapping.Record{"a": map[string]any{"x": []any{1.0, map[string]any{"y": "keep"}}}},
		},
		{
			"list of objects keeps listed sub-fields only",
			[]string{"s[*].t"},
			mapping.Record{"s": []any{map[string]any{"t": "keep", "u": "drop"}, map[string]any{"u": "drop"}}},
			mapping.Record{"s": []any{map[string]any{"t": "keep"}, map[string]any{}}},
		},
		{
			"nested lists of objects",
			[]string{"s[*].items[*].id"},
			mapping.Record{"s": []any{map[string]any{"items": []any{map[string]any{"id": "keep", "secret": "drop"}}, "other": "drop"}}},
			mapping.Record{"s": []any{map[string]any{"items": []any{map[string]any{"id": "keep"}}}}},
		},
		{
			"scalars in a list of objects are dropped",
			[]string{"s[*].t"},
			mapping.Record{"s": []any{"drop", map[string]any{"t": "keep"}, 3.0}},
			mapping.Record{"s": []any{map[string]any{"t": "keep"}}},
		},
		{
			"an object where a list is expected is dropped",
			[]string{"s[*].t"},
			mapping.Record{"s": map[string]any{"t": "drop"}},
			mapping.Record{},
		},
		{
			"a scalar where an object is expected is dropped",
			[]string{"a.b"},
			mapping.Record{"a": "drop"},
			mapping.Record{},
		},
		{
			"a list where an object is expected is dropped",
			[]string{"a.b"},
			mapping.Record{"a": []any{map[string]any{"b": "drop"}}},
			mapping.Record{},
		},
		{
			"list of scalars",
			[]string{"l[*]"},
			mapping.Record{"l": []any{"x", 2.0, nil}},
			mapping.Record{"l": []any{"x", 2.0, nil}},
		},
		{
			"typed slices of maps",
			[]string{"s[*].t"},
			mapping.Record{"s": []map[string]any{{"t": "keep", "u": "drop"}}},
			mapping.Record{"s": []any{map[string]any{"t": "keep"}}},
		},
		{
			"nested mapping.Record values",
			[]string{"a.b"},
			mapping.Record{"a": mapping.Record{"b": "keep", "c": "drop"}},
			mapping.Record{"a": map[string]any{"b": "keep"}},
		},
		{
			"missing paths produce nothing",
			[]string{"a.b", "s[*].t"},
			mapping.Record{"z": "drop"},
			mapping.Record{},
		},
		{
			"null values pass as null",
			[]string{"a"},
			mapping.Record{"a": nil},
			mapping.Record{"a": nil},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := policyWithFields(t, tc.fields...)
			got := p.Filter(tc.in)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestFilterNeverPassesUnlistedField builds records with many unlisted keys
// at every depth and checks that every leaf of the output is covered by a
// listed path.
func TestFilterNeverPassesUnlistedField(t *testing.T) {
	p := loadTestPolicy(t)
	rec := okRecord()
	// Sprinkle unlisted data everywhere.
	rec["location"].(map[string]any)["secret"] = map[string]any{"deep": []any{"x"}}
	rec["services_section"] = append(rec["services_section"].([]any),
		map[string]any{"service_type": "psychosocial", "notes": "drop", "nested": map[string]any{"unique_id": "drop"}},
		[]any{map[string]any{"service_type": "drop"}},
	)
	rec["case_id_extra"] = "drop"
	rec["case"] = map[string]any{"id": "drop"}
	out := p.Filter(rec)

	allowed := map[string]bool{}
	for _, f := range p.Fields() {
		allowed[f] = true
	}
	leaves := map[string]bool{}
	leafPaths("", map[string]any(out), leaves)
	var got []string
	for l := range leaves {
		got = append(got, l)
		assert.True(t, allowed[l], "unlisted path %q passed the filter", l)
	}
	sort.Strings(got)
	b, _ := json.Marshal(out)
	assert.NotContains(t, string(b), "drop")
}

// TestFilterDoesNotAliasInput: the result, fresh or reused (FilterInto),
// shares nothing with the record, and the record is not modified.
func TestFilterDoesNotAliasInput(t *testing.T) {
	p := policyWithFields(t, "a", "s[*].t")
	newInput := func() mapping.Record {
		return mapping.Record{
			"a": map[string]any{"b": []any{"x"}},
			"s": []any{map[string]any{"t": []any{"y"}}},
		}
	}
	for name, filter := range map[string]func(mapping.Record) mapping.Record{
		"Filter":     p.Filter,
		"FilterInto": func(in mapping.Record) mapping.Record { return p.FilterInto(p.Filter(newInput()), in) },
	} {
		in := newInput()
		out := filter(in)
		out["a"].(map[string]any)["b"].([]any)[0] = "changed"
		out["s"].([]any)[0].(map[string]any)["t"].([]any)[0] = "changed"
		out["a"].(map[string]any)["new"] = 1
		assert.Equal(t, "x", in["a"].(map[string]any)["b"].([]any)[0], name)
		assert.Equal(t, "y", in["s"].([]any)[0].(map[string]any)["t"].([]any)[0], name)
		assert.NotContains(t, in["a"], "new", name)
	}
}

func TestLookup(t *testing.T) {
	rec := okRecord()
	v, err := Lookup(rec, "services_section[*].service_type")
	require.NoError(t, err)
	assert.Equal(t, []any{"alternative_care"}, v)
	v, err = Lookup(rec, "location.code")
	require.NoError(t, err)
	assert.Equal(t, []any{"LOC001"}, v)
	v, err = Lookup(rec, "nothing.here")
	require.NoError(t, err)
	assert.Empty(t, v)
	_, err = Lookup(rec, "a..b")
	assert.Error(t, err)
}
