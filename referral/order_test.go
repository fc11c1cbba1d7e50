package referral

import (
	"context"
	"net/http"
	"testing"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proGres applies each answer about an intervention as a status set: a
// decision sent before the intake's own answer ("Pending Acknowledgement",
// which DTP makes the intake send again on re-delivery) would be undone by
// it. The decision waits, reported, until the intake's answer went; then
// it goes, last. (Found by TestExactlyOnceUnderChaos/DTP.)
func TestDTPDecisionWaitsForTheIntakeAnswer(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	mountDTPIntake(t, h)
	h.DTP.QueueReferral(dtpReferral(1)...)
	h.DTP.FailNext(1, http.StatusServiceUnavailable) // the intake's feedback
	require.Equal(t, 0, h.Push(ctx))
	decide(t, h, 1, "accepted", "")
	f := newDTPDecisions(t, h)

	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Decided, "held until the intake's answer went")
	require.Len(t, st.Errors, 1)
	assert.Equal(t, codeIntakeUnanswered, st.Errors[0].Code)
	assert.Empty(t, feedbackFor(h, progrestest.InterventionNumber(1)))

	require.Equal(t, 1, h.Push(ctx)) // DTP delivers again; the feedback goes
	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided)
	fb := feedbackFor(h, progrestest.InterventionNumber(1))
	require.Len(t, fb, 2)
	assert.Equal(t, "Pending Acknowledgement", fb[0]["status"])
	assert.Equal(t, "acknowledged", fb[1]["status"], "the decision is what proGres holds last")
}

// PING: a decision sent while the intervention is still pending would take
// it off the pending list before the intake's status update (with the
// case) ever went. The decision waits while PING lists the intervention;
// once the intake's update is taken (or its answer was lost after PING
// applied it: no longer listed), it goes. (Found by
// TestExactlyOnceUnderChaos/PING.)
func TestPINGDecisionWaitsForTheIntakeAnswer(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.pingIntervention(1)
	h.pingIntervention(2)
	restore := h.failShippingProcess(progrestest.SHPTransferStatus, http.StatusServiceUnavailable)
	_, err := newPINGIntake(t, h).RunOnce(ctx)
	require.NoError(t, err)
	restore()
	decide(t, h, 1, "accepted", "")
	f := newPINGDecisions(t, h)
	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Decided, "held while PING lists the intervention as pending")
	require.Len(t, st.Errors, 1)
	assert.Equal(t, codeIntakeUnanswered, st.Errors[0].Code)
	assert.Empty(t, transferUpdates(h)[lpID(1)])

	_, err = newPINGIntake(t, h).RunOnce(ctx)
	require.NoError(t, err)
	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided)
	u := transferUpdates(h)[lpID(1)]
	require.Len(t, u, 2)
	assert.Equal(t, "125080002", field(u[0], "progres_primerotransferstatus"), "the intake's Pending first")
	assert.Equal(t, "125080003", field(u[1], "progres_primerotransferstatus"), "then the decision")

	// Intervention 2's update is taken but its answer lost: no longer
	// pending, so its decision is not held.
	h.PINGFaults.Fail(func(_ *http.Request, body []byte) int {
		if containsAll(body, progrestest.SHPTransferStatus, lpID(2)) {
			return loseAnswer
		}
		return 0
	})
	_, err = newPINGIntake(t, h).RunOnce(ctx)
	require.NoError(t, err)
	h.PINGFaults.Fail(nil)
	decide(t, h, 2, "rejected", "")
	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided, "%v", st.Errors)
}
