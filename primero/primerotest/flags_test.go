package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	s := NewServer(t)
	id := consentedCase(s)
	r := call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/flags", dataOf(map[string]any{"message": "Synthetic flag", "date": "2026-01-10"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	f := r.data(t)
	assert.Equal(t, "Synthetic flag", f["message"])
	assert.Equal(t, DefaultUser, f["flagged_by"])
	assert.Equal(t, false, f["removed"])
	c, _ := s.Case(id)
	assert.Equal(t, true, c["flagged"])
	assert.EqualValues(t, 1, c["flag_count"])
	assert.Equal(t, []string{"Test"}, []string{call(t, s, http.MethodGet, "/api/v2/cases?flagged=true", nil).list(t)[0]["name_first"].(string)})

	fid := jsonIntString(f["id"])
	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+id+"/flags/"+fid, dataOf(map[string]any{"unflag_message": "Synthetic resolved"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, true, r.data(t)["removed"])
	c, _ = s.Case(id)
	assert.Equal(t, false, c["flagged"])
	assert.EqualValues(t, 0, c["flag_count"])
	list := call(t, s, http.MethodGet, "/api/v2/cases/"+id+"/flags", nil).list(t)
	require.Len(t, list, 1, "resolved flags stay listed")
	assert.Equal(t, http.StatusUnprocessableEntity, call(t, s, http.MethodPost, "/api/v2/cases/"+id+"/flags", map[string]any{}).status)
}
