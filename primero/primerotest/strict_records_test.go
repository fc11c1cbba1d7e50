package primerotest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func createCase(t *testing.T, s *Server, data map[string]any, opts ...reqOpt) resp {
	t.Helper()
	return call(t, s, http.MethodPost, "/api/v2/cases", dataOf(data), opts...)
}

func TestCreateWithoutModuleIDDropsFormFields(t *testing.T) {
	s := NewServer(t)
	r := createCase(t, s, map[string]any{"name_first": "Test", "sex": "female", "status": "open"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	d := r.data(t)
	assert.NotContains(t, d, "name_first", "no module: no form field is writable")
	assert.NotContains(t, d, "sex")
	assert.Equal(t, "open", d["status"], "core fields stay")
	r = createCase(t, s, map[string]any{"module_id": "primeromodule-cp", "name_first": "Test"})
	assert.Equal(t, "Test", r.data(t)["name_first"])
}

func TestUnknownKeysInsideSubformRowsAreDropped(t *testing.T) {
	s := NewServer(t)
	r := createCase(t, s, map[string]any{"module_id": "primeromodule-cp", "x_top_level": "dropped",
		"services_section": []any{map[string]any{"service_type": "health", "x_dedupe_key": "k1"}}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	id := r.data(t)["id"].(string)
	stored, _ := s.Case(id)
	assert.NotContains(t, stored, "x_top_level")
	svc := stored["services_section"].([]any)[0].(map[string]any)
	assert.Equal(t, "health", svc["service_type"])
	assert.NotContains(t, svc, "x_dedupe_key", "strong params keep only the subform's own fields")

	uid := svc["unique_id"].(string)
	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"services_section": []any{
		map[string]any{"unique_id": uid, "x_dedupe_key": "k2", "service_provider": "Synthetic Provider"}}}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	stored, _ = s.Case(id)
	svc = stored["services_section"].([]any)[0].(map[string]any)
	assert.NotContains(t, svc, "x_dedupe_key")
	assert.Equal(t, "Synthetic Provider", svc["service_provider"])
}

func TestSelectValuesOutsideTheirLookupAre422(t *testing.T) {
	s := NewServer(t)
	r := createCase(t, s, map[string]any{"module_id": "primeromodule-cp", "sex": "F"})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.raw)
	e := r.firstError(t)
	assert.Equal(t, "Invalid Record JSON", e["message"])
	assert.Equal(t, []any{"/sex"}, e["detail"])
	r = createCase(t, s, map[string]any{"module_id": "primeromodule-cp",
		"services_section": []any{map[string]any{"service_type": "not_a_service"}}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Equal(t, []any{"/services_section/0/service_type"}, r.firstError(t)["detail"])
	r = createCase(t, s, map[string]any{"module_id": "primeromodule-cp", "sex": "female", "location_current": "ANY-CODE"})
	assert.Equal(t, http.StatusOK, r.status, "Location-sourced selects take any string: %s", r.raw)
	assert.Len(t, s.Cases(), 1, "nothing is half-written")
}

func TestClientIDMustBeLowercaseUUID(t *testing.T) {
	s := NewServer(t)
	for _, id := range []string{"0C1D2E3F-4A5B-4C6D-8E7F-000000000001", "not-a-uuid"} {
		r := createCase(t, s, map[string]any{"id": id, "module_id": "primeromodule-cp"})
		require.Equal(t, http.StatusUnprocessableEntity, r.status, id)
		assert.Equal(t, []any{"/id"}, r.firstError(t)["detail"], id)
	}
	r := createCase(t, s, map[string]any{"module_id": "primeromodule-cp",
		"services_section": []any{map[string]any{"unique_id": strings.ToUpper(svcID)}}})
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Equal(t, []any{"/services_section/0/unique_id"}, r.firstError(t)["detail"])
	assert.Empty(t, s.Cases())
	r = createCase(t, s, map[string]any{"id": "0c1d2e3f-4a5b-4c6d-8e7f-000000000001", "module_id": "primeromodule-cp"})
	assert.Equal(t, http.StatusNoContent, r.status)
}

func TestPatchDropsCreateOnlyCaseID(t *testing.T) {
	s := NewServer(t)
	a := s.AddCase(map[string]any{"module_id": "primeromodule-cp"})
	b := s.AddCase(map[string]any{"module_id": "primeromodule-cp"})
	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+a["id"].(string), dataOf(map[string]any{"case_id": b["case_id"], "case_id_display": "x"}))
	require.Equal(t, http.StatusOK, r.status, "silently dropped, no 409: %s", r.raw)
	after, _ := s.Case(a["id"].(string))
	assert.Equal(t, a["case_id"], after["case_id"])
	assert.Equal(t, a["case_id_display"], after["case_id_display"])
}

func TestUniqueIdentifierIsNeverRendered(t *testing.T) {
	s := NewServer(t)
	c := s.AddCase(map[string]any{"module_id": "primeromodule-cp"})
	id := c["id"].(string)
	assert.NotContains(t, c, "unique_identifier", "AddCase answers as GET renders")
	stored, _ := s.Case(id)
	require.NotEmpty(t, stored["unique_identifier"], "stored")
	assert.Equal(t, stored["unique_identifier"].(string)[29:], c["short_id"], "short_id is its last 7 characters")
	assert.NotContains(t, call(t, s, http.MethodGet, "/api/v2/cases/"+id, nil).data(t), "unique_identifier")
	assert.NotContains(t, call(t, s, http.MethodGet, "/api/v2/cases", nil).list(t)[0], "unique_identifier")
	r := createCase(t, s, map[string]any{"module_id": "primeromodule-cp"})
	assert.NotContains(t, r.data(t), "unique_identifier")
	assert.NotEqual(t, r.data(t)["id"], r.data(t)["case_id"])
}

func TestUnknownOwnerIsReverted(t *testing.T) {
	s := NewServer(t)
	r := createCase(t, s, map[string]any{"module_id": "primeromodule-cp", "owned_by": "nobody_such"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	d := r.data(t)
	assert.NotEqual(t, "nobody_such", d["owned_by"])
	id := d["id"].(string)
	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"owned_by": DefaultRecipient}))
	require.Equal(t, http.StatusOK, r.status)
	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"owned_by": "nobody_such"}))
	require.Equal(t, http.StatusOK, r.status)
	after, _ := s.Case(id)
	assert.Equal(t, DefaultRecipient, after["owned_by"], "reverted to the previous owner")
}

func TestNameIsComputedFromItsParts(t *testing.T) {
	s := NewServer(t)
	r := createCase(t, s, map[string]any{"module_id": "primeromodule-cp", "name": "Sent Name",
		"name_first": "Test", "name_last": "Child"})
	d := r.data(t)
	assert.Equal(t, "Test Child", d["name"])
	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+d["id"].(string), dataOf(map[string]any{"name_middle": "Middle"}))
	assert.Equal(t, "Test Middle Child", r.data(t)["name"])
}

func TestNotFoundCarriesDetail(t *testing.T) {
	s := NewServer(t)
	r := call(t, s, http.MethodGet, "/api/v2/cases/0c1d2e3f-4a5b-4c6d-8e7f-000000000009", nil)
	require.Equal(t, http.StatusNotFound, r.status)
	e := r.firstError(t)
	assert.Equal(t, "Not Found", e["message"])
	assert.Equal(t, "Couldn't find Child with 'id'=0c1d2e3f-4a5b-4c6d-8e7f-000000000009", e["detail"])
}

func TestHiddenNameIsMasked(t *testing.T) {
	s := NewServer(t)
	id := s.AddCase(map[string]any{"name_first": "Test", "hidden_name": true})["id"].(string)
	assert.Equal(t, "*******", call(t, s, http.MethodGet, "/api/v2/cases/"+id, nil).data(t)["name"])
	assert.Equal(t, "*******", call(t, s, http.MethodGet, "/api/v2/cases", nil).list(t)[0]["name"])
	stored, _ := s.Case(id)
	assert.Equal(t, "Test", stored["name"], "stored in clear")
}

func TestOwnerFieldsFollowTheOwner(t *testing.T) {
	s := NewServer(t, WithUser(User{UserName: "other_owner", Password: "synthetic-pass-13", Agency: "agency-other",
		FullName: "Synthetic Other Owner"}))
	id := s.AddCase(map[string]any{"name_first": "Test"})["id"].(string)
	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"owned_by": "other_owner"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	after, _ := s.Case(id)
	assert.Equal(t, "agency-other", after["owned_by_agency_id"])
	assert.Equal(t, "Synthetic Other Owner", after["owned_by_full_name"])
	assert.Equal(t, true, after["not_edited_by_owner"], "last_updated_by is not the owner")
}

func TestEveryNotFoundCarriesDetail(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	for _, path := range []string{"/api/v2/cases/" + id + "/referrals/" + synthID, "/api/v2/forms/999999",
		"/api/v2/lookups/lookup-none", "/api/v2/nothing_here"} {
		r := call(t, s, http.MethodGet, path, nil)
		if strings.Contains(path, "referrals") {
			r = call(t, s, http.MethodDelete, path, nil)
		}
		require.Equal(t, http.StatusNotFound, r.status, path)
		assert.NotEmpty(t, r.firstError(t)["detail"], path)
	}
}
