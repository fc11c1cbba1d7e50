package referral

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A decision-list row PING sends with a code casebridge does not know is
// reported, and the decisions after it are still applied: one bad row
// does not block every later decision on every run.
func TestDecisionsInPINGUnreadableRowDoesNotBlockTheRest(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	c2 := h.addReferredCase(2, outOwner, true, nil)
	h.PING.AddSyntheticDecision(1, c1.CaseID, c1.ServiceID, progrestest.StatusAccepted)
	h.PING.AddRows(progrestest.SHPDecisions, map[string]any{
		"progres_interoperabilityreferralid":     "0c0c0c0c-0000-4000-8000-0000000000aa",
		"progres_interoperabilityreferralstatus": json.Number("125080009"),
	})
	h.PING.AddSyntheticDecision(3, c2.CaseID, c2.ServiceID, progrestest.StatusRejected)
	f := newDecisionsIn(t, h, true)

	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Decided, "the decisions before and after the bad row are applied")
	require.Len(t, s.Errors, 1)
	assert.Equal(t, codeInvalidRow, s.Errors[0].Code)
	assert.Equal(t, "row:1", s.Errors[0].Key)
	st, _ := h.referralStatus(c2)
	assert.Equal(t, "rejected", st)
}
