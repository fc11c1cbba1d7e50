package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A body sent without Content-Type: application/json is not parsed: a
// create then stores an empty case and still answers 200.
func TestBodyWithoutJSONContentTypeIsIgnored(t *testing.T) {
	s := NewServer(t)
	body := `{"data":{"module_id":"primeromodule-cp","name_first":"Test"}}`
	for _, ct := range []string{"text/plain", ""} {
		r := call(t, s, http.MethodPost, "/api/v2/cases", body, withHeader("Content-Type", ct))
		require.Equal(t, http.StatusOK, r.status, "%q: %s", ct, r.raw)
		d := r.data(t)
		assert.NotContains(t, d, "name_first", "%q: the data was never read", ct)
		assert.NotContains(t, d, "module_id", ct)
		assert.Equal(t, "open", d["status"], "an empty case with its server-set fields")
	}
	r := call(t, s, http.MethodPost, "/api/v2/cases", body, withHeader("Content-Type", "application/json; charset=utf-8"))
	assert.Equal(t, "Test", r.data(t)["name_first"], "a JSON content type with parameters is parsed")
}

func TestCreateWithoutDataStoresEmptyCase(t *testing.T) {
	s := NewServer(t)
	r := call(t, s, http.MethodPost, "/api/v2/cases", map[string]any{"name_first": "Test"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.NotContains(t, r.data(t), "name_first")
	assert.Len(t, s.Cases(), 1)
}

func TestPatchWithoutDataOnlyBumpsLastUpdated(t *testing.T) {
	s := NewServer(t)
	c := s.AddCase(map[string]any{"module_id": "primeromodule-cp", "name_first": "Test"})
	id := c["id"].(string)
	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+id, map[string]any{"name_first": "Other"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	after, _ := s.Case(id)
	assert.Equal(t, "Test", after["name_first"])
	assert.NotEqual(t, c["last_updated_at"], after["last_updated_at"], "the save still bumps last_updated_at")
	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+id, `{"data":{"name_first":"Other"}}`, withHeader("Content-Type", "text/plain"))
	require.Equal(t, http.StatusOK, r.status)
	after, _ = s.Case(id)
	assert.Equal(t, "Test", after["name_first"], "not JSON: no field changes")
}

func TestTransitionsWithoutData(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	r := call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/referrals", map[string]any{"transitioned_to": DefaultRecipient})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "params.require(:data)")
	r = call(t, s, http.MethodPost, "/api/v2/cases/referrals", map[string]any{"ids": []any{id}})
	assert.Equal(t, http.StatusInternalServerError, r.status, "bulk reads data.ids before anything else")
	r.firstError(t)
	assert.Empty(t, s.Referrals(id))
}
