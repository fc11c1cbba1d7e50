package mapping

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExplainMarkdown(t *testing.T) {
	s := loadGoldenSpecs(t)["yaml"]
	var b bytes.Buffer
	require.NoError(t, s.Explain(&b))
	md := b.String()
	assert.Contains(t, md, "# Mapping progres_to_primero (version 1)")
	assert.Contains(t, md, "Content hash: `"+s.Hash()+"`")
	assert.Contains(t, md, "| 11 | services_section[0].service_type | interventiontype.progres_description | copy; through table service_type |  | yes |  |  |")
	assert.Contains(t, md, "## Table service_type\n\nUnknown values: error; two-way")
	assert.Contains(t, md, "| BID | focuses_non_specialized_mhpss_care | yes |")
	assert.Contains(t, md, "Unknown values: replaced by language6")
	// One row per rule.
	assert.Equal(t, len(s.Rules), strings.Count(md, "\n| ")-countTableRows(s)-1-len(s.Tables))
}

func countTableRows(s *Spec) int {
	n := 0
	for _, t := range s.Tables {
		n += len(t.Entries)
	}
	return n
}

func TestExplainEscapesPipes(t *testing.T) {
	s := &Spec{Name: "p", Rules: []Rule{{Target: "a", Constant: "x|y", Notes: "multi\nline"}}}
	var b bytes.Buffer
	require.NoError(t, s.Explain(&b))
	assert.Contains(t, b.String(), `| constant x\|y |`)
	assert.Contains(t, b.String(), "| multi line |")
}

func TestExplainCSV(t *testing.T) {
	s := loadGoldenSpecs(t)["yaml"]
	var b bytes.Buffer
	require.NoError(t, s.ExplainCSV(&b))
	rows, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"spec", "progres_to_primero", "1", s.Hash(), "", "", "", "", s.Description}, rows[1])
	rules, entries := 0, 0
	for _, r := range rows[2:] {
		switch {
		case r[0] == "rule":
			rules++
		case r[0] == "table" && r[2] != "":
			entries++
		}
	}
	assert.Equal(t, len(s.Rules), rules)
	assert.Equal(t, countTableRows(s), entries)
}

func TestLineage(t *testing.T) {
	m := goldenMapping(t)
	lin := m.Lineage()
	require.Len(t, lin, len(m.Spec().Rules))
	by := map[string]Lineage{}
	for _, l := range lin {
		by[l.Target] = l
	}
	assert.Equal(t, []string{"individuals.progres_sex"}, by["sex"].Sources)
	assert.Equal(t, "sex", by["sex"].Table)
	assert.Equal(t, "copy; through table sex", by["sex"].How)
	assert.Len(t, by["address_current"].Sources, 6)
	assert.Contains(t, by["age"].How, "computed: age(")
	assert.Equal(t, "progres_to_primero.yaml", by["sex"].Pos.File)
	assert.Positive(t, by["sex"].Pos.Line)
	spec := m.Spec()
	assert.Equal(t, spec.Hash(), m.Hash())
}

func TestTraceHoldsNoValues(t *testing.T) {
	_, traces, err := goldenMapping(t).ApplyTrace(context.Background(), loadJSON(t, "testdata/intervention.json"))
	require.NoError(t, err)
	require.NotEmpty(t, traces)
	for _, tr := range traces {
		for _, v := range []string{"Test", "Child", "803-00000001", "2016-07-19"} {
			assert.NotContains(t, tr.Path+tr.Rule+tr.Source, v)
		}
	}
}
