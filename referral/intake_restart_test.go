package referral

import (
	"context"
	"net/http"
	"sort"
	"testing"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// intakeSummary is what an intake leaves behind, without timestamps:
// per individual, the case's owner, languages and service unique_ids,
// and the status updates per intervention.
func intakeSummary(t *testing.T, h *harness, n int) map[string]any {
	t.Helper()
	out := map[string]any{}
	for i := 1; i <= n; i++ {
		c := onlyCase(t, h, i)
		var svc []string
		for _, s := range servicesOf(c) {
			svc = append(svc, s["unique_id"].(string)+":"+s["unhcr_referral_status"].(string))
		}
		sort.Strings(svc)
		out[individualNumber(i)] = []any{c["id"], c["owned_by"], c["language"], svc, len(transferUpdates(h)[lpID(i)])}
	}
	return out
}

// A PING run cancelled half way (the process stops while intervention 2's
// status is being sent) and then restarted on the same state converges to
// what an uninterrupted run leaves: the same cases, one service each, one
// status update per intervention.
func TestPINGIntakeRestartAfterCancelConverges(t *testing.T) {
	setup := func(h *harness) {
		h.pingIntervention(1)
		h.pingIntervention(2, "Nuer", "Dinka")
		h.pingIntervention(3)
	}
	ref := newHarness(t)
	setup(ref)
	_, err := newPINGIntake(t, ref).RunOnce(context.Background())
	require.NoError(t, err)
	want := intakeSummary(t, ref, 3)

	h := newHarness(t, withSQLite())
	setup(h)
	ctx, cancel := context.WithCancel(context.Background())
	h.PINGFaults.Fail(func(r *http.Request, body []byte) int {
		if containsAll(body, progrestest.SHPTransferStatus, lpID(2)) {
			cancel() // the process stops here
		}
		return 0
	})
	_, err = newPINGIntake(t, h).RunOnce(ctx)
	require.Error(t, err, "the cancelled run reports it")
	h.PINGFaults.Fail(nil)
	assert.Len(t, transferUpdates(h)[lpID(2)], 0, "intervention 2's status never reached PING")

	h.Restart()
	st, err := newPINGIntake(t, h).RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, st.Received, "only what was left is done again")
	assert.Equal(t, want, intakeSummary(t, h, 3))
	h.Audit(FlowIntakePING) // the trail resumed across the restart still verifies
}

// DTP: the feedback fails after the case was written (the process then
// restarts); DTP delivers again; the restarted intake writes nothing new
// and sends the feedback once.
func TestDTPIntakeRestartBetweenWriteAndFeedbackConverges(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, withSQLite())
	mountDTPIntake(t, h)
	h.DTP.QueueReferral(dtpReferral(1, "Nuer", "Somali")...)
	h.DTP.FailNext(2, http.StatusBadGateway) // the feedback of both items
	require.Equal(t, 0, h.Push(ctx))
	onlyCase(t, h, 1)
	assert.Empty(t, feedbackFor(h, progrestest.InterventionNumber(1)))

	h.Restart()
	f := mountDTPIntake(t, h)
	require.Equal(t, 1, h.Push(ctx))
	c := onlyCase(t, h, 1)
	require.Len(t, servicesOf(c), 1)
	assert.Equal(t, []any{"language2", "language8"}, c["language"])
	fb := feedbackFor(h, progrestest.InterventionNumber(1))
	require.Len(t, fb, 1, "the feedback effect happens once")
	assert.Equal(t, c["case_id"], fb[0]["case_id"])
	st, _ := f.RunOnce(ctx)
	assert.Zero(t, st.Created, "the restarted intake creates nothing")
	h.Audit(FlowIntakeDTP)
}

// containsAll reports whether b contains every s.
func containsAll(b []byte, ss ...string) bool {
	for _, s := range ss {
		if !bytesContains(b, s) {
			return false
		}
	}
	return true
}
