package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const svcID = "5c2d4f6c-8e8a-4a57-9a43-0d2f3e1b7a10"

// consentedCase seeds a CP case with consent and one service.
func consentedCase(s *Server) string {
	c := s.AddCase(map[string]any{"name_first": "Test", "module_id": "primeromodule-cp",
		"consent_for_services": true, "disclosure_other_orgs": true,
		"services_section": []any{map[string]any{"unique_id": svcID, "service_type": "alternative_care"}}})
	return c["id"].(string)
}

func refer(t *testing.T, s *Server, id string, data map[string]any) resp {
	t.Helper()
	return call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/referrals", dataOf(data))
}

func TestCreateReferral(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	before, _ := s.Case(id)

	r := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient, "service": "alternative_care",
		"service_record_id": svcID, "notes": "Synthetic note"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	tr := r.data(t)
	assert.Regexp(t, uuidRe, tr["id"])
	assert.Equal(t, "Referral", tr["type"])
	assert.Equal(t, "in_progress", tr["status"])
	assert.Equal(t, id, tr["record_id"])
	assert.Equal(t, "case", tr["record_type"])
	assert.Equal(t, DefaultRecipient, tr["transitioned_to"])
	assert.Equal(t, DefaultUser, tr["transitioned_by"], "transitioned_by is the caller")
	assert.Equal(t, false, tr["remote"])
	assert.Equal(t, false, tr["consent_overridden"])
	assert.Equal(t, false, tr["user_can_accept_or_reject"], "true only for the recipient")
	assert.Equal(t, false, tr["record_access_denied"])
	for k, v := range tr {
		assert.NotNil(t, v, "nulls are omitted: %s", k)
	}
	assert.NotContains(t, tr, "transitioned_to_remote")
	assert.NotContains(t, tr, "rejected_reason")

	rec := tr["record"].(map[string]any)
	assert.Equal(t, id, rec["id"])
	assert.Contains(t, rec, "enabled")
	assert.Contains(t, rec, "services_section", "the service's referred flag changed")

	after, _ := s.Case(id)
	assert.Contains(t, after["assigned_user_names"], DefaultRecipient)
	assert.Contains(t, after["associated_user_names"], DefaultRecipient)
	svc := after["services_section"].([]any)[0].(map[string]any)
	assert.Equal(t, true, svc["service_status_referred"])
	assert.Greater(t, after["last_updated_at"], before["last_updated_at"])
	assert.Equal(t, []any{DefaultRecipient}, after["referred_users"])

	// The recipient now sees the case before accepting.
	list := call(t, s, http.MethodGet, "/api/v2/cases", nil, asUser(DefaultRecipient, DefaultRecipientPassword))
	assert.Len(t, list.list(t), 1)

	refs := call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/referrals", nil)
	require.Equal(t, http.StatusOK, refs.status)
	require.Len(t, refs.list(t), 1)
	assert.NotContains(t, refs.list(t)[0], "record", "lists carry no record")
	assert.Len(t, s.Referrals(id), 1)
}

func TestReferralRules(t *testing.T) {
	s := NewServer(t, WithUser(User{UserName: "no_receive", Password: "synthetic-pass-5"}),
		WithUser(User{UserName: "disabled_cw", Password: "synthetic-pass-6", CanReceiveReferrals: true, Disabled: true}))
	noConsent := s.AddCase(map[string]any{"module_id": "primeromodule-cp", "consent_for_services": true})["id"].(string)
	gbv := s.AddCase(map[string]any{"module_id": "primeromodule-gbv", "consent_for_services": true})["id"].(string)
	ok := consentedCase(s)

	consentErr := map[string]any{"status": float64(422), "resource": "/api/v2/cases/" + noConsent + "/referrals",
		"message": []any{"transition.errors.consent"}, "detail": "consent"}
	tests := []struct {
		name       string
		id         string
		data       map[string]any
		wantStatus int
		wantDetail string
	}{
		{"cp needs disclosure_other_orgs too", noConsent, map[string]any{"transitioned_to": DefaultRecipient}, 422, "consent"},
		{"override bypasses consent", noConsent, map[string]any{"transitioned_to": DefaultRecipient, "consent_overridden": true}, 200, ""},
		{"gbv needs only consent_for_services", gbv, map[string]any{"transitioned_to": DefaultRecipient}, 200, ""},
		{"recipient without receive_referral", ok, map[string]any{"transitioned_to": "no_receive"}, 422, "transitioned_to"},
		{"disabled recipient", ok, map[string]any{"transitioned_to": "disabled_cw"}, 422, "transitioned_to"},
		{"unknown recipient", ok, map[string]any{"transitioned_to": "nobody"}, 500, ""},
		{"self-referral", ok, map[string]any{"transitioned_to": DefaultUser}, 422, "transitioned_to"},
		{"remote skips recipient rule", ok, map[string]any{"remote": true, "transitioned_to_remote": "Synthetic Partner", "transitioned_to_agency": "Synthetic NGO"}, 200, ""},
		{"remote still needs consent", noConsent, map[string]any{"remote": true}, 422, "consent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := refer(t, s, tt.id, tt.data)
			require.Equal(t, tt.wantStatus, r.status, "%s", r.raw)
			if tt.wantDetail != "" {
				assert.Equal(t, tt.wantDetail, r.firstError(t)["detail"])
			}
		})
	}
	r := refer(t, s, noConsent, map[string]any{"transitioned_to": DefaultRecipient})
	assert.Equal(t, consentErr, r.firstError(t))
	assert.Equal(t, http.StatusUnprocessableEntity, call(t, s, http.MethodPost, "/api/v2/cases/"+ok+"/referrals", map[string]any{}).status)
	assert.Equal(t, http.StatusNotFound, refer(t, s, synthID, map[string]any{"transitioned_to": DefaultRecipient}).status)

	// A remote referral changes no assignment and cannot be accepted by a user.
	remote, _ := s.Case(ok)
	assert.NotContains(t, remote["assigned_user_names"], "Synthetic Partner")
	refs := s.Referrals(ok)
	require.Len(t, refs, 1)
	assert.Equal(t, false, refs[0]["user_can_accept_or_reject"])
	assert.Equal(t, "Synthetic Partner", refs[0]["transitioned_to_remote"])
}

func TestBulkReferral(t *testing.T) {
	s := NewServer(t)
	a, b := consentedCase(s), consentedCase(s)
	noConsent := s.AddCase(map[string]any{"module_id": "primeromodule-cp"})["id"].(string)

	// Any unknown id: 404 before anything runs.
	r := call(t, s, http.MethodPost, "/api/v2/cases/referrals", dataOf(map[string]any{
		"ids": []any{a, synthID}, "transitioned_to": DefaultRecipient}))
	require.Equal(t, http.StatusNotFound, r.status)
	assert.Empty(t, s.Referrals(a))

	r = call(t, s, http.MethodPost, "/api/v2/cases/referrals", dataOf(map[string]any{
		"ids": []any{a, b}, "transitioned_to": DefaultRecipient}))
	require.Equal(t, http.StatusOK, r.status)
	assert.Len(t, r.list(t), 2)

	// The first failing record stops the batch; earlier ones stay referred.
	c := consentedCase(s)
	r = call(t, s, http.MethodPost, "/api/v2/cases/referrals", dataOf(map[string]any{
		"ids": []any{c, noConsent, a}, "transitioned_to": DefaultRecipient}))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.NotContains(t, r.body, "data", "the error alone")
	assert.Equal(t, "consent", r.firstError(t)["detail"])
	assert.Len(t, s.Referrals(c), 1)
	assert.Len(t, s.Referrals(a), 1, "records after the failure are not referred")

	q := DefaultQuirks()
	q.BulkReferralPartial = false
	s2 := NewServer(t, WithQuirks(q))
	c2 := consentedCase(s2)
	nc2 := s2.AddCase(map[string]any{"module_id": "primeromodule-cp"})["id"].(string)
	r = call(t, s2, http.MethodPost, "/api/v2/cases/referrals", dataOf(map[string]any{
		"ids": []any{c2, nc2}, "transitioned_to": DefaultRecipient}))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Empty(t, s2.Referrals(c2))
}

func patchReferral(t *testing.T, s *Server, id, rid string, data map[string]any, opts ...reqOpt) resp {
	t.Helper()
	return call(t, s, http.MethodPatch, "/api/v2/cases/"+id+"/referrals/"+rid, dataOf(data), opts...)
}

func TestReferralStatusMachine(t *testing.T) {
	s := NewServer(t)
	newRef := func() (string, string) {
		id := consentedCase(s)
		r := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient, "service_record_id": svcID})
		require.Equal(t, http.StatusOK, r.status)
		return id, r.data(t)["id"].(string)
	}
	asRecipient := asUser(DefaultRecipient, DefaultRecipientPassword)

	t.Run("accept then done", func(t *testing.T) {
		id, rid := newRef()
		r := patchReferral(t, s, id, rid, map[string]any{"status": "accepted", "id": rid, "type": "Referral"}, asRecipient)
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.Equal(t, "accepted", r.data(t)["status"])
		assert.NotEmpty(t, r.data(t)["responded_at"])
		assert.Equal(t, false, r.data(t)["user_can_accept_or_reject"])
		assert.Contains(t, r.data(t), "record")

		before, _ := s.Case(id)
		r = patchReferral(t, s, id, rid, map[string]any{"status": "done", "rejection_note": "Synthetic provider note"})
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "done", r.data(t)["status"])
		after, _ := s.Case(id)
		svc := after["services_section"].([]any)[0].(map[string]any)
		assert.Equal(t, "implemented", svc["service_implemented"])
		assert.NotEmpty(t, svc["service_implemented_day_time"])
		assert.Equal(t, "Synthetic provider note", svc["note_on_referral_from_provider"])
		assert.NotContains(t, after["assigned_user_names"], DefaultRecipient)
		assert.Greater(t, after["last_updated_at"], before["last_updated_at"])
	})

	t.Run("reject", func(t *testing.T) {
		id, rid := newRef()
		before, _ := s.Case(id)
		r := patchReferral(t, s, id, rid, map[string]any{"status": "rejected", "rejected_reason": "Synthetic reason"})
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "rejected", r.data(t)["status"])
		assert.Equal(t, "Synthetic reason", r.data(t)["rejected_reason"])
		after, _ := s.Case(id)
		assert.NotContains(t, after["assigned_user_names"], DefaultRecipient)
		assert.Greater(t, after["last_updated_at"], before["last_updated_at"])
	})

	t.Run("reject keeps recipient needed by another referral", func(t *testing.T) {
		id, rid := newRef()
		require.Equal(t, http.StatusOK, refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).status)
		patchReferral(t, s, id, rid, map[string]any{"status": "rejected"})
		after, _ := s.Case(id)
		assert.Contains(t, after["assigned_user_names"], DefaultRecipient)
	})

	noops := []struct {
		name  string
		setup string // status to reach first
		to    string
	}{
		{"done while in_progress", "", "done"},
		{"accept when rejected", "rejected", "accepted"},
		{"same status", "accepted", "accepted"},
		{"unknown status", "", "revoked"},
	}
	for _, tt := range noops {
		t.Run("silent no-op: "+tt.name, func(t *testing.T) {
			id, rid := newRef()
			if tt.setup != "" {
				require.Equal(t, http.StatusOK, patchReferral(t, s, id, rid, map[string]any{"status": tt.setup}).status)
			}
			before := s.Referrals(id)[0]
			caseBefore, _ := s.Case(id)
			r := patchReferral(t, s, id, rid, map[string]any{"status": tt.to})
			require.Equal(t, http.StatusOK, r.status, "a silent 200")
			assert.Equal(t, before["status"], r.data(t)["status"], "unchanged referral returned")
			assert.Equal(t, before, s.Referrals(id)[0])
			caseAfter, _ := s.Case(id)
			assert.Equal(t, caseBefore["last_updated_at"], caseAfter["last_updated_at"])
		})
	}

	t.Run("revoke", func(t *testing.T) {
		id, rid := newRef()
		r := call(t, s, http.MethodDelete, "/api/v2/cases/"+id+"/referrals/"+rid, nil)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "revoked", r.data(t)["status"])
		assert.Contains(t, r.data(t), "record")
		after, _ := s.Case(id)
		assert.NotContains(t, after["assigned_user_names"], DefaultRecipient)
		assert.Equal(t, http.StatusNotFound, call(t, s, http.MethodDelete, "/api/v2/cases/"+id+"/referrals/"+synthID, nil).status)
	})

	t.Run("recipient disabled since", func(t *testing.T) {
		id, rid := newRef()
		s.AddUser(User{UserName: DefaultRecipient, Password: DefaultRecipientPassword, Permission: "self",
			CanReceiveReferrals: true, Disabled: true, Agency: DefaultAgency})
		defer s.AddUser(User{UserName: DefaultRecipient, Password: DefaultRecipientPassword, Permission: "self",
			CanReceiveReferrals: true, Agency: DefaultAgency})
		r := patchReferral(t, s, id, rid, map[string]any{"status": "rejected"})
		require.Equal(t, http.StatusUnprocessableEntity, r.status)
		assert.Equal(t, "transitioned_to", r.firstError(t)["detail"])
	})
}

func TestRemoteReferralResponses(t *testing.T) {
	for _, respondable := range []bool{true, false} {
		q := DefaultQuirks()
		q.RemoteReferralsRespondable = respondable
		s := NewServer(t, WithQuirks(q))
		id := consentedCase(s)
		rid := refer(t, s, id, map[string]any{"remote": true, "transitioned_to_remote": "Synthetic Partner"}).data(t)["id"].(string)
		r := patchReferral(t, s, id, rid, map[string]any{"status": "accepted"})
		require.Equal(t, http.StatusOK, r.status)
		want := "in_progress"
		if respondable {
			want = "accepted"
		}
		assert.Equal(t, want, r.data(t)["status"], "respondable=%v", respondable)
	}
}

func TestReferralVisibility(t *testing.T) {
	s := NewServer(t, WithUser(User{UserName: "other_cw", Password: "synthetic-pass-7", Permission: "self", CanReceiveReferrals: true}))
	id := consentedCase(s)
	require.Equal(t, http.StatusOK, refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).status)
	require.Equal(t, http.StatusOK, refer(t, s, id, map[string]any{"transitioned_to": "other_cw"}).status)
	assert.Len(t, call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/referrals", nil).list(t), 2)
	mine := call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/referrals", nil, asUser(DefaultRecipient, DefaultRecipientPassword)).list(t)
	require.Len(t, mine, 1)
	assert.Equal(t, DefaultRecipient, mine[0]["transitioned_to"])
	tr := call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/transitions?types=Transfer", nil)
	assert.Empty(t, tr.list(t))
}
