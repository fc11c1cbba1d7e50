package primerotest

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListPaging(t *testing.T) {
	s := NewServer(t)
	s.AddSyntheticCases(1050)
	tests := []struct {
		query             string
		wantLen, wantPer  int
		wantPage          int
		wantFirstLastName string
	}{
		{"", 20, 20, 1, "Case001050"}, // default per 20, newest first
		{"?per=5&page=2", 5, 5, 2, "Case001045"},
		{"?per=2000", 1000, 1000, 1, "Case001050"}, // silently capped
		{"?per=1000&page=2", 50, 1000, 2, "Case000050"},
		{"?per=1000&page=3", 0, 1000, 3, ""},
		{"?order=asc&per=3", 3, 3, 1, "Case000001"},
		{"?order_by=created_at&order=asc&per=3&page=2", 3, 3, 2, "Case000004"},
		{"?order=sideways&per=3", 3, 3, 1, "Case000001"}, // an invalid order behaves as asc
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := call(t, s, http.MethodGet, "/api/v2/cases"+tt.query, nil)
			require.Equal(t, http.StatusOK, r.status)
			recs := r.list(t)
			require.Len(t, recs, tt.wantLen)
			assert.Equal(t, map[string]any{"total": float64(1050), "per": float64(tt.wantPer), "page": float64(tt.wantPage)}, r.body["metadata"])
			if tt.wantLen > 0 {
				assert.Equal(t, tt.wantFirstLastName, recs[0]["name_last"])
			}
		})
	}
}

func TestListPagesCoverEveryCaseOnce(t *testing.T) {
	s := NewServer(t)
	s.AddSyntheticCases(2500)
	seen := map[string]bool{}
	for page := 1; ; page++ {
		r := call(t, s, http.MethodGet, fmt.Sprintf("/api/v2/cases?order_by=created_at&order=asc&per=1000&page=%d", page), nil)
		recs := r.list(t)
		for _, c := range recs {
			id := c["id"].(string)
			require.False(t, seen[id], "duplicate %s", id)
			seen[id] = true
		}
		if page*1000 >= int(r.body["metadata"].(map[string]any)["total"].(float64)) {
			break
		}
	}
	assert.Len(t, seen, 2500)
}

func TestListOrderByField(t *testing.T) {
	s := NewServer(t)
	for _, age := range []int{7, 3, 11} {
		s.AddCase(map[string]any{"name_last": fmt.Sprint("Age", age), "age": age})
	}
	r := call(t, s, http.MethodGet, "/api/v2/cases?order_by=age&order=asc", nil)
	assert.Equal(t, []string{"Age3", "Age7", "Age11"}, names(r.list(t)))
	r = call(t, s, http.MethodGet, "/api/v2/cases?order_by=age", nil)
	assert.Equal(t, []string{"Age11", "Age7", "Age3"}, names(r.list(t)))
}

func TestListScope(t *testing.T) {
	s := NewServer(t,
		WithUser(User{UserName: "group_user", Password: "synthetic-pass-3", Permission: "group", Groups: []string{"usergroup-other"}}),
		WithUser(User{UserName: "agency_user", Password: "synthetic-pass-4", Permission: "agency", Agency: DefaultAgency}),
	)
	s.AddCase(map[string]any{"name_last": "Owned"})
	s.AddCase(map[string]any{"name_last": "Assigned", "assigned_user_names": []any{DefaultRecipient}})
	s.AddCase(map[string]any{"name_last": "ByRecipient", "owned_by": DefaultRecipient})
	s.AddCase(map[string]any{"name_last": "ByGroupUser", "owned_by": "group_user"})

	tests := []struct {
		user, pass string
		want       []string
	}{
		{DefaultUser, DefaultPassword, []string{"Owned", "Assigned", "ByRecipient", "ByGroupUser"}},
		{DefaultRecipient, DefaultRecipientPassword, []string{"Assigned", "ByRecipient"}},
		{"group_user", "synthetic-pass-3", []string{"ByGroupUser"}},
		{"agency_user", "synthetic-pass-4", []string{"Owned", "Assigned", "ByRecipient"}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			r := call(t, s, http.MethodGet, "/api/v2/cases?order=asc", nil, asUser(tt.user, tt.pass))
			require.Equal(t, http.StatusOK, r.status)
			assert.Equal(t, tt.want, names(r.list(t)))
			assert.EqualValues(t, len(tt.want), r.body["metadata"].(map[string]any)["total"])
		})
	}
}

func TestListQueryAndIDSearch(t *testing.T) {
	s := NewServer(t)
	s.AddCase(map[string]any{"name_last": "A", "unhcr_individual_no": "803-00000001", "owned_by": "someone_else"})
	s.AddCase(map[string]any{"name_last": "B", "unhcr_individual_no": "803-00000012", "owned_by": DefaultRecipient})
	s.AddCase(map[string]any{"name_last": "C", "name_first": "803-00000001"})

	r := call(t, s, http.MethodGet, "/api/v2/cases?order=asc&query=803-0000000", nil)
	assert.Equal(t, []string{"A"}, names(r.list(t)), "substring over ID fields only")
	r = call(t, s, http.MethodGet, "/api/v2/cases?order=asc&query=803-000000", nil)
	assert.Equal(t, []string{"A", "B"}, names(r.list(t)))

	// In scope only, unless id_search=true, which returns only short fields.
	rec := asUser(DefaultRecipient, DefaultRecipientPassword)
	r = call(t, s, http.MethodGet, "/api/v2/cases?query=803-000000", nil, rec)
	assert.Len(t, r.list(t), 1)
	r = call(t, s, http.MethodGet, "/api/v2/cases?id_search=true&query=803-000000", nil, rec)
	recs := r.list(t)
	require.Len(t, recs, 2)
	assert.NotContains(t, recs[0], "unhcr_individual_no")
	assert.Contains(t, recs[0], "short_id")
}

func TestListFieldsSelection(t *testing.T) {
	s := NewServer(t)
	s.AddCase(map[string]any{"name_first": "Test", "sex": "female"})
	r := call(t, s, http.MethodGet, "/api/v2/cases?fields="+url.QueryEscape("sex,name_first"), nil)
	c := r.list(t)[0]
	assert.ElementsMatch(t, []string{"id", "enabled", "last_updated_at", "sex", "name_first"}, keys(c))
	r = call(t, s, http.MethodGet, "/api/v2/cases?fields=short", nil)
	assert.Contains(t, r.list(t)[0], "case_id_display")
	assert.NotContains(t, r.list(t)[0], "name_first")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
