package referral

import (
	"context"
	"net/http"
	"testing"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newPINGIntake builds the PING intake on h.
func newPINGIntake(t *testing.T, h *harness) *Intake {
	t.Helper()
	f, err := NewIntake(withPINGIntake(intakeConfig(h), h.PINGClient))
	require.NoError(t, err)
	return f
}

// transferUpdates returns the SHP-2748 records the PING fake received,
// by progres_lpinterventionid.
func transferUpdates(h *harness) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, in := range h.PING.Ingested() {
		if in.ShippingProcessID != progrestest.SHPTransferStatus {
			continue
		}
		for _, r := range in.Records {
			id := field(r, "progres_lpinterventionid")
			out[id] = append(out[id], r)
		}
	}
	return out
}

// field reads a Field value of an ingestion record.
func field(rec map[string]any, name string) string {
	fs, _ := rec["Fields"].([]any)
	for _, f := range fs {
		m, _ := f.(map[string]any)
		if m["Name"] == name {
			s, _ := m["Value"].(string)
			return s
		}
	}
	return ""
}

// lpID is progrestest's progres_lpinterventionid of intervention i.
func lpID(i int) string {
	return progrestest.SyntheticPendingRow(i)["progres_lpinterventionid"].(string)
}

// PING: each pending intervention becomes a case, its detail rows are
// grouped (languages collected), and one status update "Pending" per
// intervention goes back with the intervention's own case id; a second
// run finds nothing pending and changes nothing.
func TestPINGIntakeDeliversAndSetsPendingOncePerIntervention(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := newPINGIntake(t, h)
	h.pingIntervention(1)
	h.pingIntervention(2, "Nuer", "Somali")
	h.pingIntervention(3)

	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Received)
	assert.Equal(t, 3, st.Created)
	assert.Equal(t, 3, st.Sent)
	assert.Zero(t, st.Failed)

	c2 := onlyCase(t, h, 2)
	assert.Equal(t, []any{"language2", "language8"}, c2["language"])
	require.Len(t, servicesOf(c2), 1)
	assert.Equal(t, "UNHCR", servicesOf(c2)[0]["service_request_agency"])
	ups := transferUpdates(h)
	for i := 1; i <= 3; i++ {
		u := ups[lpID(i)]
		require.Len(t, u, 1, "one status update for intervention %d", i)
		assert.Equal(t, "125080002", field(u[0], "progres_primerotransferstatus"))
		assert.Equal(t, onlyCase(t, h, i)["case_id"], field(u[0], "progres_primeroid"), "intervention %d names its own case", i)
		assert.Equal(t, onlyCase(t, h, i)["case_id"], u[0]["ExternalId"], "no constant placeholder ExternalId (pitfall 25)")
	}
	assert.Empty(t, h.PING.Rows(progrestest.SHPPendingInterventions), "nothing left pending")

	again, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, again.Received+again.Created+again.Updated+again.Sent, "a second run changes nothing")
	h.AssertNoPersonalData(3, []string{FlowIntakePING}, statsTexts(st)...)
}

// An intervention that cannot be delivered stays pending, is reported on
// every run and written nowhere; a status update that fails is sent again
// next run without a second case or service.
func TestPINGIntakeFailuresStayPendingAndAreRetried(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := newPINGIntake(t, h)
	h.PING.AddRows(progrestest.SHPPendingInterventions, progrestest.SyntheticPendingRow(1))
	bad := withConsent(progrestest.SyntheticDetailRows(1), true)
	bad[0]["progres_interventiontype2.interventiontype.progres_description"] = "Protection"
	h.PING.AddRows(progrestest.SHPInterventionDetail, bad...)
	h.pingIntervention(2)

	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Failed)
	assert.Equal(t, codeServiceType, st.Errors[0].Code)
	assert.Empty(t, h.CasesByIndividual(individualNumber(1)))
	assert.Len(t, h.PING.Rows(progrestest.SHPPendingInterventions), 1, "the refused one stays pending")

	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Failed, "reported again, never silently skipped (pitfall 31)")
	h.AssertNoPersonalData(2, []string{FlowIntakePING}, statsTexts(st)...)
}

// A lost status update: the case is written, SHP-2748 fails; the next run
// writes nothing new and sends the status once more.
func TestPINGIntakeStatusFailureIsRetriedNextRun(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := newPINGIntake(t, h)
	h.pingIntervention(1)
	restore := h.failShippingProcess(progrestest.SHPTransferStatus, http.StatusServiceUnavailable)
	st, err := f.RunOnce(ctx)
	restore()
	require.NoError(t, err)
	assert.Equal(t, 1, st.Created)
	assert.Equal(t, 1, st.Failed)
	assert.Equal(t, codeFeedback, st.Errors[0].Code)
	assert.Len(t, h.PING.Rows(progrestest.SHPPendingInterventions), 1)

	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Unchanged)
	assert.Equal(t, 1, st.Sent)
	require.Len(t, servicesOf(onlyCase(t, h, 1)), 1)
	assert.Len(t, transferUpdates(h)[lpID(1)], 1)
}

// SHP-2748's answer is lost after PING applied it: the run reports the
// failure; PING no longer lists the intervention, so nothing is sent
// again and the case is not touched again.
func TestPINGIntakeLostStatusAnswerIsNotResent(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := newPINGIntake(t, h)
	h.pingIntervention(1)
	h.PINGFaults.Fail(func(_ *http.Request, body []byte) int {
		if containsAll(body, progrestest.SHPTransferStatus) {
			return loseAnswer
		}
		return 0
	})
	st, err := f.RunOnce(ctx)
	h.PINGFaults.Fail(nil)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Failed, "the lost answer is reported")
	assert.Len(t, transferUpdates(h)[lpID(1)], 1, "PING applied it")

	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Received+st.Sent)
	assert.Len(t, transferUpdates(h)[lpID(1)], 1)
	require.Len(t, servicesOf(onlyCase(t, h, 1)), 1)
}
