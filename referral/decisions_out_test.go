package referral

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// intakeViaDTP delivers synthetic referrals 1..n through the DTP intake.
func intakeViaDTP(t *testing.T, h *harness, n int) {
	t.Helper()
	mountDTPIntake(t, h)
	var items []map[string]any
	for i := 1; i <= n; i++ {
		items = append(items, dtpReferral(i)...)
	}
	h.DTP.QueueReferral(items...)
	require.Equal(t, 1, h.Push(context.Background()))
}

// decide sets the decision on intervention i's service, as a caseworker.
func decide(t *testing.T, h *harness, i int, status, reason string) {
	t.Helper()
	c := onlyCase(t, h, i)
	row := map[string]any{"unique_id": StableID("", "progres-intervention", progrestest.InterventionNumber(i)), "unhcr_referral_status": status}
	if reason != "" {
		row["unhcr_referral_rejection_reason"] = reason
	}
	_, err := h.PrimeroAdmin.Cases.Update(context.Background(), c["id"].(string), primero.Patch{"services_section": []any{row}})
	require.NoError(t, err)
}

// decisionsConfig is the decision flows' configuration on h.
func decisionsConfig(h *harness) DecisionsOutConfig {
	return DecisionsOutConfig{Common: h.Common(PolicyDecisionsOut), Primero: h.PrimeroClient, Start: harnessStart.Add(-time.Hour)}
}

// withDTPDecisions and withPINGDecisions set the decision flow's gateway.
func withDTPDecisions(c DecisionsOutConfig, dtp *progres.DTPClient) DecisionsOutConfig {
	c.DTP = dtp
	return c
}
func withPINGDecisions(c DecisionsOutConfig, ping *progres.PINGClient) DecisionsOutConfig {
	c.PING = ping
	return c
}

// newDTPDecisions builds the DTP decision flow on h.
func newDTPDecisions(t *testing.T, h *harness) *DecisionsOut {
	t.Helper()
	f, err := NewDecisionsOut(withDTPDecisions(decisionsConfig(h), h.DTPClient))
	require.NoError(t, err)
	return f
}

// decisionBodies returns the decision bodies DTP received for intervention i.
func decisionBodies(h *harness, i int) []map[string]any {
	var out []map[string]any
	for _, fb := range feedbackFor(h, progrestest.InterventionNumber(i)) {
		if fb["request_type"] == "ReceiveDecisionOutgoingReferral" {
			out = append(out, fb)
		}
	}
	return out
}

// Each decision goes to DTP once, with its own case, the reason, and the
// status mapped; a second run, and a run after an unrelated edit of a
// decided case, send nothing (pitfall 10); a changed decision is sent.
// The referrals came through the referring partner (service_request_agency
// is its number, not UNHCR): they are answered all the same (pitfall 23).
func TestDTPDecisionsSendEachDecisionOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	intakeViaDTP(t, h, 3)
	assert.Equal(t, intakePartner, servicesOf(onlyCase(t, h, 1))[0]["service_request_agency"])
	decide(t, h, 1, "accepted", "")
	decide(t, h, 2, "rejected", "Synthetic reason code R1")
	f := newDTPDecisions(t, h)

	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Decided)
	assert.Zero(t, st.Failed)
	d1, d2 := decisionBodies(h, 1), decisionBodies(h, 2)
	require.Len(t, d1, 1)
	require.Len(t, d2, 1)
	assert.Equal(t, "acknowledged", d1[0]["status"])
	assert.Equal(t, "No reason specified.", d1[0]["closure_reason"])
	assert.Equal(t, onlyCase(t, h, 1)["case_id"], d1[0]["case_id"])
	assert.Equal(t, intakeUserNGO, d1[0]["primero_user"])
	assert.Equal(t, "rejected", d2[0]["status"])
	assert.Equal(t, "Synthetic reason code R1", d2[0]["closure_reason"])
	assert.Equal(t, onlyCase(t, h, 2)["case_id"], d2[0]["case_id"])
	assert.Empty(t, decisionBodies(h, 3), "a pending service sends nothing")

	cur, ok, err := h.State.Cursor(ctx, FlowDecisionsDTP)
	require.NoError(t, err)
	require.True(t, ok)
	wm, err := primero.ParseWatermark(cur)
	require.NoError(t, err)
	assert.False(t, wm.At.After(harnessStart.Add(time.Hour)), "the cursor is a server timestamp, not a later clock reading (pitfall 9)")

	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Decided, "a second run sends nothing")

	_, err = h.PrimeroAdmin.Cases.Update(ctx, onlyCase(t, h, 1)["id"].(string), primero.Patch{"telephone_current": "000-edit"})
	require.NoError(t, err)
	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, st.Received, 1, "the edited case is read again")
	assert.Zero(t, st.Decided, "an unrelated edit re-sends nothing (pitfall 10)")

	decide(t, h, 2, "accepted", "")
	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided)
	require.Len(t, decisionBodies(h, 2), 2, "the changed decision is sent")
	assert.Equal(t, "acknowledged", decisionBodies(h, 2)[1]["status"])
	assert.Len(t, decisionBodies(h, 1), 1)
	h.AssertNoPersonalData(3, []string{FlowDecisionsDTP, FlowIntakeDTP}, statsTexts(st)...)
}

// No stored cursor and no Start: the flow refuses to run (pitfall 12)
// and sends nothing.
func TestDecisionsRefuseToRunWithoutCursorOrStart(t *testing.T) {
	h := newHarness(t)
	intakeViaDTP(t, h, 1)
	decide(t, h, 1, "accepted", "")
	cfg := decisionsConfig(h)
	cfg.Start = time.Time{}
	f, err := NewDecisionsOut(withDTPDecisions(cfg, h.DTPClient))
	require.NoError(t, err)
	_, err = f.RunOnce(context.Background())
	require.ErrorIs(t, err, ErrNoCursor)
	assert.Empty(t, decisionBodies(h, 1))
}

// A decision DTP does not take is counted, and the cursor stops before
// its case, so the next run sends it; the other decision is sent once.
func TestDTPDecisionsFailureIsRetriedNextRun(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	intakeViaDTP(t, h, 2)
	decide(t, h, 1, "accepted", "")
	decide(t, h, 2, "accepted", "")
	f := newDTPDecisions(t, h)
	h.DTP.FailNext(1, http.StatusServiceUnavailable)
	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Failed)
	assert.Equal(t, codeDelivery, st.Errors[0].Code)
	assert.Equal(t, 1, st.Decided)

	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided, "the failed one is sent on the next run")
	assert.Len(t, decisionBodies(h, 1), 1)
	assert.Len(t, decisionBodies(h, 2), 1)
	var failed, delivered int
	for _, e := range h.Audit(FlowDecisionsDTP) {
		switch e.Outcome {
		case consent.OutcomeFailed:
			failed++
		case consent.OutcomeDelivered:
			delivered++
		}
	}
	assert.Equal(t, 1, failed)
	assert.Equal(t, 2, delivered)
}

// A decision made in Primero while a run reads the changes is sent by
// that run or the next, exactly once.
func TestDTPDecisionsChangeDuringRunIsPickedUp(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	intakeViaDTP(t, h, 3)
	decide(t, h, 1, "accepted", "")
	f := newDTPDecisions(t, h)
	changed := false
	h.PrimeroFaults.Fail(func(r *http.Request, _ []byte) int {
		if !changed && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/api/v2/cases") && r.URL.Query().Get("per") != "1" {
			changed = true
			decide(t, h, 3, "rejected", "")
		}
		return 0
	})
	_, err := f.RunOnce(ctx)
	require.NoError(t, err)
	h.PrimeroFaults.Fail(nil)
	require.True(t, changed)
	_, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Len(t, decisionBodies(h, 1), 1)
	assert.Len(t, decisionBodies(h, 3), 1, "the decision made during the run is sent exactly once")
}

// A case whose consent is not recorded sends no decision; the denial is
// counted and audited, and nothing is marked, so the decision goes once
// consent is recorded.
func TestDTPDecisionsGateOnConsent(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	intakeViaDTP(t, h, 1)
	c := onlyCase(t, h, 1)
	_, err := h.PrimeroAdmin.Cases.Update(ctx, c["id"].(string), primero.Patch{"consent_for_services": false})
	require.NoError(t, err)
	decide(t, h, 1, "accepted", "")
	f := newDTPDecisions(t, h)
	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.DeniedTotal())
	assert.Empty(t, decisionBodies(h, 1))
	var denied int
	for _, e := range h.Audit(FlowDecisionsDTP) {
		if e.Kind == consent.KindDecision && e.Decision == consent.DecisionDeny {
			denied++
		}
	}
	assert.Equal(t, 1, denied)

	_, err = h.PrimeroAdmin.Cases.Update(ctx, c["id"].(string), primero.Patch{"consent_for_services": true})
	require.NoError(t, err)
	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided)
	assert.Len(t, decisionBodies(h, 1), 1)
}

// The bridge as a deployment wires it: one Runner cycle reports the DTP
// intake's pushes and sends the decisions made since.
func TestRunnerCycleRunsIntakeAndDecisions(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	intake := mountDTPIntake(t, h)
	h.DTP.QueueReferral(dtpReferral(1)...)
	require.Equal(t, 1, h.Push(ctx))
	decide(t, h, 1, "rejected", "")
	r := &Runner{State: h.State, Flows: []Flow{intake, newDTPDecisions(t, h)}}
	stats, err := r.Cycle(ctx)
	require.NoError(t, err)
	require.Len(t, stats, 2)
	assert.Equal(t, FlowIntakeDTP, stats[0].Flow)
	assert.Equal(t, 1, stats[0].Created)
	assert.Equal(t, 1, stats[1].Decided)
	require.Len(t, decisionBodies(h, 1), 1)
	assert.Equal(t, "rejected", decisionBodies(h, 1)[0]["status"])
}

// A deployment's own decision spec replaces the embedded one. A decision
// the spec cannot map (here: a required field the service lacks) is
// reported and audited, does not hold the cursor, and is sent once the
// case is fixed; every event carries the spec's hash.
func TestDTPDecisionsOwnSpecAndUnmappableDecision(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	intakeViaDTP(t, h, 2)
	src, err := SpecSource(SpecDecisionsOut)
	require.NoError(t, err)
	src = []byte(strings.Replace(string(src), "    source: owned_by\n", "    source: service.service_implementing_agency_individual\n", 1))
	spec, err := mapping.ParseYAML("own.yaml", src)
	require.NoError(t, err)
	m, err := mapping.Compile(spec)
	require.NoError(t, err)
	cfg := decisionsConfig(h)
	cfg.Spec = m
	f, err := NewDecisionsOut(withDTPDecisions(cfg, h.DTPClient))
	require.NoError(t, err)

	decide(t, h, 1, "accepted", "")
	decide(t, h, 2, "accepted", "")
	c2 := onlyCase(t, h, 2)
	_, err = h.PrimeroAdmin.Cases.Update(ctx, c2["id"].(string), primero.Patch{}.UpdateRow("services_section",
		StableID("", "progres-intervention", progrestest.InterventionNumber(2)), map[string]any{"service_implementing_agency_individual": caseworker2}))
	require.NoError(t, err)
	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided)
	require.Equal(t, 1, st.Failed)
	assert.Equal(t, codeInvalidData, st.Errors[0].Code)
	require.Len(t, decisionBodies(h, 2), 1)
	assert.Equal(t, caseworker2, decisionBodies(h, 2)[0]["primero_user"], "the deployment's spec decided the user")
	assert.Empty(t, decisionBodies(h, 1))

	c1 := onlyCase(t, h, 1)
	_, err = h.PrimeroAdmin.Cases.Update(ctx, c1["id"].(string), primero.Patch{}.UpdateRow("services_section",
		StableID("", "progres-intervention", progrestest.InterventionNumber(1)), map[string]any{"service_implementing_agency_individual": caseworker1}))
	require.NoError(t, err)
	st, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided, "fixed, the decision goes")
	assert.Len(t, decisionBodies(h, 1), 1)
	assert.Len(t, decisionBodies(h, 2), 1)
	for _, e := range h.Audit(FlowDecisionsDTP) {
		assert.Equal(t, m.Hash(), e.MappingHash)
		assert.Equal(t, cfg.Policy.Hash(), e.PolicyHash)
	}
}

// A service an earlier integration made for the same intervention (its
// own unique_id) is merged into, not duplicated; the intake links it, and
// the decision on it reaches proGres.
func TestLegacyServiceRowIsMergedIntoAndItsDecisionSent(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	legacy := "0a30b142-3906-46d3-bbb4-f28c44b357d7"
	h.Primero.AddCase(map[string]any{"module_id": "primeromodule-cp", "unhcr_individual_no": individualNumber(1),
		"owned_by": caseworker1, "consent_for_services": true, "services_section": []any{map[string]any{
			"unique_id": legacy, "service_type": "alternative_care", "unhcr_referral_status": "pending",
			"progres_interventionnumber": progrestest.InterventionNumber(1)}}})
	intakeViaDTP(t, h, 1)
	c := onlyCase(t, h, 1)
	rows := servicesOf(c)
	require.Len(t, rows, 1, "merged into the earlier row, not appended (pitfall 1)")
	assert.Equal(t, legacy, rows[0]["unique_id"])
	assert.Equal(t, "UNICEF", rows[0]["service_implementing_agency"], "its empty fields were filled")

	_, err := h.PrimeroAdmin.Cases.Update(ctx, c["id"].(string), primero.Patch{}.UpdateRow("services_section", legacy,
		map[string]any{"unhcr_referral_status": "accepted"}))
	require.NoError(t, err)
	st, err := newDTPDecisions(t, h).RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Decided)
	require.Len(t, decisionBodies(h, 1), 1)
	assert.Equal(t, caseworker1, decisionBodies(h, 1)[0]["primero_user"])
}
