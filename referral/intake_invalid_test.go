package referral

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/casebridge/casebridge/consent"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threeDTPReferrals is synthetic referrals 1..3 with consent, one item
// each; item 1 (intervention 2) carries an unknown sex code.
func threeDTPReferrals() []map[string]any {
	var items []map[string]any
	for i := 1; i <= 3; i++ {
		items = append(items, dtpReferral(i)...)
	}
	items[1]["individuals.progres_sex"] = "125080009"
	return items
}

// A batch of three whose second intervention has an unknown sex code:
// the other two become cases and are answered "Pending Acknowledgement",
// the invalid one is answered "Delivery Fail" with the invalid-data
// reason, and nothing of it is written in Primero (pitfall 31: the
// earlier integration failed the whole run and answered only the first item).
func TestDTPIntakeAnswersAnInvalidItemAloneAndDeliversTheRest(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	h.DTP.QueueReferral(threeDTPReferrals()...)
	require.Equal(t, 1, h.Push(ctx), "every item handled: acknowledged")

	onlyCase(t, h, 1)
	onlyCase(t, h, 3)
	assert.Empty(t, h.CasesByIndividual(individualNumber(2)), "nothing of the invalid item is written")
	for _, i := range []int{1, 3} {
		fb := feedbackFor(h, progrestest.InterventionNumber(i))
		require.Len(t, fb, 1, "intervention %d is answered once", i)
		assert.Equal(t, "Pending Acknowledgement", fb[0]["status"])
	}
	fb := feedbackFor(h, progrestest.InterventionNumber(2))
	require.Len(t, fb, 1, "the invalid intervention is answered once")
	assert.Equal(t, "Delivery Fail", fb[0]["status"])
	assert.Equal(t, progres.ReasonInvalidData, fb[0]["closure_reason"])

	// Per-item results: the invalid item is "invalid", answered; the
	// notification as a whole is handled (200).
	status, a := lastAnswer(t, h)
	assert.Equal(t, http.StatusOK, status)
	require.Len(t, a.Results, 3)
	assert.Equal(t, []string{progres.ItemDelivered, progres.ItemInvalid, progres.ItemDelivered}, resultStatuses(a))
	assert.True(t, a.Results[1].Answered)
	assert.Equal(t, "interventions[1].individuals.progres_sex", a.Results[1].Errors[0].Path)

	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Received)
	assert.Equal(t, 2, st.Created)
	assert.Equal(t, 3, st.Sent, "two Pending Acknowledgement, one Delivery Fail")
	assert.Equal(t, 1, st.Failed)
	require.Len(t, st.Errors, 1)
	assert.Equal(t, progrestest.InterventionNumber(2), st.Errors[0].Key)
	assert.Equal(t, codeInvalidItem, st.Errors[0].Code)

	// Audited: the refusal, then the feedback intended and delivered.
	assert.Equal(t, []string{"failed:" + codeInvalidItem, "intended:" + codeFeedback, "delivered:" + codeFeedback},
		auditOf(h, progrestest.InterventionNumber(2)))
	h.AssertNoPersonalData(3, []string{FlowIntakeDTP}, append(statsTexts(st), string(h.DTP.PushAttempts()[0].Answer))...)
}

// The same batch delivered again (DTP resending it, same delivery keys):
// nothing new: no write, no second feedback, no new audit event, and the
// invalid item counts as unchanged, not as a second failure.
func TestDTPIntakeRedeliveredInvalidItemIsNotAnsweredTwice(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	h.DTP.QueueReferral(threeDTPReferrals()...)
	require.Equal(t, 1, h.Push(ctx))
	_, _ = f.RunOnce(ctx)
	events := len(h.Audit(FlowIntakeDTP))
	feedback := len(h.DTP.Feedback())

	h.DTP.QueueReferral(threeDTPReferrals()...)
	require.Equal(t, 1, h.Push(ctx))
	status, a := lastAnswer(t, h)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, []string{progres.ItemDelivered, progres.ItemInvalid, progres.ItemDelivered}, resultStatuses(a))
	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 3, st.Unchanged)
	assert.Zero(t, st.Created+st.Updated+st.Sent+st.Failed)
	assert.Len(t, h.DTP.Feedback(), feedback, "no second feedback")
	assert.Len(t, h.Audit(FlowIntakeDTP), events, "no new audit event")
	assert.Len(t, feedbackFor(h, progrestest.InterventionNumber(2)), 1)
}

// An invalid item without an intervention number cannot be answered: it
// is counted and audited under its delivery key, nothing is sent for it,
// and the notification is answered 422 so that DTP learns of it from the
// answer; the valid item is delivered. Delivered again, it is unchanged
// and answered 422 again, with nothing more sent or audited.
func TestDTPIntakeInvalidItemWithoutNumberIsReportedNotAnswered(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	items := append(dtpReferral(1), dtpReferral(2)...)
	delete(items[1], "progres_interventionnumber")
	items[1]["individuals.progres_sex"] = "125080009"
	h.DTP.QueueReferral(items...)
	require.Equal(t, 0, h.Push(ctx), "not acknowledged: one item is unanswered")

	onlyCase(t, h, 1)
	assert.Empty(t, h.CasesByIndividual(individualNumber(2)))
	require.Len(t, h.DTP.Feedback(), 1, "only the valid item is answered")
	assert.Equal(t, "Pending Acknowledgement", h.DTP.Feedback()[0]["status"])
	status, a := lastAnswer(t, h)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, []string{progres.ItemDelivered, progres.ItemInvalid}, resultStatuses(a))
	assert.False(t, a.Results[1].Answered)
	key := string(a.Results[1].DeliveryKey)

	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 1, st.Failed)
	require.Len(t, st.Errors, 1)
	assert.Equal(t, key, st.Errors[0].Key, "reported under its delivery key")
	assert.Equal(t, codeInvalidItem, st.Errors[0].Code)
	assert.ErrorIs(t, st.Errors[0].Err, errUnanswerable)
	assert.Equal(t, []string{"failed:" + codeInvalidItem}, auditOf(h, key))
	events := len(h.Audit(FlowIntakeDTP))

	// DTP keeps the notification (not acknowledged) and delivers it again.
	require.Equal(t, 0, h.Push(ctx))
	status, _ = lastAnswer(t, h)
	assert.Equal(t, http.StatusUnprocessableEntity, status, "answered the same way")
	st, _ = f.RunOnce(ctx)
	assert.Equal(t, 2, st.Unchanged)
	assert.Zero(t, st.Failed+st.Sent+st.Created)
	assert.Len(t, h.DTP.Feedback(), 1)
	assert.Len(t, h.Audit(FlowIntakeDTP), events)
	h.AssertNoPersonalData(2, []string{FlowIntakeDTP}, statsTexts(st)...)
}

// When the Delivery Fail of an invalid item cannot be sent, the item is
// "failed" (500: try again), and the re-delivery sends it exactly once.
func TestDTPIntakeInvalidItemFeedbackFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	mountDTPIntake(t, h)
	items := dtpReferral(1)
	items[0]["progres_interventionstartdate"] = "yesterday"
	h.DTP.QueueReferral(items...)
	h.DTP.FailNext(1, http.StatusBadGateway) // the Delivery Fail
	require.Equal(t, 0, h.Push(ctx))
	status, a := lastAnswer(t, h)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, []string{progres.ItemFailed}, resultStatuses(a))
	assert.Empty(t, h.DTP.Feedback())

	require.Equal(t, 1, h.Push(ctx))
	fb := feedbackFor(h, progrestest.InterventionNumber(1))
	require.Len(t, fb, 1, "answered once")
	assert.Equal(t, "Delivery Fail", fb[0]["status"])
	assert.Empty(t, h.Primero.Cases())
}

// A broken copy of an intervention already delivered is not answered
// "Delivery Fail": proGres keeps "Pending Acknowledgement".
func TestDTPIntakeInvalidCopyOfADeliveredInterventionIsNotAnsweredAsFailed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	h.DTP.QueueReferral(dtpReferral(1)...)
	require.Equal(t, 1, h.Push(ctx))
	broken := dtpReferral(1)
	broken[0]["individuals.progres_sex"] = "125080009"
	h.DTP.QueueReferral(broken...)
	require.Equal(t, 1, h.Push(ctx))
	h.DTP.QueueReferral(broken...)
	require.Equal(t, 1, h.Push(ctx))

	fb := feedbackFor(h, progrestest.InterventionNumber(1))
	require.Len(t, fb, 1)
	assert.Equal(t, "Pending Acknowledgement", fb[0]["status"])
	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 1, st.Failed, "the broken copy is counted once")
	assert.Equal(t, 1, st.Unchanged, "its re-delivery is unchanged")
}

// lastAnswer is the status and decoded answer of the DTP fake's last push.
func lastAnswer(t *testing.T, h *harness) (int, progres.Answer) {
	t.Helper()
	att := h.DTP.PushAttempts()
	require.NotEmpty(t, att)
	var a progres.Answer
	require.NoError(t, json.Unmarshal(att[len(att)-1].Answer, &a))
	return att[len(att)-1].Status, a
}

// resultStatuses lists an answer's per-item statuses, in order.
func resultStatuses(a progres.Answer) []string {
	out := make([]string, len(a.Results))
	for i, r := range a.Results {
		out[i] = r.Status
	}
	return out
}

// auditOf lists the outcome:first-reason of the flow's delivery events
// about the record id, in order.
func auditOf(h *harness, id string) []string {
	var out []string
	for _, e := range h.Audit(FlowIntakeDTP) {
		if e.Kind == consent.KindDelivery && e.Record.ID == id {
			out = append(out, e.Outcome+":"+first(e.Reasons))
		}
	}
	return out
}
