package primerotest

import (
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReloginWithLiveSessionRedirects(t *testing.T) {
	for _, redirects := range []bool{true, false} {
		q := DefaultQuirks()
		q.ReloginRedirects = redirects
		s := NewServer(t, WithAuthMode(AuthSession), WithQuirks(q))
		c := &http.Client{Jar: must(cookiejar.New(nil)), CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		require.Equal(t, http.StatusOK, csrfLogin(t, s, c, DefaultUser, DefaultPassword).status)
		r := csrfLogin(t, s, c, DefaultUser, DefaultPassword)
		if redirects {
			assert.Equal(t, http.StatusFound, r.status)
			assert.Equal(t, "/", r.header.Get("Location"))
		} else {
			assert.Equal(t, http.StatusOK, r.status)
		}
	}
}

func TestBasicWithIdPQuirk(t *testing.T) {
	q := DefaultQuirks()
	q.BasicWithIdP = false
	s := NewServer(t, WithBearerToken("synthetic-idp-token", DefaultUser), WithQuirks(q))
	assert.Equal(t, http.StatusUnauthorized, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	s2 := NewServer(t, WithBearerToken("synthetic-idp-token", DefaultUser))
	assert.Equal(t, http.StatusOK, call(t, s2, http.MethodGet, "/api/v2/cases", nil).status)
}

func TestRequireModuleIDQuirk(t *testing.T) {
	q := DefaultQuirks()
	q.RequireModuleID = true
	s := NewServer(t, WithQuirks(q))
	r := call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"name_first": "Test"}))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Equal(t, []any{"/module_id"}, r.firstError(t)["detail"])
	r = call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"name_first": "Test", "module_id": "primeromodule-cp"}))
	assert.Equal(t, http.StatusOK, r.status)
}

func TestConsentOverridePermissionQuirk(t *testing.T) {
	q := DefaultQuirks()
	q.ConsentOverrideNeedsPermission = true
	s := NewServer(t, WithQuirks(q), WithUser(User{UserName: "supervisor", Password: "synthetic-pass-9", CanOverrideConsent: true}))
	id := s.AddCase(map[string]any{"module_id": "primeromodule-cp"})["id"].(string)
	data := map[string]any{"transitioned_to": DefaultRecipient, "consent_overridden": true}
	assert.Equal(t, http.StatusForbidden, refer(t, s, id, data).status)
	r := call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/referrals", dataOf(data), asUser("supervisor", "synthetic-pass-9"))
	assert.Equal(t, http.StatusOK, r.status)

	// By default the server does not check the permission.
	s2 := NewServer(t)
	id2 := s2.AddCase(map[string]any{"module_id": "primeromodule-cp"})["id"].(string)
	assert.Equal(t, http.StatusOK, refer(t, s2, id2, data).status)
}

func TestAnyoneMayRespondQuirk(t *testing.T) {
	q := DefaultQuirks()
	q.AnyoneMayRespond = false
	s := NewServer(t, WithQuirks(q))
	id := consentedCase(s)
	rid := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).data(t)["id"].(string)
	assert.Equal(t, http.StatusForbidden, patchReferral(t, s, id, rid, map[string]any{"status": "accepted"}).status)
	r := patchReferral(t, s, id, rid, map[string]any{"status": "accepted"}, asUser(DefaultRecipient, DefaultRecipientPassword))
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "accepted", r.data(t)["status"])
}

func TestAcceptBumpsCaseQuirk(t *testing.T) {
	for _, bump := range []bool{true, false} {
		q := DefaultQuirks()
		q.AcceptBumpsCase = bump
		s := NewServer(t, WithQuirks(q))
		id := consentedCase(s)
		rid := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).data(t)["id"].(string)
		before, _ := s.Case(id)
		patchReferral(t, s, id, rid, map[string]any{"status": "accepted"})
		after, _ := s.Case(id)
		assert.Equal(t, bump, after["last_updated_at"] != before["last_updated_at"], "bump=%v", bump)
		assert.Equal(t, []any{DefaultRecipient}, after["referred_users_accepted"])
	}
}

func TestDeclaredFieldsAreWritableAndTyped(t *testing.T) {
	s := NewServer(t)
	r := call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"module_id": "primeromodule-cp", "custom_x": "dropped"}))
	assert.NotContains(t, r.data(t), "custom_x", "no form defines it")
	s2 := NewServer(t, WithFields(map[string]string{"custom_x": "text_field"}))
	r = call(t, s2, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"module_id": "primeromodule-cp", "custom_x": "kept"}))
	assert.Equal(t, "kept", r.data(t)["custom_x"])
	r = call(t, s2, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"module_id": "primeromodule-cp", "custom_x": 5}))
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "declared type is validated")
}
