package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const synthID = "00000000-0000-4000-8000-000000000001"

func TestCreateSetsServerFields(t *testing.T) {
	clock := newTestClock()
	s := NewServer(t, WithClock(clock.Now))
	r := call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{
		"module_id": "primeromodule-cp", "name_first": "Test", "name_last": "Child", "sex": "female",
		"date_of_birth": "2015-04-02", "not_a_field_xyz": "dropped",
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	c := r.data(t)

	id, caseID := c["id"].(string), c["case_id"].(string)
	stored, ok := s.Case(id)
	require.True(t, ok)
	uid := stored["unique_identifier"].(string)
	assert.NotContains(t, c, "unique_identifier", "stored, never rendered")
	assert.Regexp(t, uuidRe, id)
	assert.Regexp(t, uuidRe, caseID)
	assert.NotEqual(t, id, caseID, "id and case_id are distinct UUIDs")
	assert.Equal(t, uid, caseID, "case_id defaults to unique_identifier")
	assert.Equal(t, uid[len(uid)-7:], c["short_id"])
	assert.Equal(t, c["short_id"], c["case_id_display"])
	assert.Equal(t, DefaultUser, c["owned_by"], "owned_by defaults to the caller")
	assert.Equal(t, true, c["record_state"])
	assert.Equal(t, true, c["enabled"])
	assert.Equal(t, "open", c["status"])
	assert.Equal(t, "2026-01-10", c["registration_date"])
	assert.Equal(t, "2026-01-10T09:00:00.000Z", c["created_at"])
	assert.Equal(t, c["created_at"], c["last_updated_at"])
	assert.Equal(t, []any{DefaultUser}, c["associated_user_names"])
	assert.NotContains(t, c, "not_a_field_xyz", "unknown fields are dropped silently")
	assert.Equal(t, "Test", stored["name_first"])
}

func TestCreateWithClientIDAnd409(t *testing.T) {
	s := NewServer(t)
	r := call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"id": synthID, "name_first": "Test"}))
	require.Equal(t, http.StatusNoContent, r.status)
	assert.Empty(t, r.raw)
	_, ok := s.Case(synthID)
	require.True(t, ok)

	r = call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"id": synthID}))
	require.Equal(t, http.StatusConflict, r.status)
	e := r.firstError(t)
	assert.EqualValues(t, 409, e["status"])
	assert.Equal(t, "/api/v2/cases", e["resource"])
	assert.Equal(t, "Conflict: A record with this id already exists", e["message"])

	c, _ := s.Case(synthID)
	r = call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"module_id": "primeromodule-cp", "case_id": c["case_id"]}))
	assert.Equal(t, http.StatusConflict, r.status, "duplicate case_id")

	q := DefaultQuirks()
	q.DuplicateCaseIDConflict = false
	s2 := NewServer(t, WithQuirks(q))
	dup := dataOf(map[string]any{"module_id": "primeromodule-cp", "case_id": "dup-case-id"})
	call(t, s2, http.MethodPost, "/api/v2/cases", dup)
	assert.Equal(t, http.StatusOK, call(t, s2, http.MethodPost, "/api/v2/cases", dup).status)
	assert.Len(t, s2.Cases(), 2)
}

// cpData wraps fields of a CP case in {"data": ...}.
func cpData(fields map[string]any) map[string]any {
	fields["module_id"] = "primeromodule-cp"
	return dataOf(fields)
}

func TestMalformedJSONIs400(t *testing.T) {
	s := NewServer(t)
	r := call(t, s, http.MethodPost, "/api/v2/cases", `{"data":`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	r.firstError(t)
	assert.Empty(t, s.Cases())
}

func TestWriteValidation(t *testing.T) {
	s := NewServer(t)
	tests := []struct {
		name       string
		body       any
		wantMsg    any
		wantDetail any
	}{
		{"date not YYYY-MM-DD", cpData(map[string]any{"date_of_birth": "02/04/2015"}), "Invalid Record JSON", []any{"/date_of_birth"}},
		{"age not integer", cpData(map[string]any{"age": 7.5}), "Invalid Record JSON", []any{"/age"}},
		{"age as string", cpData(map[string]any{"age": "7"}), "Invalid Record JSON", []any{"/age"}},
		{"two bad fields", cpData(map[string]any{"age": "x", "consent_for_services": "yes"}), "Invalid Record JSON", []any{"/age", "/consent_for_services"}},
		{"bad status", cpData(map[string]any{"status": "deleted"}), "Invalid Record JSON", []any{"/status"}},
		{"subform unique_id not UUID", cpData(map[string]any{"services_section": []any{map[string]any{"unique_id": "svc-1"}}}), "Invalid Record JSON", []any{"/services_section/0/unique_id"}},
		{"future birth year", cpData(map[string]any{"date_of_birth": "2999-01-01"}), []any{"errors.models.child.date_of_birth.not_future"}, "date_of_birth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, http.MethodPost, "/api/v2/cases", tt.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.raw)
			e := r.firstError(t)
			assert.EqualValues(t, 422, e["status"])
			assert.Equal(t, tt.wantMsg, e["message"])
			assert.Equal(t, tt.wantDetail, e["detail"])
		})
	}
	assert.Empty(t, s.Cases(), "nothing half-written")
}

func TestGetCase(t *testing.T) {
	s := NewServer(t)
	c := s.AddCase(map[string]any{"name_first": "Test", "owned_by": DefaultUser})
	id := c["id"].(string)

	r := call(t, s, http.MethodGet, "/api/v2/cases/"+id, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "Test", r.data(t)["name_first"])

	r = call(t, s, http.MethodGet, "/api/v2/cases/"+id+"?fields=name_first", nil)
	assert.Equal(t, map[string]any{"id": id, "enabled": true, "last_updated_at": c["last_updated_at"], "name_first": "Test"}, r.data(t))

	r = call(t, s, http.MethodGet, "/api/v2/cases/"+c["case_id"].(string), nil)
	assert.Equal(t, http.StatusNotFound, r.status, "case_id is not the URL id")
	assert.Equal(t, "Not Found", r.firstError(t)["message"])

	// The recipient (self scope) cannot read a case it is not associated with.
	r = call(t, s, http.MethodGet, "/api/v2/cases/"+id, nil, asUser(DefaultRecipient, DefaultRecipientPassword))
	require.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, map[string]any{"errors": []any{map[string]any{
		"status": float64(403), "resource": "/api/v2/cases/" + id, "message": "Forbidden"}}}, r.body)
}

func TestLastUpdatedAtStrictlyIncreases(t *testing.T) {
	clock := newTestClock() // frozen: the server must still move forward
	s := NewServer(t, WithClock(clock.Now))
	c := s.AddCase(map[string]any{"name_first": "Test"})
	id := c["id"].(string)
	prev := c["last_updated_at"].(string)
	writes := []func() resp{
		func() resp {
			return call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"name_first": "Synthetic"}))
		},
		func() resp { return call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{})) },
		func() resp { return call(t, s, http.MethodDelete, "/api/v2/cases/"+id, nil) },
		func() resp {
			return call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"record_state": true}))
		},
	}
	for i, w := range writes {
		require.Equal(t, http.StatusOK, w().status, "write %d", i)
		got, _ := s.Case(id)
		cur := got["last_updated_at"].(string)
		assert.Greater(t, cur, prev, "write %d", i)
		prev = cur
	}
}

func TestPatchDeepMerge(t *testing.T) {
	const (
		svc1 = "0a30b142-3906-46d3-bbb4-f28c44b357d7"
		svc2 = "6f1d7c57-40b3-4f65-9d0e-2a6d95a2c111"
	)
	s := NewServer(t)
	c := s.AddCase(map[string]any{
		"module_id": "primeromodule-cp", "name_first": "Test", "name_last": "Child", "nationality": []any{"nat1", "nat2"},
		"services_section": []any{
			map[string]any{"unique_id": svc1, "service_type": "health"},
			map[string]any{"unique_id": svc2, "service_type": "education_formal"},
		},
	})
	id := c["id"].(string)
	before := c["last_updated_at"]

	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{
		"id":          "ignored",
		"name_first":  "Synthetic",
		"nationality": []any{},
		"unknown_xyz": "dropped",
		"services_section": []any{
			map[string]any{"unique_id": svc1, "service_implemented_day_time": "2026-01-05T10:00:00Z"},
			map[string]any{"unique_id": svc2, "_destroy": true},
			map[string]any{"service_type": "alternative_care"},
		},
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	d := r.data(t)
	assert.Equal(t, id, d["id"])
	assert.Equal(t, "Synthetic", d["name_first"])
	assert.NotContains(t, d, "name_last", "unchanged fields are not returned")
	assert.NotContains(t, d, "unknown_xyz")
	assert.NotEqual(t, before, d["last_updated_at"])
	assert.Contains(t, d, "enabled")

	got, _ := s.Case(id)
	assert.Equal(t, "Child", got["name_last"], "absent keys untouched")
	assert.Equal(t, []any{}, got["nationality"], "[] clears a multi-select")
	assert.NotContains(t, got, "unknown_xyz")
	svcs := got["services_section"].([]any)
	require.Len(t, svcs, 2)
	first := svcs[0].(map[string]any)
	assert.Equal(t, svc1, first["unique_id"])
	assert.Equal(t, "health", first["service_type"], "matched element deep-merged")
	assert.Equal(t, "implemented", first["service_implemented"], "derived on save")
	added := svcs[1].(map[string]any)
	assert.Equal(t, "alternative_care", added["service_type"])
	assert.Regexp(t, uuidRe, added["unique_id"], "appended element gets a server UUID")

	// [] for a subform is a no-op.
	require.Equal(t, http.StatusOK, call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"services_section": []any{}})).status)
	got, _ = s.Case(id)
	assert.Len(t, got["services_section"], 2)

	// PUT is routed to the same action.
	r = call(t, s, http.MethodPut, "/api/v2/cases/"+id, dataOf(map[string]any{"name_last": "Case"}))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, http.StatusNotFound, call(t, s, http.MethodPatch, "/api/v2/cases/"+synthID, dataOf(map[string]any{})).status)
}

func TestDeleteIsSoft(t *testing.T) {
	s := NewServer(t)
	c := s.AddCase(map[string]any{"name_first": "Test"})
	id := c["id"].(string)
	r := call(t, s, http.MethodDelete, "/api/v2/cases/"+id, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, map[string]any{"id": id}, r.data(t))
	got, ok := s.Case(id)
	require.True(t, ok, "still stored")
	assert.Equal(t, false, got["record_state"])
	assert.Equal(t, false, got["enabled"])
	// Still listed: no implicit record_state filter.
	assert.Len(t, call(t, s, http.MethodGet, "/api/v2/cases", nil).list(t), 1)
	assert.Len(t, call(t, s, http.MethodGet, "/api/v2/cases?record_state=true", nil).list(t), 0)
}

func TestAddCaseKeepsPresetFields(t *testing.T) {
	s := NewServer(t)
	c := s.AddCase(map[string]any{"id": synthID, "case_id": "case-id-1", "custom_field_a4ac8a5": "kept",
		"created_at": "2025-01-01T00:00:00.000Z", "last_updated_at": "2025-01-02T00:00:00.000Z"})
	assert.Equal(t, synthID, c["id"])
	assert.Equal(t, "case-id-1", c["case_id"])
	assert.NotContains(t, c, "custom_field_a4ac8a5", "no form defines it: not rendered")
	stored, _ := s.Case(synthID)
	assert.Equal(t, "kept", stored["custom_field_a4ac8a5"], "but stored")
	assert.Equal(t, "2025-01-02T00:00:00.000Z", c["last_updated_at"])
	assert.Panics(t, func() { s.AddCase(map[string]any{"id": synthID}) })

	c["name_first"] = "mutated"
	got, _ := s.Case(synthID)
	assert.NotContains(t, got, "name_first", "AddCase returns a copy")
}

func TestAddSyntheticCasesDeterministic(t *testing.T) {
	a, b := NewServer(t), NewServer(t)
	a.AddSyntheticCases(5)
	b.AddSyntheticCases(5)
	ca, cb := a.Cases(), b.Cases()
	require.Len(t, ca, 5)
	for i := range ca {
		assert.Equal(t, ca[i]["id"], cb[i]["id"])
		assert.Equal(t, "Synthetic", ca[i]["name_first"])
		assert.NotEqual(t, ca[i]["id"], ca[i]["case_id"])
	}
	a.AddSyntheticCases(1)
	assert.NotEqual(t, a.Cases()[5]["id"], ca[0]["id"], "later calls continue the sequence")
}
