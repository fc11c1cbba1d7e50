package referral

import (
	"context"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// revocationEvents returns the flow's revocation audit events.
func revocationEvents(h *harness, flow string) []consent.Event {
	var out []consent.Event
	for _, e := range h.Audit(flow) {
		if e.Kind == consent.KindRevocation {
			out = append(out, e)
		}
	}
	return out
}

func TestRevocationConsentClearedAfterShare(t *testing.T) {
	for _, ping := range []bool{false, true} {
		name := "dtp"
		if ping {
			name = "ping"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t)
			seedOutbound(h)
			c1 := h.addReferredCase(1, outOwner, true, nil)
			revs := &revocations{}
			f := newOutbound(t, h, ping, revs)
			s, err := f.RunOnce(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, s.Sent, "%v %v", s, s.Errors)

			// Consent withdrawn by clearing the consent field.
			h.updateCase(c1.ID, primero.Patch{"consent_for_services": false})
			s, err = f.RunOnce(ctx)
			require.NoError(t, err)
			require.Len(t, revs.calls(), 1, "the recipient is told once")
			rev := revs.calls()[0]
			assert.Equal(t, consent.RecordRef{System: "primero", ID: c1.ID}, rev.Record)
			assert.Equal(t, consent.Party{System: "progres", Agency: "unhcr"}, rev.Recipient)
			assert.Equal(t, consent.RevokeAndNotify, rev.Action)
			// Primero's rule refuses the revoke once consent is cleared:
			// recorded and reported, not retried.
			require.Len(t, s.Errors, 1, "%v", s)
			assert.Equal(t, CodeRevokeRefusedConsent, s.Errors[0].Code)
			st, _ := h.referralStatus(c1)
			assert.Equal(t, "in_progress", st)
			require.Len(t, revocationEvents(h, f.Name()), 1)

			// Touched again: nothing is repeated.
			h.updateCase(c1.ID, primero.Patch{"name_nickname": "tc"})
			s, err = f.RunOnce(ctx)
			require.NoError(t, err)
			assert.Zero(t, s.Failed, "%v", s.Errors)
			assert.Len(t, revs.calls(), 1)
			assert.Len(t, revocationEvents(h, f.Name()), 1, "the revocation is audited exactly once")

			// Consent given again and the case referred again: the block
			// holds, nothing further is sent.
			h.updateCase(c1.ID, primero.Patch{"consent_for_services": true, "services_section": []any{map[string]any{
				"unique_id": "0c0c0c0c-0000-4000-8000-0000000000f2", "service_type": "food",
				"service_implementing_agency": agencyUNHCR}}})
			h.refer(c1.ID, "0c0c0c0c-0000-4000-8000-0000000000f2", "food")
			s, err = f.RunOnce(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, s.Denied[consent.ReasonConsentRevoked], "%v", s)
			assert.Zero(t, s.Sent)
			blocked, err := Blocked(ctx, h.State, consent.RecordRef{System: "primero", ID: c1.ID}, rev.Recipient)
			require.NoError(t, err)
			assert.True(t, blocked)
			require.NoError(t, Unblock(ctx, h.State, f.Name(), consent.RecordRef{System: "primero", ID: c1.ID}, rev.Recipient))
			blocked, err = Blocked(ctx, h.State, consent.RecordRef{System: "primero", ID: c1.ID}, rev.Recipient)
			require.NoError(t, err)
			assert.False(t, blocked, "a person lifted the block")
			if ping {
				assert.Len(t, h.PING.Ingested(), 1)
			} else {
				assert.Len(t, h.DTP.Referrals(), 1)
			}

			rec, fields := outPersonal(1)
			all := []string{h.Logs.String()}
			for _, e := range h.Audit(f.Name()) {
				all = append(all, string(consent.CanonicalEvent(e)))
			}
			assertNoLeak(t, rec, fields, all...)
		})
	}
}

// revokedFieldPolicy is the example policy with a revoked_field: a
// caseworker records the withdrawal there before clearing the consent
// fields, so the flow can still revoke the Primero referral.
func revokedFieldPolicy(t *testing.T) *consent.Policy {
	b, err := embedded.ReadFile("policies/gambella-primero-unhcr.yaml")
	require.NoError(t, err)
	src := strings.Replace(string(b), "  consent: [consent_for_services, disclosure_other_orgs]\n",
		"  consent: [consent_for_services, disclosure_other_orgs]\n  revoked_field: consent_withdrawn\n", 1)
	p, err := consent.Compile([]byte(src))
	require.NoError(t, err)
	return p
}

func TestRevocationBeforeConsentClearedRevokesPrimeroReferral(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, withPrimeroOptions(primerotest.WithFields(map[string]string{"consent_withdrawn": "tick_box"})))
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	revs := &revocations{failNext: 1}
	f := newOutbound(t, h, false, revs, func(c *OutboundConfig) { c.Policy = revokedFieldPolicy(t) })
	_, err := f.RunOnce(ctx)
	require.NoError(t, err)

	h.updateCase(c1.ID, primero.Patch{"consent_withdrawn": true})
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	st, _ := h.referralStatus(c1)
	assert.Equal(t, "revoked", st, "revoked while consent still stood")
	require.Len(t, s.Errors, 1)
	assert.Equal(t, CodeRevocationHook, s.Errors[0].Code, "the hook failed once")
	assert.Empty(t, revs.calls())

	// The hook's failure held the cursor: the next run calls it again,
	// although the case did not change.
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Failed, "%v", s.Errors)
	assert.Len(t, revs.calls(), 1)
	assert.Len(t, revocationEvents(h, f.Name()), 1)
}

func TestRevocationBlocksDecisions(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	out := newOutbound(t, h, false, &revocations{})
	_, err := out.RunOnce(ctx)
	require.NoError(t, err)
	h.updateCase(c1.ID, primero.Patch{"disclosure_other_orgs": false})
	_, err = out.RunOnce(ctx)
	require.NoError(t, err)

	f := newDecisionsIn(t, h, false)
	h.Mount(f.HandlerOption())
	h.DTP.QueueDecision(progrestest.SyntheticDecision(1, compositeKey(t, c1), true))
	assert.Equal(t, 1, h.Push(ctx), "acknowledged: the decision is not lost, it is refused on purpose")
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Denied[consent.ReasonConsentRevoked])
	assert.Zero(t, s.Decided)
	st, _ := h.referralStatus(c1)
	assert.Equal(t, "in_progress", st, "no decision is applied on a revoked case")
}

func TestRevocationHookOwedEvenAfterConsentGivenAgain(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	revs := &revocations{failNext: 1}
	f := newOutbound(t, h, false, revs)
	_, err := f.RunOnce(ctx)
	require.NoError(t, err)
	h.updateCase(c1.ID, primero.Patch{"consent_for_services": false})
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, countCode(s, CodeRevocationHook))
	assert.Empty(t, revs.calls())

	// Consent is recorded as given again before the next run: UNHCR must
	// still be told of the withdrawal, and the block stays.
	h.updateCase(c1.ID, primero.Patch{"consent_for_services": true})
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, countCode(s, CodeRevocationHook), "%v", s.Errors)
	require.Len(t, revs.calls(), 1)
	assert.Len(t, revocationEvents(h, f.Name()), 1)
	assert.Len(t, h.DTP.Referrals(), 1)
}

// countCode counts the run's item errors with code.
func countCode(s Stats, code string) int {
	n := 0
	for _, e := range s.Errors {
		if e.Code == code {
			n++
		}
	}
	return n
}
