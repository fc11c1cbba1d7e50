package consent

import (
	"os"
	"testing"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/require"
)

// asOf is the fixed date the tests compute ages at.
var asOf = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func loadTestPolicy(t testing.TB) *Policy {
	t.Helper()
	p, err := Load("testdata/primero-unhcr.yaml")
	require.NoError(t, err)
	return p
}

var readFile = os.ReadFile

func testPolicySource(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/primero-unhcr.yaml")
	require.NoError(t, err)
	return string(b)
}

var unhcr = Party{System: "progres", Agency: "unhcr"}

func okRequest() Request {
	return Request{Recipient: unhcr, Purpose: "child_protection_referral", AsOf: asOf}
}

// okRecord is a synthetic adult record that passes every condition.
func okRecord() mapping.Record {
	return mapping.Record{
		"case_id":               "803-00000001",
		"name_first":            "Test",
		"name_last":             "Synthetic",
		"sex":                   "female",
		"date_of_birth":         "2000-03-04",
		"age":                   float64(26),
		"telephone_current":     "+000 0000 0000",
		"consent_for_services":  true,
		"disclosure_other_orgs": true,
		"location":              map[string]any{"code": "LOC001", "village": "Synthetic Village"},
		"services_section": []any{
			map[string]any{"unique_id": "svc-0001", "service_type": "alternative_care", "service_referral_notes": "synthetic note"},
		},
		"languages": []any{"language1", "language2"},
	}
}
