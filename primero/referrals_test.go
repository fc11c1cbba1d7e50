package primero_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func addConsentCase(s *primerotest.Server, module string, services, disclosure any) string {
	f := map[string]any{"name_first": "Test", "module_id": module,
		"services_section": []any{map[string]any{"unique_id": svc1, "service_type": "alternative_care"}}}
	if services != nil {
		f["consent_for_services"] = services
	}
	if disclosure != nil {
		f["disclosure_other_orgs"] = disclosure
	}
	return s.AddCase(f)["id"].(string)
}

func referTo() *primero.ReferralRequest {
	return &primero.ReferralRequest{TransitionedTo: primerotest.DefaultRecipient, Service: "alternative_care", ServiceRecordID: svc1}
}

func TestReferralConsentRuleAppliedBeforeSending(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name                 string
		module               string
		services, disclosure any
		missing              []string
	}{
		{"no consent at all", "primeromodule-cp", nil, nil, []string{"consent_for_services", "disclosure_other_orgs"}},
		{"services only, non-GBV", "primeromodule-cp", true, false, []string{"disclosure_other_orgs"}},
		{"disclosure only, GBV", primero.GBVModule, false, true, []string{"consent_for_services"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := primerotest.NewServer(t)
			id := addConsentCase(s, tc.module, tc.services, tc.disclosure)
			c := newClient(t, s)
			_, err := c.Referrals.Create(ctx, id, referTo())
			var ce *primero.ConsentError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, primero.ErrConsent)
			assert.Equal(t, tc.missing, ce.Missing)
			assert.Zero(t, countMethod(s, http.MethodPost), "no referral sent")
			assert.Empty(t, s.Referrals(id))
		})
	}
	t.Run("GBV needs only consent_for_services", func(t *testing.T) {
		s := primerotest.NewServer(t)
		id := addConsentCase(s, primero.GBVModule, true, nil)
		r, err := newClient(t, s).Referrals.Create(ctx, id, referTo())
		require.NoError(t, err)
		assert.Equal(t, primero.ReferralInProgress, r.Status)
	})
	t.Run("override must be asked for by name with a reason", func(t *testing.T) {
		s := primerotest.NewServer(t)
		id := addConsentCase(s, "primeromodule-cp", nil, nil)
		c := newClient(t, s)
		req := referTo()
		req.ConsentOverride = &primero.ConsentOverride{}
		_, err := c.Referrals.Create(ctx, id, req)
		var ve *primero.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.True(t, ve.Has("ReferralRequest.ConsentOverride.Reason"))
		assert.Empty(t, s.Requests())

		req.ConsentOverride.Reason = "life-threatening emergency (synthetic)"
		r, err := c.Referrals.Create(ctx, id, req)
		require.NoError(t, err)
		assert.True(t, r.ConsentOverridden)
		var body map[string]map[string]any
		reqs := s.Requests()
		require.NoError(t, json.Unmarshal(reqs[len(reqs)-1].Body, &body))
		assert.Equal(t, true, body["data"]["consent_overridden"])
		assert.NotContains(t, string(reqs[len(reqs)-1].Body), "emergency", "the reason stays with the caller")
	})
}

func TestReferralLifecycleAndSideEffects(t *testing.T) {
	ctx := context.Background()
	s := primerotest.NewServer(t)
	id := addConsentCase(s, "primeromodule-cp", true, true)
	c := newClient(t, s)
	r, err := c.Referrals.Create(ctx, id, referTo())
	require.NoError(t, err)
	assert.Equal(t, primero.ReferralInProgress, r.Status)
	kase, _ := s.Case(id)
	assert.Contains(t, kase["assigned_user_names"], primerotest.DefaultRecipient)

	list, err := c.Referrals.List(ctx, id)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, r.ID, list[0].ID)

	// done while in_progress is refused locally: no PATCH is sent.
	s.ResetRequests()
	_, err = c.Referrals.Done(ctx, id, r.ID, "")
	var te *primero.TransitionError
	require.ErrorAs(t, err, &te)
	assert.Empty(t, te.Got)
	assert.Equal(t, primero.ReferralInProgress, te.From)
	assert.Zero(t, countMethod(s, http.MethodPatch))

	a, err := c.Referrals.Accept(ctx, id, r.ID)
	require.NoError(t, err)
	assert.Equal(t, primero.ReferralAccepted, a.Status)
	d, err := c.Referrals.Done(ctx, id, r.ID, "service delivered")
	require.NoError(t, err)
	assert.Equal(t, primero.ReferralDone, d.Status)

	rv, err := c.Referrals.Revoke(ctx, id, r.ID)
	require.NoError(t, err)
	assert.Equal(t, primero.ReferralRevoked, rv.Status)
	_, err = c.Referrals.Revoke(ctx, id, r.ID)
	assert.ErrorIs(t, err, primero.ErrTransition)
}

func TestReferralRejectNeedsReason(t *testing.T) {
	ctx := context.Background()
	s := primerotest.NewServer(t)
	id := addConsentCase(s, "primeromodule-cp", true, true)
	c := newClient(t, s)
	r, err := c.Referrals.Create(ctx, id, referTo())
	require.NoError(t, err)
	_, err = c.Referrals.Reject(ctx, id, r.ID, " ")
	require.ErrorIs(t, err, primero.ErrValidation)
	got, err := c.Referrals.Reject(ctx, id, r.ID, "not_in_area")
	require.NoError(t, err)
	assert.Equal(t, primero.ReferralRejected, got.Status)
	assert.Equal(t, "not_in_area", got.RejectedReason)
}

func TestReferralSilentNoOpDetected(t *testing.T) {
	ctx := context.Background()
	s := primerotest.NewServer(t)
	id := addConsentCase(s, "primeromodule-cp", true, true)
	c := newClient(t, s)
	r, err := c.Referrals.Create(ctx, id, referTo())
	require.NoError(t, err)
	// UpdateStatus skips the local check: Primero answers 200 unchanged.
	got, err := c.Referrals.UpdateStatus(ctx, id, r.ID, primero.StatusUpdate{Status: primero.ReferralDone})
	var te *primero.TransitionError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, primero.ErrTransition)
	assert.Equal(t, primero.ReferralDone, te.Requested)
	assert.Equal(t, primero.ReferralInProgress, te.Got)
	assert.Equal(t, primero.ReferralInProgress, got.Status)
	assert.Equal(t, 1, countMethod(s, http.MethodPatch), "the PATCH was sent and answered 200")
}

func TestBulkReferralChecksEveryCaseFirst(t *testing.T) {
	ctx := context.Background()
	s := primerotest.NewServer(t)
	ok1 := addConsentCase(s, "primeromodule-cp", true, true)
	ok2 := addConsentCase(s, "primeromodule-cp", true, true)
	bad := addConsentCase(s, "primeromodule-cp", true, false)
	c := newClient(t, s)
	req := &primero.ReferralRequest{TransitionedTo: primerotest.DefaultRecipient, Service: "alternative_care"}
	_, err := c.Referrals.CreateBulk(ctx, []string{ok1, bad, ok2}, req)
	require.ErrorIs(t, err, primero.ErrConsent)
	assert.Zero(t, countMethod(s, http.MethodPost))

	refs, err := c.Referrals.CreateBulk(ctx, []string{ok1, ok2}, req)
	require.NoError(t, err)
	assert.Len(t, refs, 2)
	assert.Len(t, s.Referrals(ok1), 1)
	assert.Len(t, s.Referrals(ok2), 1)
}
