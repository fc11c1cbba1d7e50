package referral

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decisionsPolicy is the policy the decision flows are audited under.
const decisionsPolicy = "gambella-progres-to-primero"

func newDecisionsIn(t *testing.T, h *harness, ping bool) *DecisionsIn {
	t.Helper()
	cfg := DecisionsInConfig{Common: h.Common(decisionsPolicy), Primero: h.PrimeroClient, Recipient: unhcrUser}
	if ping {
		cfg.PING = h.PINGClient
	}
	f, err := NewDecisionsIn(cfg)
	require.NoError(t, err)
	return f
}

// referralStatus returns the Primero fake's status of the case's only referral.
func (h *harness) referralStatus(ids outCase) (status, reason string) {
	h.t.Helper()
	refs := h.Primero.Referrals(ids.ID)
	require.Len(h.t, refs, 1)
	s, _ := refs[0]["status"].(string)
	r, _ := refs[0]["rejected_reason"].(string)
	return s, r
}

func compositeKey(t testing.TB, ids outCase) string {
	k, err := progres.NewReferralKey(ids.CaseID, ids.ServiceID)
	require.NoError(t, err)
	return k.String()
}

func TestDecisionsInDTPAppliesBatchAndRedeliversTheFailingOne(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, withDTPOptions(progrestest.WithPartialRedelivery()))
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	c2 := h.addReferredCase(2, outOwner, true, nil)
	f := newDecisionsIn(t, h, false)
	h.Mount(f.HandlerOption())

	unknownCase := "0d0d0d0d-0000-4000-8000-000000000009#0123456789ab"
	h.DTP.QueueDecision(
		progrestest.SyntheticDecision(1, compositeKey(t, c1), true),
		progrestest.SyntheticDecision(2, unknownCase, true),
		progrestest.SyntheticDecision(3, compositeKey(t, c2), false),
	)
	assert.Equal(t, 0, h.Push(ctx), "one item failed: not acknowledged")
	st, _ := h.referralStatus(c1)
	assert.Equal(t, "accepted", st)
	st, reason := h.referralStatus(c2)
	assert.Equal(t, "rejected", st)
	assert.Equal(t, "Individual Not Found: Synthetic comment", reason, "the mapped reason and proGres's comment")

	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Decided)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, CodeUnknownCase, s.Errors[0].Code)

	// The fake delivers only the failed item again; it fails again, loudly.
	h.Push(ctx)
	att := h.DTP.PushAttempts()
	assert.Equal(t, 1, att[len(att)-1].Items)
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Decided)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, CodeUnknownCase, s.Errors[0].Code)

	// Nothing emitted carries proGres's comment or the child's data.
	texts := []string{h.Logs.String(), s.Errors[0].Error()}
	for _, e := range h.Audit(f.Name()) {
		texts = append(texts, string(consent.CanonicalEvent(e)))
	}
	rec, fields := outPersonal(2)
	rec["comment"] = "Synthetic comment"
	assertNoLeak(t, rec, append(fields, "comment"), texts...)
}

func TestDecisionsInDTPRedeliveredDecisionIsUnchanged(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	f := newDecisionsIn(t, h, false)
	h.Mount(f.HandlerOption())
	d := progrestest.SyntheticDecision(1, compositeKey(t, c1), true)
	h.DTP.QueueDecision(d)
	require.Equal(t, 1, h.Push(ctx))
	h.DTP.QueueDecision(d)
	require.Equal(t, 1, h.Push(ctx))
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Decided)
	assert.Equal(t, 1, s.Unchanged, "the re-delivery changes nothing")

	// A contradicting decision is refused by the state machine, not applied.
	h.DTP.QueueDecision(progrestest.SyntheticDecision(1, compositeKey(t, c1), false))
	assert.Equal(t, 0, h.Push(ctx))
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, CodeInvalidTransition, s.Errors[0].Code)
	st, _ := h.referralStatus(c1)
	assert.Equal(t, "accepted", st)
}

func TestDecisionsInDTPUnknownReferral(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	f := newDecisionsIn(t, h, false)
	h.Mount(f.HandlerOption())
	h.DTP.QueueDecision(progrestest.SyntheticDecision(1, c1.CaseID+"#0123456789ab", true))
	assert.Equal(t, 0, h.Push(ctx))
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, CodeUnknownReferral, s.Errors[0].Code)
	ev := h.Audit(f.Name())
	require.NotEmpty(t, ev)
	assert.Equal(t, consent.OutcomeFailed, ev[len(ev)-1].Outcome)
}

func TestDecisionsInPINGMarksOnlySyncedOnes(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	c2 := h.addReferredCase(2, outOwner, true, nil)
	ok1 := h.PING.AddSyntheticDecision(1, c1.CaseID, c1.ServiceID, progrestest.StatusAccepted)
	bad := h.PING.AddSyntheticDecision(2, c2.CaseID, "0c0c0c0c-0000-4000-8000-000000000099", progrestest.StatusAccepted)
	ok2 := h.PING.AddSyntheticDecision(3, c2.CaseID, c2.ServiceID, progrestest.StatusRejected)
	f := newDecisionsIn(t, h, true)

	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Decided)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, CodeUnknownReferral, s.Errors[0].Code)
	status := map[string]any{}
	for _, r := range h.PING.Rows(progrestest.SHPDecisions) {
		status[r["progres_interoperabilityreferralid"].(string)] = r["progres_interoperabilityreferralstatus"]
	}
	assert.EqualValues(t, "125080003", status[ok1].(interface{ String() string }).String())
	assert.EqualValues(t, "125080003", status[ok2].(interface{ String() string }).String())
	assert.NotEqualValues(t, "125080003", status[bad].(interface{ String() string }).String(), "the failed one is not marked synced")
	st, reason := h.referralStatus(c2)
	assert.Equal(t, "rejected", st)
	assert.Equal(t, "Individual Not Found: Synthetic comment", reason)

	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Received, "only the unsynced one is read again")
	assert.Zero(t, s.Decided)
}

func TestDecisionsInPINGLostMarkSyncedAnswer(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	id := h.PING.AddSyntheticDecision(1, c1.CaseID, c1.ServiceID, progrestest.StatusRejected)
	proxy, pc := h.lossyPING()
	cfg := DecisionsInConfig{Common: h.Common(decisionsPolicy), Primero: h.PrimeroClient, Recipient: unhcrUser, PING: pc}
	f, err := NewDecisionsIn(cfg)
	require.NoError(t, err)

	proxy.LoseNext(1, "/data")
	_, err = f.RunOnce(ctx)
	require.Error(t, err, "the mark's answer was lost: the run says so")
	st, _ := h.referralStatus(c1)
	assert.Equal(t, "rejected", st)

	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	if s.Received == 1 {
		// The fake applied the lost mark or not: either way the decision
		// is not applied twice.
		assert.Equal(t, 1, s.Unchanged)
	}
	assert.Zero(t, s.Decided)
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Received, "marked synced: not read again (%s)", id)

	texts := []string{h.Logs.String(), err2s(err)}
	for _, e := range h.Audit(f.Name()) {
		texts = append(texts, string(consent.CanonicalEvent(e)))
	}
	assertNoLeak(t, mapping.Record{"comment": "Synthetic comment"}, []string{"comment"}, texts...)
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestNewFlowsNameTheMissingField(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		edit func(*OutboundConfig)
		want string
	}{
		{func(c *OutboundConfig) { c.DTP, c.PING = nil, nil }, "DTP or PING"},
		{func(c *OutboundConfig) { c.PING = h.PINGClient }, "not both"},
		{func(c *OutboundConfig) { c.State = nil }, "State"},
		{func(c *OutboundConfig) { c.Policy = nil }, "Policy"},
		{func(c *OutboundConfig) { c.Recipient = "" }, "Recipient"},
		{func(c *OutboundConfig) { c.Primero = nil }, "Primero"},
		{func(c *OutboundConfig) { c.OnRevocation = nil }, "OnRevocation"},
	} {
		cfg := h.outboundConfig(false, &revocations{})
		tc.edit(&cfg)
		_, err := NewOutbound(cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
	_, err := NewDecisionsIn(DecisionsInConfig{Common: h.Common(decisionsPolicy), Primero: h.PrimeroClient})
	require.ErrorContains(t, err, "Recipient")
}
