package primerotest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// filterFixture seeds five synthetic cases for the filter tests.
func filterFixture(t *testing.T, opts ...Option) *Server {
	s := NewServer(t, opts...)
	s.AddLocation("YY", "", "country", "Synthetic Country Y", 0)
	s.AddLocation("YY01", "YY", "province", "Synthetic Province Y1", 1)
	s.AddLocation("YY0101", "YY01", "district", "Synthetic District Y11", 2)
	seed := []map[string]any{
		{"name_last": "A", "sex": "female", "age": 5, "status": "open", "location_current": "YY0101",
			"registration_date": "2024-01-01", "consent_for_services": true, "protection_concerns": []any{"unaccompanied", "separated"},
			"unhcr_individual_no": "803-00000001,2", "created_at": "2024-01-01T08:00:00.000Z", "last_updated_at": "2024-01-01T08:00:00.000Z"},
		{"name_last": "B", "sex": "male", "age": 18, "status": "closed", "location_current": "YY01",
			"registration_date": "2024-01-31", "consent_for_services": false, "protection_concerns": []any{"separated"},
			"unhcr_individual_no": "803-00000002", "created_at": "2024-01-31T23:59:59.000Z", "last_updated_at": "2024-01-31T23:59:59.000Z"},
		{"name_last": "C", "sex": "Female", "age": 10, "status": "open", "location_current": "YY",
			"registration_date": "2024-02-01", "unhcr_individual_no": "10", "created_at": "2024-02-01T00:00:00.000Z",
			"last_updated_at": "2024-02-01T00:00:00.000Z"},
		{"name_last": "D", "sex": "male", "age": 15, "status": "open", "location_current": "XX0101",
			"registration_date": "2024-03-15", "created_at": "2024-03-15T12:00:00.000Z", "last_updated_at": "2024-03-15T12:00:00.000Z"},
		{"name_last": "E", "sex": "female", "status": "transferred", "owned_by": DefaultRecipient,
			"created_at": "2024-04-01T00:00:00.000Z", "last_updated_at": "2024-04-01T00:00:00.000Z"},
	}
	for _, c := range seed {
		s.AddCase(c)
	}
	return s
}

func TestFilterGrammar(t *testing.T) {
	s := filterFixture(t)
	all := []string{"A", "B", "C", "D", "E"}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"no filter", "", all},
		{"exact string", "sex=female", []string{"A", "E"}},
		{"strings are case-sensitive", "sex=Female", []string{"C"}},
		{"list is OR", "sex=female,Female", []string{"A", "C", "E"}},
		{"list checked before range", "age=5..10,18", []string{"B"}},
		{"integer", "age=18", []string{"B"}},
		{"integer range inclusive", "age=5..15", []string{"A", "C", "D"}},
		{"age 0..17 excludes 18", "age=0..17", []string{"A", "C", "D"}},
		{"open upper range on a srch_ integer column", "age=15..", []string{}},
		{"..b silently dropped", "age=..5", all},
		{"from/to", "age[from]=10&age[to]=15", []string{"C", "D"}},
		{"indexed list", "sex[0]=male&sex[1]=Female", []string{"B", "C", "D"}},
		{"boolean", "consent_for_services=true", []string{"A"}},
		{"boolean false also matches a missing value", "consent_for_services=false", []string{"B", "C", "D", "E"}},
		{"date equal", "registration_date=2024-01-31", []string{"B"}},
		{"date range inclusive", "registration_date=2024-01-01..2024-01-31", []string{"A", "B"}},
		{"timestamp column with date range ends at midnight", "created_at=2024-01-01..2024-01-31", []string{"A"}},
		{"datetime open range", "last_updated_at=2024-02-01T00:00:00Z..", []string{"C", "D", "E"}},
		{"datetime with offset", "last_updated_at=2024-02-01T01:00:00%2B01:00..", []string{"C", "D", "E"}},
		{"raw plus decodes as space: range dropped", "last_updated_at=2024-02-01T01:00:00+01:00..", all},
		{"multi-select any element", "protection_concerns=separated", []string{"A", "B"}},
		{"loc matches descendants", "loc:location_current=YY01", []string{"A", "B"}},
		{"loc root", "loc:location_current=YY", []string{"A", "B", "C"}},
		{"plain location is exact", "location_current=YY01", []string{"B"}},
		{"or group", "or[sex]=male&or[status]=transferred", []string{"B", "D", "E"}},
		{"not", "not[status]=open", []string{"B", "E"}},
		{"and of filters", "sex=male&status=open", []string{"D"}},
		{"ID field exact, never split", "unhcr_individual_no=803-00000001,2", []string{"A"}},
		{"ID field never a number", "unhcr_individual_no=10", []string{"C"}},
		{"ID field not substring", "unhcr_individual_no=803-0000000", nil},
		{"unknown filter ignored", "sexx=female", all},
		{"old remote/scope ignored", "remote=true&scope=%7B%7D", all},
		{"unknown inside or ignored", "or[nope]=x&or[sex]=male", []string{"B", "D"}},
		{"empty value matches nothing", "sex=", nil},
		{"associated_user_names list", "associated_user_names[0]=" + DefaultRecipient, []string{"E"}},
		{"paging params are not filters", "page=1&per=50", all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, http.MethodGet, "/api/v2/cases?order=asc&"+tt.query, nil)
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			got := names(r.list(t))
			if tt.want == nil {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tt.want, got)
			}
			assert.EqualValues(t, len(got), r.body["metadata"].(map[string]any)["total"])
		})
	}
}

func TestFilterQuirks(t *testing.T) {
	q := DefaultQuirks()
	q.EmptyFilterMatchesNothing = false
	q.OpenNumericRangeMatchesNothing = true
	s := filterFixture(t, WithQuirks(q))
	r := call(t, s, http.MethodGet, "/api/v2/cases?sex=", nil)
	assert.Len(t, r.list(t), 5, "empty filter ignored")
	r = call(t, s, http.MethodGet, "/api/v2/cases?age=15..", nil)
	assert.Empty(t, r.list(t), "open numeric range compares with NULL")
}

func TestFormFieldsBecomeFilterable(t *testing.T) {
	s := NewServer(t)
	s.AddCase(map[string]any{"name_last": "A", "custom_flag_x1": "yes"})
	s.AddCase(map[string]any{"name_last": "B", "custom_flag_x1": "no"})
	r := call(t, s, http.MethodGet, "/api/v2/cases?custom_flag_x1=yes", nil)
	assert.Len(t, r.list(t), 2, "not on any form: ignored")
	s.AddForm(map[string]any{"unique_id": "custom_form", "parent_form": "case",
		"fields": []any{map[string]any{"name": "custom_flag_x1", "type": "select_box"}}})
	r = call(t, s, http.MethodGet, "/api/v2/cases?custom_flag_x1=yes", nil)
	assert.Equal(t, []string{"A"}, names(r.list(t)))
}

func FuzzParseFilters(f *testing.F) {
	for _, seed := range []string{"sex=male", "age=1..5", "age=..5", "or[sex]=a&not[age]=3", "loc:location_current=XX",
		"age[from]=1&age[to]=x", "sex[0]=a&sex[]=b", "created_at=2024-01-01T00:00:00Z..", "or[]=x&not=1", "a[b][c]=d", "%zz"} {
		f.Add(seed)
	}
	s, err := Start()
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	rec := map[string]any{"sex": "male", "age": 3.0, "location_current": "XX0101", "created_at": "2024-01-01T00:00:00.000Z",
		"protection_concerns": []any{"a"}, "case_id": "x"}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		matchAll(s.parseFilters(q, s.viewFor(s.users[DefaultUser], "")), rec) // must not panic
	})
}

func TestUnpermittedFilterIgnored(t *testing.T) {
	s := filterFixture(t, WithUser(User{UserName: "limited", Password: "synthetic-pass-10",
		ReadDenied: []string{"consent_for_services", "unhcr_individual_no"}}))
	limited := asUser("limited", "synthetic-pass-10")
	r := call(t, s, http.MethodGet, "/api/v2/cases?consent_for_services=true", nil, limited)
	assert.Len(t, r.list(t), 5, "a field the role cannot read is not a filter: every case in scope")
	r = call(t, s, http.MethodGet, "/api/v2/cases?unhcr_individual_no=10", nil, limited)
	assert.Len(t, r.list(t), 5, "an unreadable ID field is no filter either")
	r = call(t, s, http.MethodGet, "/api/v2/cases?consent_for_services=true", nil)
	assert.Len(t, r.list(t), 1)
}
