package progres_test

import (
	"encoding/json"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testCaseID    = "3f2a9c1e-5b7d-4e8a-9c0f-7e6d5c4b3a21"
	testServiceID = "8d7e6f5a-4b3c-2d1e-0f9a-1a2b3c4d5e6f"
	testKey       = testCaseID + "#1a2b3c4d5e6f"
)

func TestReferralKeyFromCaseAndService(t *testing.T) {
	k, err := progres.NewReferralKey(testCaseID, testServiceID)
	require.NoError(t, err)
	assert.Equal(t, testKey, k.String())
	assert.True(t, k.MatchesService(testServiceID))
	assert.False(t, k.MatchesService("8d7e6f5a-4b3c-2d1e-0f9a-000000000000"))
	assert.False(t, k.MatchesService("short"))

	p, err := progres.ParseReferralKey(testKey)
	require.NoError(t, err)
	assert.Equal(t, k, p)
}

func TestReferralKeyRefusesMalformed(t *testing.T) {
	tests := map[string]string{
		"no hash":        testCaseID,
		"two hashes":     testCaseID + "#1a2b#3c4d5e6f",
		"empty case":     "#1a2b3c4d5e6f",
		"short suffix":   testCaseID + "#1a2b3c",
		"upper hex":      testCaseID + "#1A2B3C4D5E6F",
		"space in case":  "a b#1a2b3c4d5e6f",
		"non-hex suffix": testCaseID + "#1a2b3c4d5e6g",
		"empty":          "",
		"long case":      string(make([]byte, 101)) + "#1a2b3c4d5e6f",
	}
	for name, in := range tests {
		_, err := progres.ParseReferralKey(in)
		assert.ErrorIs(t, err, progres.ErrValidation, name)
	}
	_, err := progres.NewReferralKey(testCaseID, "abc")
	var ve *progres.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("service_unique_id"))
}

func TestReferralKeyJSONRoundTrip(t *testing.T) {
	k, _ := progres.ParseReferralKey(testKey)
	b, err := json.Marshal(struct {
		ID progres.ReferralKey `json:"id"`
	}{k})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"`+testKey+`"}`, string(b))
	var back struct {
		ID progres.ReferralKey `json:"id"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, k, back.ID)
	_, err = json.Marshal(progres.ReferralKey{CaseID: "x"})
	require.Error(t, err)
}
