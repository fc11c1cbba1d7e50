package main

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/mapping"
)

func TestRowStoreYieldsTheRowsAddedAndRefusesAnUnknownField(t *testing.T) {
	s := newRowStore(servicesTable, 2)
	in := []mapping.Record{
		{"source": "primero", "service_key": "svc-1", "case_key": "case-1", "implemented": true},
		{"source": "primero", "service_key": "svc-2", "case_key": "case-1", "service_type": nil},
	}
	for _, r := range in {
		require.NoError(t, s.add(r))
	}
	err := s.add(mapping.Record{"source": "primero", "not_a_column": 1})
	require.ErrorContains(t, err, `"not_a_column"`)
	assert.Equal(t, 2, s.len(), "a refused row is not stored")

	var got []mapping.Record
	for r, err := range s.drain() {
		require.NoError(t, err)
		got = append(got, maps.Clone(r))
	}
	want := []mapping.Record{in[0], {"source": "primero", "service_key": "svc-2", "case_key": "case-1"}}
	assert.Equal(t, want, got, "nil and absent fields both come back absent (NULL to Upsert)")

	assert.Equal(t, 0, s.len(), "a drained store is empty")
	assert.Nil(t, s.vals, "and holds no memory")
	for r, err := range s.drain() {
		t.Fatalf("a drained store yields nothing, got %v (%v)", r, err)
	}
	require.NoError(t, s.add(in[0]))
	s.reset()
	assert.Equal(t, 0, s.len())
	assert.Equal(t, []any{nil, nil, nil, nil, nil, nil, nil, nil}, s.vals[:len(servicesTable.Columns)], "a reset store keeps no value")
	require.NoError(t, s.add(in[1]))
	mark := len(s.vals)
	require.NoError(t, s.add(in[0]))
	s.truncate(mark)
	assert.Equal(t, 1, s.len())
	for _, v := range s.vals[:cap(s.vals)] {
		if v == "svc-1" {
			t.Fatal("truncate keeps no reference to the dropped row's values")
		}
	}
}
