package mapping

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInvertNamesEveryNonInvertibleRule(t *testing.T) {
	_, err := loadGoldenSpecs(t)["yaml"].Invert()
	var ie *InvertError
	require.ErrorAs(t, err, &ie)
	joined := err.Error()
	for _, want := range []string{
		`rule "services_section[0].service_referral_notes": computed by an expression`,
		`rule "status": a constant has no source to write back to`,
		`rule "address_current": combines several sources`,
		`rule "services_section[0].service_request_agency": a default cannot be told apart from a copied value`,
		`rule "language": wraps the value in a list`,
		`rule "date_of_birth": a date without an explicit layout`,
	} {
		assert.Contains(t, joined, want)
	}
}

func TestInvertRules(t *testing.T) {
	tables := []Table{
		{Name: "two", TwoWay: true, Entries: []Entry{{Key: "1", Value: "one"}, {Key: "2", Value: "two"}}},
		{Name: "oneway", Entries: []Entry{{Key: "1", Value: "one"}}},
	}
	cases := []struct {
		name string
		rule Rule
		why  string
	}{
		{"copy", Rule{Target: "a", Sources: []string{"x.y"}}, ""},
		{"two-way table", Rule{Target: "a", Sources: []string{"x"}, Table: "two"}, ""},
		{"one-way table", Rule{Target: "a", Sources: []string{"x"}, Table: "oneway"}, "not declared two_way"},
		{"split", Rule{Target: "a", Sources: []string{"x"}, Transform: []string{`split(",")`}}, ""},
		{"trim", Rule{Target: "a", Sources: []string{"x"}, Transform: []string{"trim"}}, "transform trim loses information"},
		{"when", Rule{Target: "a", Sources: []string{"x"}, When: "true"}, "has a when condition"},
		{"date with layout", Rule{Target: "a", Sources: []string{"x"}, Type: TypeDate, Layout: "02/01/2006"}, ""},
		{"expr", Rule{Target: "a", Expr: "1"}, "computed by an expression"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Spec{Name: "s", Tables: tables, Rules: []Rule{tc.rule}}
			inv, err := s.Invert()
			if tc.why != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.why)
				return
			}
			require.NoError(t, err)
			fwd := mustCompile(t, s)
			back := mustCompile(t, inv)
			src := Record{"x": map[string]any{"y": "v"}}
			if tc.rule.Sources[0] == "x" {
				src = Record{"x": "1,2"}
				if tc.rule.Table != "" {
					src = Record{"x": "2"}
				}
				if tc.rule.Type == TypeDate {
					src = Record{"x": "19/07/2016"}
				}
			}
			mid, err := fwd.Apply(context.Background(), src)
			require.NoError(t, err)
			got, err := back.Apply(context.Background(), mid)
			require.NoError(t, err)
			assert.Equal(t, normalizeJSON(t, src), normalizeJSON(t, got), "inverse(forward(x)) == x")
		})
	}
}

func TestTableInvertNeedsChoice(t *testing.T) {
	tb := Table{Name: "t", TwoWay: true, Entries: []Entry{{Key: "a", Value: "x"}, {Key: "b", Value: "x"}}}
	_, err := tb.Invert()
	require.ErrorContains(t, err, `value "x" has 2 keys and none is marked inverse`)
	tb.Entries[1].Inverse = true
	inv, err := tb.Invert()
	require.NoError(t, err)
	assert.Equal(t, []Entry{{Key: "x", Value: "b"}}, inv.Entries)
}
