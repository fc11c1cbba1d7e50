package referral

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/sqlsink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Once consent was withdrawn on a case shared with UNHCR (the outbound
// flow stores the block), no decision about it is sent to proGres either:
// the flows stop sending anything further for it (pitfall 38).
func TestDecisionsOutSendNothingForABlockedCase(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	intakeViaDTP(t, h, 2)
	decide(t, h, 1, "accepted", "")
	decide(t, h, 2, "accepted", "")
	cfg := decisionsConfig(h)
	to, err := recipientOf(FlowDecisionsDTP, cfg.Policy, cfg.To)
	require.NoError(t, err)
	blocked := consent.RecordRef{System: "primero", ID: onlyCase(t, h, 1)["id"].(string)}
	require.NoError(t, h.State.Update(ctx, FlowReferralsDTP, func(tx sqlsink.StateTx) error {
		return tx.PutLink(ctx, revokedLink(blocked, to))
	}))

	st, err := newDTPDecisions(t, h).RunOnce(ctx)
	require.NoError(t, err)
	assert.Empty(t, decisionBodies(h, 1), "nothing is sent about a blocked case")
	assert.Len(t, decisionBodies(h, 2), 1, "other cases are not held up")
	assert.Equal(t, 1, st.Decided)
	assert.Equal(t, 1, st.Denied[consent.ReasonConsentRevoked])
	denied := 0
	for _, e := range h.Audit(FlowDecisionsDTP) {
		if e.Kind == consent.KindDecision && e.Decision == consent.DecisionDeny {
			assert.Equal(t, []string{string(consent.ReasonConsentRevoked)}, e.Reasons)
			denied++
		}
	}
	assert.Equal(t, 1, denied, "the refusal is audited")
}
