package consent

import (
	"testing"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// filterIntoRecords are allowed records of different shapes, in an order
// that leaves something behind for the next: services that shrink, grow
// and vanish, an object that turns into a scalar, lists of the wrong shape.
func filterIntoRecords() []mapping.Record {
	svc := func(id, typ string) map[string]any {
		return map[string]any{"unique_id": id, "service_type": typ, "service_referral_notes": "synthetic note"}
	}
	a := okRecord()
	a["services_section"] = []any{svc("s1", "alternative_care"), svc("s2", "psychosocial"), svc("s3", "health_medical")}
	b := okRecord()
	b["services_section"] = []any{map[string]any{"service_type": "psychosocial"}}
	delete(b, "languages")
	b["location"] = "not an object"
	c := okRecord()
	c["languages"] = []any{"language3"}
	c["location"] = map[string]any{"village": "Synthetic Village"}
	c["services_section"] = []any{"scalar", svc("s4", "psychosocial"), []any{1.0}, svc("s5", "alternative_care")}
	d := okRecord()
	d["services_section"] = []map[string]any{svc("s6", "alternative_care")}
	d["languages"] = map[string]any{"not": "a list"}
	e := mapping.Record{"case_id": "803-00000009"}
	return []mapping.Record{a, b, c, d, e, okRecord(), a}
}

// TestFilterIntoMatchesFilter filters a sequence of records into one
// reused record and checks each result against Filter: nothing of the
// previous record may remain, keys a caller added included.
func TestFilterIntoMatchesFilter(t *testing.T) {
	p := loadTestPolicy(t)
	var dst mapping.Record
	for round := 0; round < 2; round++ {
		for i, rec := range filterIntoRecords() {
			want := p.Filter(rec)
			if dst != nil && i == 3 {
				dst["added_by_caller"] = "x"
			}
			dst = p.FilterInto(dst, rec)
			require.Equal(t, want, dst, "record %d", i)
		}
	}
}

// TestFilterIntoNestedAndListCases runs the Filter cases through
// FilterInto, each into the result of another case's record.
func TestFilterIntoNestedAndListCases(t *testing.T) {
	p := policyWithFields(t, "a.b.c", "a.e", "s[*].t", "s[*].items[*].id", "l[*]")
	recs := []mapping.Record{
		{"a": map[string]any{"b": map[string]any{"c": "keep", "d": "drop"}, "e": "keep"}, "s": []any{map[string]any{"t": "keep", "items": []any{map[string]any{"id": "1"}, map[string]any{"id": "2"}}}}, "l": []any{"x", 2.0}},
		{"a": map[string]any{"b": "scalar"}, "s": []any{map[string]any{"u": "drop"}, map[string]any{"t": "keep"}}},
		{"a": []any{"not an object"}, "s": map[string]any{"t": "drop"}, "l": []any{}},
		{"s": []map[string]any{{"t": "keep", "items": []any{map[string]any{"id": "3", "secret": "drop"}}}}, "l": []any{nil}},
		{"a": mapping.Record{"b": mapping.Record{"c": "keep"}}},
		{},
	}
	for i := range recs {
		for j := range recs {
			dst := p.Filter(recs[j])
			assert.Equal(t, p.Filter(recs[i]), p.FilterInto(dst, recs[i]), "record %d into the result of %d", i, j)
		}
	}
}

// TestFilterIntoItsOwnRecord: filtering a record into itself would delete
// the record's own fields; it gets a new record instead.
func TestFilterIntoItsOwnRecord(t *testing.T) {
	p := loadTestPolicy(t)
	rec := okRecord()
	out := p.FilterInto(rec, rec)
	assert.Equal(t, p.Filter(okRecord()), out)
	assert.Equal(t, okRecord(), rec)
}

// TestFilterIntoReusesContainers: filtering a record of the same shape
// again allocates nothing; Filter makes every map and list.
func TestFilterIntoReusesContainers(t *testing.T) {
	p := loadTestPolicy(t)
	rec := okRecord()
	dst := p.Filter(rec)
	into := testing.AllocsPerRun(100, func() { dst = p.FilterInto(dst, rec) })
	fresh := testing.AllocsPerRun(100, func() { _ = p.Filter(rec) })
	assert.Zero(t, into, "FilterInto of the same shape allocates nothing")
	assert.GreaterOrEqual(t, fresh, 5.0, "Filter makes the record, location, services_section and its element, languages")
}

// TestShareIntoDeniedEmptiesDst: a denied record returns nil and leaves
// nothing of the previous shared record in dst.
func TestShareIntoDeniedEmptiesDst(t *testing.T) {
	g := loadTestPolicy(t).Gate(okRequest())
	dst, d := g.ShareInto(nil, okRecord())
	require.True(t, d.Allowed)
	require.NotEmpty(t, dst)
	denied := okRecord()
	denied["consent_for_services"] = false
	out, d := g.ShareInto(dst, denied)
	assert.False(t, d.Allowed)
	assert.Nil(t, out)
	assert.Empty(t, dst)
	// Denied into itself: the record is left alone.
	out, d = g.ShareInto(denied, denied)
	assert.False(t, d.Allowed)
	assert.Nil(t, out)
	assert.Equal(t, false, denied["consent_for_services"])
	assert.Contains(t, denied, "name_last")
	// Allowed again into the emptied record.
	out, d = g.ShareInto(dst, okRecord())
	assert.True(t, d.Allowed)
	assert.Equal(t, g.Filter(okRecord()), out)
}
