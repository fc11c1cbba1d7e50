package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAssignChangesTheOwnerAtOnce(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	r := call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/assigns", dataOf(map[string]any{"transitioned_to": DefaultRecipient, "notes": "Synthetic"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	tr := r.data(t)
	assert.Equal(t, "Assign", tr["type"])
	after, _ := s.Case(id)
	assert.Equal(t, DefaultRecipient, after["owned_by"])
	assert.Equal(t, DefaultUser, after["previously_owned_by"])
	assert.Contains(t, after["associated_user_names"], DefaultRecipient)
	// The new owner (self scope) now sees the case.
	asRecipient := asUser(DefaultRecipient, DefaultRecipientPassword)
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases/"+id, nil, asRecipient).status)
	assert.Equal(t, http.StatusInternalServerError,
		call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/assigns", dataOf(map[string]any{"transitioned_to": "nobody_such"})).status)
}

func TestTransferLifecycle(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	asRecipient := asUser(DefaultRecipient, DefaultRecipientPassword)
	r := call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/transfers", dataOf(map[string]any{"transitioned_to": DefaultRecipient}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	tid := r.data(t)["id"].(string)
	assert.Equal(t, "Transfer", r.data(t)["type"])
	assert.Equal(t, "in_progress", r.data(t)["status"])
	after, _ := s.Case(id)
	assert.Equal(t, "in_progress", after["transfer_status"])
	assert.Equal(t, []any{DefaultRecipient}, after["transferred_to_users"])
	assert.Contains(t, after["assigned_user_names"], DefaultRecipient, "the recipient sees the case before accepting")
	assert.Empty(t, s.Referrals(id), "a transfer is no referral")

	// A referral to the same user that ends keeps them assigned: the
	// transfer still needs them.
	rid := refer(t, s, id, map[string]any{"transitioned_to": DefaultRecipient}).data(t)["id"].(string)
	require.Equal(t, http.StatusOK, revoke(t, s, id, rid).status)
	after, _ = s.Case(id)
	assert.Contains(t, after["assigned_user_names"], DefaultRecipient)

	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+id+"/transfers/"+tid, dataOf(map[string]any{"status": "accepted"}), asRecipient)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	after, _ = s.Case(id)
	assert.Equal(t, DefaultRecipient, after["owned_by"])
	assert.Equal(t, DefaultUser, after["previously_owned_by"])
	assert.Equal(t, "accepted", after["transfer_status"])

	types := call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/transitions?types=Transfer", nil).list(t)
	require.Len(t, types, 1)
	assert.Equal(t, "Transfer", types[0]["type"])
}

func TestRejectedTransferUnassigns(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	tid := call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/transfers", dataOf(map[string]any{"transitioned_to": DefaultRecipient})).data(t)["id"].(string)
	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+id+"/transfers/"+tid, dataOf(map[string]any{"status": "rejected", "rejected_reason": "Synthetic"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	after, _ := s.Case(id)
	assert.Equal(t, DefaultUser, after["owned_by"])
	assert.NotContains(t, after["assigned_user_names"], DefaultRecipient)
	assert.Equal(t, "rejected", after["transfer_status"])
	noConsent := s.AddCase(map[string]any{"module_id": "primeromodule-cp"})["id"].(string)
	r = call(t, s, http.MethodPost, "/api/v2/cases/"+noConsent+"/transfers", dataOf(map[string]any{"transitioned_to": DefaultRecipient}))
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "transfers need consent too")
}
