package referral

import (
	"context"
	"net/http"
	"testing"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newPINGDecisions builds the PING decision flow on h.
func newPINGDecisions(t *testing.T, h *harness) *DecisionsOut {
	t.Helper()
	f, err := NewDecisionsOut(withPINGDecisions(decisionsConfig(h), h.PINGClient))
	require.NoError(t, err)
	return f
}

// decisionUpdates returns the SHP-2748 records with a decision status for
// intervention i.
func decisionUpdates(h *harness, i int) []map[string]any {
	var out []map[string]any
	for _, r := range transferUpdates(h)[lpID(i)] {
		if s := field(r, "progres_primerotransferstatus"); s == "125080003" || s == "125080004" {
			out = append(out, r)
		}
	}
	return out
}

// PING: each decision is one SHP-2748 record with the PING status code,
// the comment, the case and the caseworker; a second run sends nothing.
func TestPINGDecisionsSendEachDecisionOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.pingIntervention(1)
	h.pingIntervention(2)
	_, err := newPINGIntake(t, h).RunOnce(ctx)
	require.NoError(t, err)
	decide(t, h, 1, "accepted", "")
	decide(t, h, 2, "rejected", "Synthetic reason code R2")
	f := newPINGDecisions(t, h)
	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Decided)

	u1, u2 := decisionUpdates(h, 1), decisionUpdates(h, 2)
	require.Len(t, u1, 1)
	require.Len(t, u2, 1)
	assert.Equal(t, "125080003", field(u1[0], "progres_primerotransferstatus"))
	assert.Equal(t, "125080004", field(u2[0], "progres_primerotransferstatus"))
	assert.Equal(t, onlyCase(t, h, 2)["case_id"], field(u2[0], "progres_primeroid"))
	assert.Equal(t, intakeUser, field(u2[0], "progres_primerocaseworker"))
	att, _ := u2[0]["Attachments"].([]any)
	require.Len(t, att, 1)
	assert.Equal(t, "Referral rejected by PRIMERO: Synthetic reason code R2", att[0].(map[string]any)["Comment"])

	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Decided)
	assert.Len(t, decisionUpdates(h, 1), 1)
	h.AssertNoPersonalData(2, []string{FlowDecisionsPING, FlowIntakePING}, statsTexts(st)...)
}

// A decision run cancelled half way and restarted on the same state sends
// each decision exactly once.
func TestPINGDecisionsRestartAfterCancelSendsEachOnce(t *testing.T) {
	h := newHarness(t, withSQLite())
	for i := 1; i <= 3; i++ {
		h.pingIntervention(i)
	}
	_, err := newPINGIntake(t, h).RunOnce(context.Background())
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		decide(t, h, i, "accepted", "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.PINGFaults.Fail(func(_ *http.Request, body []byte) int {
		if containsAll(body, progrestest.SHPTransferStatus, lpID(2), "125080003") {
			cancel()
		}
		return 0
	})
	_, err = newPINGDecisions(t, h).RunOnce(ctx)
	require.Error(t, err)
	h.PINGFaults.Fail(nil)

	h.Restart()
	_, err = newPINGDecisions(t, h).RunOnce(context.Background())
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		assert.Len(t, decisionUpdates(h, i), 1, "decision %d sent exactly once", i)
	}
	h.Audit(FlowDecisionsPING)
}

// A decision PING cannot be told about (the referral came through DTP, so
// the PING ids are unknown) is reported on the run that reads it and does
// not hold the cursor; later decisions still go.
func TestPINGDecisionsWithoutInterventionLinkDoNotHoldTheCursor(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	intakeViaDTP(t, h, 1)
	decide(t, h, 1, "accepted", "")
	f := newPINGDecisions(t, h)
	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Failed)
	assert.Equal(t, codeInvalidData, st.Errors[0].Code)
	assert.ErrorIs(t, st.Errors[0].Err, errNoInterventionLink)
	before, _, err := h.State.Cursor(ctx, FlowDecisionsPING)
	require.NoError(t, err)
	assert.NotEmpty(t, before, "the cursor moved past it")

	h.pingIntervention(2)
	_, err = newPINGIntake(t, h).RunOnce(ctx)
	require.NoError(t, err)
	decide(t, h, 2, "accepted", "")
	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided)
	assert.Len(t, decisionUpdates(h, 2), 1)
}
