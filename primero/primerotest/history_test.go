package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func history(t *testing.T, s *Server, id string) []map[string]any {
	t.Helper()
	r := call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/record_history", nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	require.Contains(t, r.body, "metadata", "paginated")
	return r.list(t)
}

func TestRecordHistory(t *testing.T) {
	s := NewServer(t)
	d := createCase(t, s, map[string]any{"module_id": "primeromodule-cp", "name_first": "Test"}).data(t)
	id := d["id"].(string)
	h := history(t, s, id)
	require.Len(t, h, 1)
	assert.Equal(t, "create", h[0]["action"])
	assert.Equal(t, "cases", h[0]["record_type"])
	assert.Equal(t, DefaultUser, h[0]["user_name"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, h[0]["datetime"], "whole seconds")

	call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"name_first": "Other"}))
	call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"name_first": "Other"}))
	h = history(t, s, id)
	require.Len(t, h, 2, "a save that changes only last_updated_* leaves no entry")
	changes := h[1]["record_changes"].([]any)
	assert.Contains(t, changes, map[string]any{"name_first": map[string]any{"from": "Test", "to": "Other"}})
	for _, c := range changes {
		assert.NotContains(t, c, "last_updated_at")
	}
	assert.Equal(t, http.StatusNotFound, call(t, s, http.MethodGet, "/api/v2/cases/"+synthID+"/record_history", nil).status)
}
