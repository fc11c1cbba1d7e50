package primero_test

import (
	"testing"

	"github.com/casebridge/casebridge/primero"
	"github.com/stretchr/testify/assert"
)

func TestPatchFromDiffsSubformRows(t *testing.T) {
	before := &primero.Case{ID: "c1", Services: []primero.Service{
		{UniqueID: svc1, ServiceType: "alternative_care"},
		{UniqueID: svc2, ServiceType: "medical"},
	}, Fields: map[string]any{"nationality": []any{"nat_1"}, "x_gone": "v"}}
	after := before.Clone()
	after.Services = []primero.Service{
		{UniqueID: svc1, ServiceType: "alternative_care"}, // unchanged: not sent
		{ServiceType: "education_formal"},                 // new: appended
	}
	after.Fields["nationality"] = []any{"nat_2"} // multi-select: replaced
	delete(after.Fields, "x_gone")               // removed: cleared
	p := primero.PatchFrom(before, after)
	assert.Equal(t, primero.Patch{
		"services_section": []any{
			map[string]any{"service_type": "education_formal"},
			map[string]any{"unique_id": svc2, "_destroy": true},
		},
		"nationality": []any{"nat_2"},
		"x_gone":      nil,
	}, p)
	assert.NoError(t, p.Validate())
	assert.Empty(t, primero.PatchFrom(before, before.Clone()), "no change, empty patch")
}
