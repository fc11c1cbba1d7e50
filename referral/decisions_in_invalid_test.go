package referral

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A pushed decision item with an unknown review code is refused alone: the
// valid decision of the batch is applied, the refused one is audited and
// reported (invalid_item) once per delivery key, and DTP is told it was not
// answered. Before, the decision flow mounted no invalid-item callback and
// such an item left no trace but the HTTP answer.
func TestDecisionsInDTPInvalidItemIsAuditedAndReportedOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	c2 := h.addReferredCase(2, outOwner, true, nil)
	f := newDecisionsIn(t, h, false)
	h.Mount(f.HandlerOption())

	bad := progrestest.SyntheticDecision(2, compositeKey(t, c2), true)
	bad["progres_reviewdecision"] = "125080009"
	h.DTP.QueueDecision(progrestest.SyntheticDecision(1, compositeKey(t, c1), true), bad)
	assert.Equal(t, 0, h.Push(ctx), "the refused item is not acknowledged")
	st, _ := h.referralStatus(c1)
	assert.Equal(t, "accepted", st, "the valid decision of the batch is applied")
	st, _ = h.referralStatus(c2)
	assert.Equal(t, "in_progress", st, "nothing is applied for the refused item")

	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Decided)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, codeInvalidItem, s.Errors[0].Code)
	failed := func() int {
		n := 0
		for _, e := range h.Audit(f.Name()) {
			if e.Kind == consent.KindDelivery && e.Outcome == consent.OutcomeFailed && len(e.Reasons) == 1 && e.Reasons[0] == codeInvalidItem {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, failed(), "the refusal is audited")

	h.Push(ctx) // DTP delivers the batch again
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Failed, "a re-delivered refused item is not counted again")
	assert.Equal(t, 1, failed(), "nor audited again")
	texts := append([]string{h.Logs.String()}, statsTexts(s)...)
	for _, e := range h.Audit(f.Name()) {
		texts = append(texts, string(consent.CanonicalEvent(e)))
	}
	rec, fields := outPersonal(2)
	assertNoLeak(t, rec, fields, texts...)
}
