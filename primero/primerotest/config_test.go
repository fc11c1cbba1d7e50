package primerotest

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocations(t *testing.T) {
	s := NewServer(t)
	for i := range 120 {
		s.AddLocation(fmt.Sprintf("ZZ%03d", i), "XX02", "district", "Synthetic District", 2)
	}
	r := call(t, s, http.MethodGet, "/api/v2/locations", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Len(t, r.list(t), 100, "per defaults to 100")
	assert.Equal(t, map[string]any{"total": float64(125), "per": float64(100), "page": float64(1)}, r.body["metadata"])
	first := r.list(t)[0]
	assert.Equal(t, "XX", first["code"])
	assert.NotContains(t, first, "hierarchy")

	r = call(t, s, http.MethodGet, "/api/v2/locations?hierarchy=true&per=3", nil)
	l := r.list(t)[2]
	assert.Equal(t, "XX0101", l["code"])
	assert.Equal(t, []any{"XX", "XX01", "XX0101"}, l["hierarchy"])
	assert.EqualValues(t, 2, l["admin_level"])
}

func TestLookupsAgenciesForms(t *testing.T) {
	s := NewServer(t)
	s.AddLookup("lookup-synthetic", "a", "b")
	r := call(t, s, http.MethodGet, "/api/v2/lookups?per=1&page=3", nil)
	require.Len(t, r.list(t), 1)
	assert.Equal(t, "lookup-synthetic", r.list(t)[0]["unique_id"])
	assert.Equal(t, []any{map[string]any{"id": "a", "display_text": map[string]any{"en": "a"}},
		map[string]any{"id": "b", "display_text": map[string]any{"en": "b"}}}, r.list(t)[0]["values"])
	assert.EqualValues(t, 3, r.body["metadata"].(map[string]any)["total"])

	r = call(t, s, http.MethodGet, "/api/v2/agencies", nil)
	assert.Equal(t, DefaultAgency, r.list(t)[0]["unique_id"])

	all := len(call(t, s, http.MethodGet, "/api/v2/forms?exclude_subforms=true", nil).list(t))
	s.AddForm(map[string]any{"unique_id": "synthetic_form", "module_ids": []any{"primeromodule-mrm"},
		"fields": []any{map[string]any{"name": "synthetic_date", "type": "date_field"}}})
	s.AddForm(map[string]any{"unique_id": "synthetic_sub", "is_nested": true, "fields": []any{}})
	r = call(t, s, http.MethodGet, "/api/v2/forms?module_id=primeromodule-mrm", nil)
	require.Len(t, r.list(t), 1)
	id := r.list(t)[0]["id"]
	r = call(t, s, http.MethodGet, fmt.Sprintf("/api/v2/forms/%v", id), nil)
	assert.Equal(t, "synthetic_form", r.data(t)["unique_id"])
	assert.Len(t, call(t, s, http.MethodGet, "/api/v2/forms?exclude_subforms=true", nil).list(t), all+1)

	// A form's typed field is validated on write.
	w := call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"module_id": "primeromodule-mrm", "synthetic_date": "soon"}))
	require.Equal(t, http.StatusUnprocessableEntity, w.status)
	assert.Equal(t, []any{"/synthetic_date"}, w.firstError(t)["detail"])
}

func TestUsers(t *testing.T) {
	s := NewServer(t, WithUser(User{UserName: "off_user", Password: "synthetic-pass-8", Disabled: true}))
	r := call(t, s, http.MethodGet, "/api/v2/users", nil)
	require.Len(t, r.list(t), 3)
	assert.EqualValues(t, 2, r.body["metadata"].(map[string]any)["total_enabled"])
	for _, u := range r.list(t) {
		assert.NotContains(t, u, "password")
	}
	r = call(t, s, http.MethodGet, "/api/v2/users?user_name="+DefaultRecipient, nil)
	require.Len(t, r.list(t), 1)
	assert.Equal(t, DefaultRecipient, r.list(t)[0]["user_name"])

	r = call(t, s, http.MethodGet, "/api/v2/users/refer-to?record_type=case&service=alternative_care", nil)
	require.Len(t, r.list(t), 1)
	assert.Equal(t, DefaultRecipient, r.list(t)[0]["user_name"])
	r = call(t, s, http.MethodGet, "/api/v2/users/refer-to?service=nothing", nil)
	assert.Empty(t, r.list(t))
	// Disabled users cannot authenticate.
	assert.Equal(t, http.StatusUnauthorized, call(t, s, http.MethodGet, "/api/v2/users", nil, asUser("off_user", "synthetic-pass-8")).status)
}
