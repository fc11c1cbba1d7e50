package progres_test

import (
	"encoding/json"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCodesDecodeStringAndIntegerForms(t *testing.T) {
	var s progres.Sex
	require.NoError(t, json.Unmarshal([]byte(`"125080001"`), &s))
	assert.Equal(t, progres.SexMale, s)
	require.NoError(t, json.Unmarshal([]byte(`125080000`), &s))
	assert.Equal(t, progres.SexFemale, s)
	assert.Equal(t, "female", s.String())
	require.NoError(t, json.Unmarshal([]byte(`null`), &s))
	assert.Equal(t, progres.Sex(0), s)

	var d progres.ReviewDecision
	require.NoError(t, json.Unmarshal([]byte(`"125080001"`), &d))
	assert.Equal(t, progres.DecisionRejected, d)
	var r progres.RejectionReason
	require.NoError(t, json.Unmarshal([]byte(`"125080002"`), &r))
	assert.Equal(t, "Not applicable", r.String())
	var st progres.InteropStatus
	require.NoError(t, json.Unmarshal([]byte(`125080003`), &st))
	assert.Equal(t, progres.InteropSynced, st)
	var ts progres.TransferStatus
	require.NoError(t, json.Unmarshal([]byte(`"125080004"`), &ts))
	assert.Equal(t, progres.TransferRejected, ts)
}

func TestUnknownCodesAreErrors(t *testing.T) {
	// One sample carries progres_reviewdecision "125080003": the earlier integration
	// passes it through raw; it must be refused (pitfall 19).
	var d progres.ReviewDecision
	err := json.Unmarshal([]byte(`"125080003"`), &d)
	require.ErrorIs(t, err, progres.ErrUnknownCode)
	assert.Contains(t, err.Error(), "review decision")
	assert.NotContains(t, err.Error(), "125080003", "the value is not echoed")

	for _, in := range []string{`"Male"`, `"125080009"`, `1.5`, `true`, `""`, `"12508000x"`, `{}`} {
		var s progres.Sex
		assert.ErrorIs(t, json.Unmarshal([]byte(in), &s), progres.ErrUnknownCode, in)
	}
	_, err = progres.ParseRejectionReason("125080003")
	require.ErrorIs(t, err, progres.ErrUnknownCode)
	var ts progres.TransferStatus
	require.ErrorIs(t, json.Unmarshal([]byte(`125080000`), &ts), progres.ErrUnknownCode)
}

func TestCodesEncodeAsStrings(t *testing.T) {
	b, err := json.Marshal(struct {
		S progres.Sex            `json:"s"`
		T progres.TransferStatus `json:"t"`
		Z progres.Sex            `json:"z"`
	}{S: progres.SexUnknown, T: progres.TransferPending})
	require.NoError(t, err)
	assert.JSONEq(t, `{"s":"125080003","t":"125080002","z":null}`, string(b))
	_, err = json.Marshal(progres.Sex(7))
	require.ErrorIs(t, err, progres.ErrUnknownCode)
}
