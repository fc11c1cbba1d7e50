package referral

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// intakeConfig is the Gambella intake on the harness: the default intake
// user, and the NGO's for referrals through its partner number.
func intakeConfig(h *harness) IntakeConfig {
	return IntakeConfig{Common: h.Common(PolicyIntake), Primero: h.PrimeroClient, DefaultOwner: intakeUser,
		Owners: map[string]string{intakePartner: intakeUserNGO}}
}

// withDTPIntake and withPINGIntake set the intake's gateway.
func withDTPIntake(c IntakeConfig, dtp *progres.DTPClient) IntakeConfig    { c.DTP = dtp; return c }
func withPINGIntake(c IntakeConfig, ping *progres.PINGClient) IntakeConfig { c.PING = ping; return c }

// mountDTPIntake builds the DTP intake on h and mounts it where DTP pushes.
func mountDTPIntake(t *testing.T, h *harness) *Intake {
	t.Helper()
	f, err := NewIntake(withDTPIntake(intakeConfig(h), h.DTPClient))
	require.NoError(t, err)
	h.Mount(f.HandlerOption())
	return f
}

// feedbackFor returns the DTP fake's feedback bodies for an intervention.
func feedbackFor(h *harness, number string) []map[string]any {
	var out []map[string]any
	for _, fb := range h.DTP.Feedback() {
		if fb["progres_interventionnumber"] == number {
			out = append(out, fb)
		}
	}
	return out
}

// onlyCase returns the one case of individual i.
func onlyCase(t *testing.T, h *harness, i int) map[string]any {
	t.Helper()
	cs := h.CasesByIndividual(individualNumber(i))
	require.Len(t, cs, 1, "exactly one case for individual %d", i)
	return cs[0]
}

// A batch of two interventions, the first with two languages (two items):
// both become cases, the languages are collected, and each intervention
// gets exactly one feedback naming its own case (pitfall 31: the
// earlier integration answered only the first intervention, with another's case).
func TestDTPIntakeAnswersEveryInterventionOfABatchWithItsOwnCase(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	second := dtpReferral(2)
	delete(second[0], "user.progres_partner") // no partner: the default intake user
	h.DTP.QueueReferral(append(dtpReferral(1, "Nuer", "Somali"), second...)...)
	require.Equal(t, 1, h.Push(ctx))

	c1, c2 := onlyCase(t, h, 1), onlyCase(t, h, 2)
	assert.Equal(t, StableID("", "progres-individual", individualNumber(1)), c1["id"], "created under its stable id")
	assert.Equal(t, []any{"language2", "language8"}, c1["language"], "the languages of both items")
	assert.Equal(t, intakeUserNGO, c1["owned_by"], "the referring partner's intake user")
	assert.Equal(t, intakeUser, c2["owned_by"], "the default intake user")
	assert.Equal(t, true, c1["consent_for_services"], "consent as proGres sent it")
	s1 := servicesOf(c1)
	require.Len(t, s1, 1, "two items of one intervention are one service")
	assert.Equal(t, StableID("", "progres-intervention", progrestest.InterventionNumber(1)), s1[0]["unique_id"])
	assert.Equal(t, "alternative_care", s1[0]["service_type"])
	assert.Equal(t, "pending", s1[0]["unhcr_referral_status"])
	assert.Equal(t, progrestest.InterventionNumber(1), s1[0]["progres_interventionnumber"])

	for i, c := range map[int]map[string]any{1: c1, 2: c2} {
		fb := feedbackFor(h, progrestest.InterventionNumber(i))
		require.Len(t, fb, 1, "one feedback for intervention %d", i)
		assert.Equal(t, "Pending Acknowledgement", fb[0]["status"])
		assert.Equal(t, c["case_id"], fb[0]["case_id"], "intervention %d is answered with its own case", i)
		assert.Equal(t, c["owned_by"], fb[0]["primero_user"])
	}
	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Received)
	assert.Equal(t, 2, st.Created)
	assert.Equal(t, 1, st.Updated, "the second language item adds its language")
	assert.Equal(t, 2, st.Sent)
	assert.Zero(t, st.Failed)
	h.AssertNoPersonalData(2, []string{FlowIntakeDTP}, statsTexts(st)...)
}

// The same notification delivered again (the same delivery keys) writes
// nothing and sends no second feedback; a re-sent intervention with new
// content (a new delivery key) merges into the same service row and does
// not reset a decision taken in Primero (pitfall 1).
func TestDTPIntakeRedeliveryAddsNoSecondServiceNorFeedback(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	h.DTP.QueueReferral(dtpReferral(1)...)
	require.Equal(t, 1, h.Push(ctx))
	_, _ = f.RunOnce(ctx)

	h.DTP.QueueReferral(dtpReferral(1)...)
	require.Equal(t, 1, h.Push(ctx))
	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 1, st.Unchanged)
	assert.Zero(t, st.Created+st.Updated+st.Sent)

	// Primero accepts; proGres sends the intervention again, changed.
	c := onlyCase(t, h, 1)
	svc := servicesOf(c)[0]
	_, err := h.PrimeroClient.Cases.Update(ctx, c["id"].(string), map[string]any{"services_section": []any{
		map[string]any{"unique_id": svc["unique_id"], "unhcr_referral_status": "accepted"}}})
	require.NoError(t, err)
	changed := dtpReferral(1)
	changed[0]["progres_interventiondescription"] = "<p>Synthetic intervention 1, updated</p>"
	changed[0]["individuals.progres_familyname"] = "Child 1 renamed"
	h.DTP.QueueReferral(changed...)
	require.Equal(t, 1, h.Push(ctx))

	c = onlyCase(t, h, 1)
	rows := servicesOf(c)
	require.Len(t, rows, 1, "no second service")
	assert.Equal(t, "accepted", rows[0]["unhcr_referral_status"], "the decision is not reset to pending")
	assert.Equal(t, "Child 1", c["name_last"], "an identity field with a value is not overwritten")
	assert.Len(t, feedbackFor(h, progrestest.InterventionNumber(1)), 1, "feedback once per intervention")
}

// A case the caseworker has worked on keeps its owner and corrections:
// the intake adds the service and languages and fills only what is empty.
func TestDTPIntakeUpdatesAnExistingCaseWithoutOverwriting(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	mountDTPIntake(t, h)
	h.Primero.AddCase(map[string]any{"module_id": "primeromodule-cp", "unhcr_individual_no": individualNumber(1),
		"name_first": "Corrected", "owned_by": caseworker1, "language": []any{"language1"}, "status": "closed"})
	h.DTP.QueueReferral(dtpReferral(1, "Nuer")...)
	require.Equal(t, 1, h.Push(ctx))

	c := onlyCase(t, h, 1)
	assert.Equal(t, "Corrected", c["name_first"])
	assert.Equal(t, "Child 1", c["name_last"], "an empty field is filled")
	assert.Equal(t, caseworker1, c["owned_by"], "the owner stays")
	assert.Equal(t, "closed", c["status"], "a closed case is not reopened")
	assert.Equal(t, []any{"language1", "language2"}, c["language"])
	require.Len(t, servicesOf(c), 1)
	fb := feedbackFor(h, progrestest.InterventionNumber(1))
	require.Len(t, fb, 1)
	assert.Equal(t, caseworker1, fb[0]["primero_user"], "the feedback names the case's owner")
	assert.Equal(t, c["case_id"], fb[0]["case_id"])
}

// Every refused item of a batch gets its own Delivery Fail with a reason,
// is audited, and counted; the valid one is delivered; the notification is
// acknowledged (each item is handled).
func TestDTPIntakeAnswersEachFailureWithItsReason(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	unknownType := dtpReferral(1)
	unknownType[0]["interventiontype.progres_description"] = "Protection"
	emptyName := dtpReferral(2)
	emptyName[0]["individuals.progres_familyname"] = "" // present but empty: still missing (pitfall 21)
	noConsent := withConsent(progrestest.SyntheticReferral(3), nil)
	ambiguous := dtpReferral(4)
	for range 2 {
		h.Primero.AddCase(map[string]any{"module_id": "primeromodule-cp", "unhcr_individual_no": individualNumber(4), "owned_by": caseworker1})
	}
	var items []map[string]any
	for _, it := range [][]map[string]any{unknownType, emptyName, noConsent, ambiguous, dtpReferral(5)} {
		items = append(items, it...)
	}
	h.DTP.QueueReferral(items...)
	require.Equal(t, 1, h.Push(ctx))

	want := map[int]string{1: progres.ReasonServiceType, 2: progres.ReasonMissingFields, 3: reasonConsent, 4: reasonAmbiguous}
	for i, reason := range want {
		fb := feedbackFor(h, progrestest.InterventionNumber(i))
		require.Len(t, fb, 1, "intervention %d answered once", i)
		assert.Equal(t, "Delivery Fail", fb[0]["status"], "intervention %d", i)
		assert.Equal(t, reason, fb[0]["closure_reason"], "intervention %d", i)
		assert.NotContains(t, fb[0], "case_id", "no placeholder case id (pitfall 25)")
	}
	assert.Len(t, h.CasesByIndividual(individualNumber(4)), 2, "nothing written into either duplicate (pitfall 2)")
	for _, i := range []int{1, 2, 3} {
		assert.Empty(t, h.CasesByIndividual(individualNumber(i)), "nothing created for refused intervention %d", i)
	}
	require.Len(t, feedbackFor(h, progrestest.InterventionNumber(5)), 1)
	assert.Equal(t, "Pending Acknowledgement", feedbackFor(h, progrestest.InterventionNumber(5))[0]["status"])

	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 3, st.Failed)
	assert.Equal(t, 1, st.DeniedTotal())
	assert.Equal(t, 1, st.Denied[consent.ReasonConsentMissing])
	codes := map[string]string{}
	for _, e := range st.Errors {
		codes[e.Key] = e.Code
	}
	assert.Equal(t, map[string]string{progrestest.InterventionNumber(1): codeServiceType, progrestest.InterventionNumber(2): codeMissingFields,
		progrestest.InterventionNumber(4): codeAmbiguous}, codes)

	outcomes := map[string][]string{}
	for _, e := range h.Audit(FlowIntakeDTP) {
		if e.Kind == consent.KindDelivery && e.Recipient == "primero/unicef" {
			outcomes[e.Record.ID] = append(outcomes[e.Record.ID], e.Outcome+":"+first(e.Reasons))
		}
		assert.NotEmpty(t, e.PolicyHash, "every event carries the policy hash")
	}
	assert.Equal(t, []string{"failed:" + codeAmbiguous}, outcomes[progrestest.InterventionNumber(4)])
	assert.Equal(t, []string{"intended:", "delivered:"}, outcomes[progrestest.InterventionNumber(5)])

	// The same notification again: the failures are not answered twice.
	h.DTP.QueueReferral(items...)
	require.Equal(t, 1, h.Push(ctx))
	assert.Len(t, feedbackFor(h, progrestest.InterventionNumber(4)), 1)
	h.AssertNoPersonalData(5, []string{FlowIntakeDTP}, statsTexts(st)...)
}

// first returns the first element or "".
func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// An item Primero cannot take now is answered 500 (the other items of the
// notification are still handled); DTP delivers the notification again,
// the failed item goes through, and the one delivered the first time is
// not written or answered twice.
func TestDTPIntakeTransientFailureIsDeliveredAgain(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	h.DTP.QueueReferral(append(dtpReferral(1), dtpReferral(2)...)...)
	// Intervention 1's case search fails, with its retries; intervention
	// 2 goes through.
	h.Primero.FailNext(3, http.StatusServiceUnavailable)
	require.Equal(t, 0, h.Push(ctx), "an item failed: not acknowledged")
	att := h.DTP.PushAttempts()
	require.Len(t, att, 1)
	assert.Equal(t, http.StatusInternalServerError, att[0].Status)

	require.Equal(t, 1, h.Push(ctx), "delivered again, acknowledged")
	for _, i := range []int{1, 2} {
		onlyCase(t, h, i)
		assert.Len(t, feedbackFor(h, progrestest.InterventionNumber(i)), 1, "intervention %d answered once", i)
	}
	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 2, st.Created)
	assert.GreaterOrEqual(t, st.Failed, 1)
	h.AssertNoPersonalData(2, []string{FlowIntakeDTP}, statsTexts(st)...)
}

// With a DTP that re-delivers only the items the Handler's answer reports
// as failed, exactly the failed item comes again.
func TestDTPIntakePerItemResultsRedeliverOnlyTheFailedItem(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, withDTPOptions(progrestest.WithPartialRedelivery()))
	mountDTPIntake(t, h)
	h.DTP.QueueReferral(append(dtpReferral(1), dtpReferral(2)...)...)
	h.Primero.FailNext(3, http.StatusServiceUnavailable) // intervention 1's search
	require.Equal(t, 0, h.Push(ctx))
	require.Equal(t, 1, h.Push(ctx))
	att := h.DTP.PushAttempts()
	require.Len(t, att, 2)
	assert.Equal(t, 2, att[0].Items)
	assert.Equal(t, 1, att[1].Items, "only the failed item is delivered again")
	for _, i := range []int{1, 2} {
		onlyCase(t, h, i)
		assert.Len(t, feedbackFor(h, progrestest.InterventionNumber(i)), 1)
	}
}

// An intervention number that cannot be a key (a space in it) is refused
// as invalid data and answered, not retried forever; a hostile UNHCR
// number likewise; nothing is written.
func TestDTPIntakeRefusesIdentifiersThatCannotBeKeys(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	badNumber := dtpReferral(1)
	badNumber[0]["progres_interventionnumber"] = "000-23 PRTITV-0000001"
	badPerson := dtpReferral(2)
	badPerson[0]["individuals.progres_id"] = "000 00000002"
	h.DTP.QueueReferral(append(badNumber, badPerson...)...)
	require.Equal(t, 1, h.Push(ctx), "handled: answered, not re-delivered")
	assert.Empty(t, h.Primero.Cases())
	fb := h.DTP.Feedback()
	require.Len(t, fb, 2)
	for _, b := range fb {
		assert.Equal(t, "Delivery Fail", b["status"])
		assert.Equal(t, progres.ReasonInvalidData, b["closure_reason"])
	}
	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 2, st.Failed)
	failed := 0
	for _, e := range h.Audit(FlowIntakeDTP) {
		if e.Outcome == consent.OutcomeFailed && first(e.Reasons) == codeInvalidData {
			failed++
		}
	}
	assert.Equal(t, 2, failed, "both refusals are audited")
}

// The answer to the case create is lost after Primero created it: the
// client does not re-POST; DTP delivers again and the intake finds the
// case by the UNHCR number and adds nothing twice.
func TestDTPIntakeLostCreateAnswerIsRecoveredByReading(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	mountDTPIntake(t, h)
	lost := false
	h.PrimeroFaults.Fail(func(r *http.Request, _ []byte) int {
		if !lost && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/api/v2/cases") {
			lost = true
			return loseAnswer
		}
		return 0
	})
	h.DTP.QueueReferral(dtpReferral(1)...)
	require.Equal(t, 0, h.Push(ctx), "the lost answer fails the item")
	require.True(t, lost)
	onlyCase(t, h, 1) // Primero did create it

	require.Equal(t, 1, h.Push(ctx))
	c := onlyCase(t, h, 1)
	require.Len(t, servicesOf(c), 1)
	assert.Len(t, feedbackFor(h, progrestest.InterventionNumber(1)), 1)
	posts := 0
	for _, r := range h.Primero.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/api/v2/cases") {
			posts++
		}
	}
	assert.Equal(t, 1, posts, "never a blind second POST (pitfall 28)")
}

// A case made earlier under the stable id, whose UNHCR number a
// caseworker has since changed, is not found by the search; the create
// then gets 409 and the intake reads the case by its id and updates it
// instead of failing or creating another.
func TestDTPIntakeConflictOnCreateUpdatesTheExistingCase(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	mountDTPIntake(t, h)
	id := StableID("", "progres-individual", individualNumber(1))
	h.Primero.AddCase(map[string]any{"id": id, "module_id": "primeromodule-cp", "unhcr_individual_no": "000-00000099",
		"owned_by": caseworker2})
	h.DTP.QueueReferral(dtpReferral(1)...)
	require.Equal(t, 1, h.Push(ctx))
	c, ok := h.Primero.Case(id)
	require.True(t, ok)
	require.Len(t, servicesOf(c), 1, "the service went into the case the id names")
	assert.Equal(t, "000-00000099", c["unhcr_individual_no"], "the match field is never rewritten")
	assert.Len(t, h.Primero.Cases(), 1)
	fb := feedbackFor(h, progrestest.InterventionNumber(1))
	require.Len(t, fb, 1)
	assert.Equal(t, caseworker2, fb[0]["primero_user"])
}

// An intake user Primero does not know: no case is created for nobody to
// see; the item fails (and comes again) until the configuration is fixed.
func TestDTPIntakeRefusesToCreateForAnUnknownIntakeUser(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	cfg := intakeConfig(h)
	cfg.DefaultOwner = "no_such_user"
	f, err := NewIntake(withDTPIntake(cfg, h.DTPClient))
	require.NoError(t, err)
	h.Mount(f.HandlerOption())
	item := dtpReferral(1)
	delete(item[0], "user.progres_partner")
	h.DTP.QueueReferral(item...)
	require.Equal(t, 0, h.Push(ctx))
	assert.Empty(t, h.Primero.Cases())
	assert.Empty(t, h.DTP.Feedback())
	st, _ := f.RunOnce(ctx)
	require.Equal(t, 1, st.Failed)
	assert.ErrorIs(t, st.Errors[0].Err, errNoIntakeUser)
}

// Consent recorded as refused (false) is a denial like missing consent:
// nothing is written, the item is answered, the reason counted.
func TestDTPIntakeDeniesRefusedConsent(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	h.DTP.QueueReferral(withConsent(progrestest.SyntheticReferral(1), false)...)
	require.Equal(t, 1, h.Push(ctx))
	assert.Empty(t, h.Primero.Cases())
	fb := feedbackFor(h, progrestest.InterventionNumber(1))
	require.Len(t, fb, 1)
	assert.Equal(t, reasonConsent, fb[0]["closure_reason"])
	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 1, st.DeniedTotal())
	assert.Zero(t, st.Denied[consent.ReasonConsentMissing], "refused, not missing")
	var deny int
	for _, e := range h.Audit(FlowIntakeDTP) {
		if e.Kind == consent.KindDecision && e.Decision == consent.DecisionDeny {
			deny++
		}
	}
	assert.Equal(t, 1, deny)
}

// The case the stable id names exists, but the integration account cannot
// read it (outside its scope): the referral is answered as failed with its
// reason, once, and never retried into a loop or written anywhere else.
func TestDTPIntakeCaseOutOfScopeIsAnsweredAsFailed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	id := StableID("", "progres-individual", individualNumber(1))
	h.Primero.AddCase(map[string]any{"id": id, "module_id": "primeromodule-cp", "unhcr_individual_no": "000-00000099",
		"owned_by": caseworker2})
	h.PrimeroFaults.Fail(func(r *http.Request, _ []byte) int {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/cases/"+id) {
			return http.StatusForbidden
		}
		return 0
	})
	h.DTP.QueueReferral(dtpReferral(1)...)
	require.Equal(t, 1, h.Push(ctx), "answered: the sender is told, not asked to send again")
	c, _ := h.Primero.Case(id)
	assert.Empty(t, servicesOf(c), "nothing is written into a case the account cannot read")
	assert.Len(t, h.Primero.Cases(), 1, "and no second case is made")
	fb := feedbackFor(h, progrestest.InterventionNumber(1))
	require.Len(t, fb, 1)
	assert.Equal(t, string(progres.StatusDeliveryFail), fb[0]["status"])
	st, err := f.RunOnce(ctx)
	require.NoError(t, err)
	require.Len(t, st.Errors, 1)
	assert.Equal(t, codeCaseOutOfScope, st.Errors[0].Code)
}

// A UNHCR individual number of digits only with a leading zero reads as a
// phone number to the audit rule, so it can be no state key; it is still
// an id proGres issued: the child's case is created once, found again by
// the number on a second intervention, and answered delivered both times.
func TestDTPIntakeDeliversANumberShapedLikeAPhoneNumberOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	f := mountDTPIntake(t, h)
	const number = "000000000001" // synthetic: digits only, a leading zero
	require.False(t, isKey(number), "the premise: the audit rule refuses it")
	for i := 1; i <= 2; i++ {
		items := dtpReferral(i)
		for _, it := range items {
			it["individuals.progres_id"] = number
		}
		h.DTP.QueueReferral(items...)
		require.Equal(t, 1, h.Push(ctx))
	}
	st, _ := f.RunOnce(ctx)
	assert.Equal(t, 1, st.Created)
	assert.Equal(t, 1, st.Updated)
	assert.Zero(t, st.Failed)
	cs := h.CasesByIndividual(number)
	require.Len(t, cs, 1, "one case for the child")
	assert.Len(t, servicesOf(cs[0]), 2)
	for i := 1; i <= 2; i++ {
		fb := feedbackFor(h, progrestest.InterventionNumber(i))
		require.Len(t, fb, 1)
		assert.Equal(t, "Pending Acknowledgement", fb[0]["status"])
	}
}
