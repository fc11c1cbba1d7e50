package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func revoke(t *testing.T, s *Server, id, rid string) resp {
	t.Helper()
	return call(t, s, http.MethodDelete, "/api/v2/cases/"+id+"/referrals/"+rid, nil)
}

func withdrawConsent(t *testing.T, s *Server, id string) {
	t.Helper()
	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"consent_for_services": false}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
}

func TestAnswersAfterConsentWithdrawnAre422(t *testing.T) {
	for _, status := range []string{"accepted", "rejected", "done", "revoke"} {
		t.Run(status, func(t *testing.T) {
			s := NewServer(t)
			id := consentedCase(s)
			rid := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).data(t)["id"].(string)
			if status == "done" {
				require.Equal(t, http.StatusOK, patchReferral(t, s, id, rid, map[string]any{"status": "accepted"}).status)
			}
			withdrawConsent(t, s, id)
			var r resp
			if status == "revoke" {
				r = revoke(t, s, id, rid)
			} else {
				r = patchReferral(t, s, id, rid, map[string]any{"status": status})
			}
			require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.raw)
			assert.Equal(t, "consent", r.firstError(t)["detail"])

			// An overridden referral can still be answered.
			over := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient, "consent_overridden": true})
			require.Equal(t, http.StatusOK, over.status, "%s", over.raw)
			assert.Equal(t, http.StatusOK, revoke(t, s, id, over.data(t)["id"].(string)).status)
		})
	}
}

func TestRecipientRuleRecheckedOnAnswersButNotRevoke(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	rid := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).data(t)["id"].(string)
	u := s.users[DefaultRecipient].User
	u.Disabled = true
	s.AddUser(u)
	r := patchReferral(t, s, id, rid, map[string]any{"status": "accepted"})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.raw)
	assert.Equal(t, "transitioned_to", r.firstError(t)["detail"])
	assert.Equal(t, http.StatusOK, revoke(t, s, id, rid).status, "revoke skips the recipient rule")
}

func TestUnknownOrMissingRecipientIs500(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	for _, data := range []map[string]any{{"transitioned_to": "nobody_such"}, {"service": "health"}} {
		r := refer(t, s, id, data)
		assert.Equal(t, http.StatusInternalServerError, r.status, "%v: %s", data, r.raw)
		r.firstError(t)
	}
	assert.Empty(t, s.Referrals(id))
}

func TestBulkReferralFailureAnswersErrorsAlone(t *testing.T) {
	s := NewServer(t)
	ok1 := consentedCase(s)
	bad := s.AddCase(map[string]any{"module_id": "primeromodule-cp"})["id"].(string)
	ok2 := consentedCase(s)
	r := call(t, s, http.MethodPost, "/api/v2/cases/referrals", dataOf(map[string]any{
		"ids": []any{ok1, bad, ok2}, "transitioned_to": DefaultRecipient}))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.NotContains(t, r.body, "data", "the error alone says nothing of what was referred")
	assert.Equal(t, "consent", r.firstError(t)["detail"])
	assert.Len(t, s.Referrals(ok1), 1, "earlier records stay referred")
	assert.Empty(t, s.Referrals(ok2), "later ones are not tried")

	r = call(t, s, http.MethodPost, "/api/v2/cases/referrals", dataOf(map[string]any{
		"ids": []any{ok2}, "transitioned_to": DefaultRecipient}))
	require.Equal(t, http.StatusOK, r.status)
	item := r.list(t)[0]
	rec, ok := item["record"].(map[string]any)
	require.True(t, ok, "each bulk item carries its record: %s", r.raw)
	assert.Equal(t, ok2, rec["id"])
}

func TestUserCanAcceptOrRejectIsForTheRecipientOnly(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	r := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient})
	assert.Equal(t, false, r.data(t)["user_can_accept_or_reject"], "the referring caller sees false")
	asRecipient := asUser(DefaultRecipient, DefaultRecipientPassword)
	list := call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/referrals", nil, asRecipient).list(t)
	assert.Equal(t, true, list[0]["user_can_accept_or_reject"])
	list = call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/referrals", nil).list(t)
	assert.Equal(t, false, list[0]["user_can_accept_or_reject"])
}

func TestReferralFieldsAsPrimeroStoresThem(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	tr := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).data(t)
	assert.NotContains(t, tr, "transitioned_to_agency", "stored only when sent")
	assert.Equal(t, DefaultAgency, tr["transitioned_to_user_agency"])
	rid := tr["id"].(string)
	after, _ := s.Case(id)
	assert.Equal(t, true, after["referred_users_pending_present"])
	assert.Equal(t, false, after["referred_users_accepted_present"])

	r := patchReferral(t, s, id, rid, map[string]any{"status": "rejected", "rejected_reason": "Synthetic reason",
		"rejection_note": "Synthetic note"})
	require.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, r.data(t), "rejection_note", "reject does not store the note")
	assert.Equal(t, "Synthetic reason", r.data(t)["rejected_reason"])
}

func TestAcceptBumpsLastUpdatedAtOnly(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	rid := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).data(t)["id"].(string)
	before, _ := s.Case(id)
	r := patchReferral(t, s, id, rid, map[string]any{"status": "accepted"}, asUser(DefaultRecipient, DefaultRecipientPassword))
	require.Equal(t, http.StatusOK, r.status)
	after, _ := s.Case(id)
	assert.NotEqual(t, before["last_updated_at"], after["last_updated_at"])
	assert.Equal(t, before["last_updated_by"], after["last_updated_by"], "accept does not set last_updated_by")
	assert.Equal(t, true, after["referred_users_accepted_present"])
	assert.Equal(t, false, after["referred_users_pending_present"])
}
