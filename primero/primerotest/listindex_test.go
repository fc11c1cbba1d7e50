package primerotest

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The list path keeps sorted indexes, query results and rendered records
// between requests. These tests change what a request must answer between
// two identical (or nearly identical) requests: each fails if that change
// left a cache as it was.

// feedQuery is the shape of primero.Cases.Changes' page requests.
const feedQuery = "/api/v2/cases?last_updated_at=1970-01-01T00:00:00Z..&order_by=last_updated_at&order=asc&per=10&fields=sex,name_last"

func listTotal(t *testing.T, r resp) int {
	t.Helper()
	return int(r.body["metadata"].(map[string]any)["total"].(float64))
}

func ids(recs []map[string]any) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i], _ = r["id"].(string)
	}
	return out
}

func TestListWriteBetweenPagesShowsUp(t *testing.T) {
	s := NewServer(t)
	s.AddSyntheticCases(30)
	page2 := call(t, s, http.MethodGet, feedQuery+"&page=2", nil).list(t)
	require.Len(t, page2, 10)
	moved := page2[0]["id"].(string)
	was := page2[0]["sex"]
	now := map[string]any{"male": "female", "female": "male"}[was.(string)]

	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+moved, dataOf(map[string]any{"sex": now}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)

	// The update moved the case to the end of the last_updated_at order.
	again := call(t, s, http.MethodGet, feedQuery+"&page=2", nil).list(t)
	assert.NotContains(t, ids(again), moved, "the updated case left page 2")
	assert.Equal(t, ids(page2)[1:], ids(again)[:9], "what followed moved back by one")
	last := call(t, s, http.MethodGet, feedQuery+"&page=3", nil).list(t)
	require.Len(t, last, 10)
	assert.Equal(t, moved, last[9]["id"], "the updated case is now the newest")
	assert.Equal(t, now, last[9]["sex"], "rendered with its new value")

	// A case added between two pages is counted and listed.
	added := s.AddCase(map[string]any{"name_last": "Added"})
	r = call(t, s, http.MethodGet, feedQuery+"&page=4", nil)
	assert.Equal(t, 31, listTotal(t, r))
	require.Len(t, r.list(t), 1)
	assert.Equal(t, added["id"], r.list(t)[0]["id"])
}

func TestListFilterResultFollowsWrites(t *testing.T) {
	s := NewServer(t)
	s.AddSyntheticCases(20) // half male
	const q = "/api/v2/cases?sex=male&per=5&order_by=name_last&order=asc&fields=sex"
	first := call(t, s, http.MethodGet, q, nil)
	require.Equal(t, 10, listTotal(t, first))
	id := first.list(t)[0]["id"].(string)

	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"sex": "female"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	again := call(t, s, http.MethodGet, q, nil)
	assert.Equal(t, 9, listTotal(t, again), "the case no longer matches")
	assert.NotContains(t, ids(again.list(t)), id)

	// In creation order, without a filter: the same page renders the new value.
	const plain = "/api/v2/cases?per=5&order=asc"
	before := call(t, s, http.MethodGet, plain, nil).list(t)[0]
	first0 := before["id"].(string)
	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+first0, dataOf(map[string]any{"name_last": "Renamed"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	after := call(t, s, http.MethodGet, plain, nil).list(t)[0]
	assert.Equal(t, first0, after["id"])
	assert.Equal(t, "Renamed", after["name_last"])
}

func TestListRendersTheFieldsAsked(t *testing.T) {
	s := NewServer(t)
	s.AddSyntheticCases(3)
	const q = "/api/v2/cases?per=3&order=asc&fields="
	sex := call(t, s, http.MethodGet, q+"sex", nil).list(t)
	age := call(t, s, http.MethodGet, q+"age", nil).list(t)
	full := call(t, s, http.MethodGet, "/api/v2/cases?per=3&order=asc", nil).list(t)
	none := call(t, s, http.MethodGet, q+",", nil).list(t) // an empty selection
	for i := range 3 {
		assert.Contains(t, sex[i], "sex")
		assert.NotContains(t, sex[i], "age")
		assert.Contains(t, age[i], "age")
		assert.NotContains(t, age[i], "sex")
		assert.Contains(t, full[i], "sex")
		assert.Contains(t, full[i], "age")
		assert.ElementsMatch(t, []string{"id", "enabled", "last_updated_at"}, keysOf(none[i]))
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestListFollowsRoleAndUserChanges(t *testing.T) {
	s, reader := readerServer(t)
	const q = "/api/v2/cases?order_by=created_at&order=asc"
	rec := call(t, s, http.MethodGet, q, nil, reader).list(t)[0]
	require.NotContains(t, rec, "consent_for_services")

	// The role now reads the consent form too.
	s.AddRole(Role{UniqueID: identityReader.UniqueID,
		Forms: map[string]FormAccess{"basic_identity": Read, "consent": Read}})
	rec = call(t, s, http.MethodGet, q, nil, reader).list(t)[0]
	assert.Equal(t, true, rec["consent_for_services"], "rendered for the changed role")
	assert.Equal(t, []string{"A"}, listNames(t, s, "consent_for_services=true", reader),
		"and filterable: the filter is no longer dropped")

	// The same user loses read access to a field, then sees only its own cases.
	s.AddUser(User{UserName: "reader", Password: "synthetic-pass-11", Role: identityReader.UniqueID,
		ReadDenied: []string{"consent_for_services"}})
	rec = call(t, s, http.MethodGet, q, nil, reader).list(t)[0]
	assert.NotContains(t, rec, "consent_for_services", "a denied field is no longer rendered")
	assert.Len(t, listNames(t, s, "", reader), 5)
	s.AddUser(User{UserName: "reader", Password: "synthetic-pass-11", Role: identityReader.UniqueID, Permission: "self"})
	assert.Empty(t, listNames(t, s, "", reader), "reader owns no case")
	assert.Empty(t, listNames(t, s, "sex=female", reader), "a filtered query is scoped again too")
}

func TestListLocationFilterFollowsNewLocations(t *testing.T) {
	s := filterFixture(t)
	const q = "loc:location_current=YY01&sex=female"
	assert.Equal(t, []string{"A"}, listNames(t, s, q))
	// C is in YY (above YY01); a new district YY0102 under YY01 changes nothing
	// for it, but moving an existing location does.
	s.AddLocation("YY0101", "YY", "district", "Synthetic District Y11", 1)
	assert.Empty(t, listNames(t, s, q), "YY0101 is no longer under YY01")
}

func TestListOrderFollowsWrites(t *testing.T) {
	s := NewServer(t)
	for _, age := range []int{7, 3, 11} {
		s.AddCase(map[string]any{"name_last": fmt.Sprint("Age", age), "age": age})
	}
	const q = "/api/v2/cases?order_by=age&order=asc"
	require.Equal(t, []string{"Age3", "Age7", "Age11"}, names(call(t, s, http.MethodGet, q, nil).list(t)))
	id := s.Cases()[1]["id"].(string) // Age3
	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"age": 12}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, []string{"Age7", "Age11", "Age3"}, names(call(t, s, http.MethodGet, q, nil).list(t)))
}
