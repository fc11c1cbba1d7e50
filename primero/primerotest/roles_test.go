package primerotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// identityReader reads basic_identity and nothing else; it writes nothing.
var identityReader = Role{UniqueID: "role-synthetic-identity-reader",
	Forms: map[string]FormAccess{"basic_identity": Read}}

func readerServer(t *testing.T) (*Server, reqOpt) {
	s := filterFixture(t, WithRole(identityReader),
		WithUser(User{UserName: "reader", Password: "synthetic-pass-11", Role: identityReader.UniqueID}))
	return s, asUser("reader", "synthetic-pass-11")
}

func TestRecordsRenderOnlyReadableFields(t *testing.T) {
	s, reader := readerServer(t)
	rec := call(t, s, http.MethodGet, "/api/v2/cases?order_by=created_at&order=asc", nil, reader).list(t)[0]
	assert.Equal(t, "A", rec["name_last"], "basic_identity is readable")
	assert.NotContains(t, rec, "consent_for_services", "the consent form is not")
	assert.Contains(t, rec, "owned_by", "record information is always readable")
	id := rec["id"].(string)
	one := call(t, s, http.MethodGet, "/api/v2/cases/"+id+"?fields=consent_for_services,name_last", nil, reader).data(t)
	assert.NotContains(t, one, "consent_for_services", "fields= is intersected with what the role reads")
	assert.Equal(t, "A", one["name_last"])
	full := call(t, s, http.MethodGet, "/api/v2/cases/"+id, nil).data(t)
	assert.Equal(t, true, full["consent_for_services"], "the default role reads every form")
}

func TestUnreadableFiltersAreDroppedIDFieldsIncluded(t *testing.T) {
	s, reader := readerServer(t)
	all := []string{"A", "B", "C", "D", "E"}
	assert.Equal(t, all, listNames(t, s, "protection_concerns=separated", reader),
		"the protection concerns form is not readable: the filter is dropped")
	assert.Equal(t, []string{"A", "B"}, listNames(t, s, "protection_concerns=separated"))
	// unhcr_individual_no is defined by the identification form, which the role cannot read.
	assert.Equal(t, all, listNames(t, s, "unhcr_individual_no=10", reader),
		"an unreadable ID filter is dropped: every case in scope comes back")
	assert.Equal(t, []string{"C"}, listNames(t, s, "unhcr_individual_no=10"))
	assert.Equal(t, all, listNames(t, s, "unique_identifier=x"), "unique_identifier is never readable")
	short := s.Cases()[0]["short_id"].(string)
	assert.Equal(t, []string{"A"}, listNames(t, s, "short_id="+short, reader), "short_id always is")
}

func TestReadOnlyFormsAreNotWritable(t *testing.T) {
	s, reader := readerServer(t)
	id := s.Cases()[0]["id"].(string)
	r := call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"name_last": "Changed"}), reader)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	after, _ := s.Case(id)
	assert.Equal(t, "A", after["name_last"], "dropped silently")
	r = call(t, s, http.MethodPatch, "/api/v2/cases/"+id, dataOf(map[string]any{"sex": "F"}), reader)
	assert.Equal(t, http.StatusOK, r.status, "an unwritable field is dropped before validation")
}

func TestWritableFormsComeFromTheStoredModule(t *testing.T) {
	s := NewServer(t)
	s.AddForm(map[string]any{"unique_id": "gbv_only", "parent_form": "case", "module_ids": []any{"primeromodule-gbv"},
		"fields": []any{map[string]any{"name": "x_gbv_code", "type": "text_field"}}})
	cp := createCase(t, s, map[string]any{"module_id": "primeromodule-cp", "x_gbv_code": "c1"}).data(t)
	assert.NotContains(t, cp, "x_gbv_code", "not a form of the CP module")
	gbv := createCase(t, s, map[string]any{"module_id": "primeromodule-gbv", "x_gbv_code": "g1"}).data(t)
	assert.Equal(t, "g1", gbv["x_gbv_code"])

	// A PATCH is checked against the stored module, whatever it sends.
	call(t, s, http.MethodPatch, "/api/v2/cases/"+cp["id"].(string),
		dataOf(map[string]any{"module_id": "primeromodule-gbv", "x_gbv_code": "c2"}))
	after, _ := s.Case(cp["id"].(string))
	assert.NotContains(t, after, "x_gbv_code")
}

func TestRecipientRoleMustHoldTheCasesModule(t *testing.T) {
	gbvRole := Role{UniqueID: "role-synthetic-gbv", Modules: []string{"primeromodule-gbv"}}
	s := NewServer(t, WithRole(gbvRole), WithUser(User{UserName: "gbv_worker", Password: "synthetic-pass-12",
		Role: gbvRole.UniqueID, CanReceiveReferrals: true}))
	id := consentedCase(s)
	r := refer(t, s, id, map[string]any{"transitioned_to": "gbv_worker"})
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.raw)
	assert.Equal(t, "transitioned_to", r.firstError(t)["detail"])
}

func TestFormsServedMatchTheValidation(t *testing.T) {
	s := NewServer(t)
	forms := call(t, s, http.MethodGet, "/api/v2/forms?record_type=case", nil).list(t)
	var sexSource string
	for _, f := range forms {
		for _, fe := range f["fields"].([]any) {
			m := fe.(map[string]any)
			if m["name"] == "sex" {
				sexSource, _ = m["option_strings_source"].(string)
			}
		}
	}
	assert.Equal(t, "lookup lookup-gender", sexSource, "the seeded forms define the fields the fake validates")
	l := call(t, s, http.MethodGet, "/api/v2/lookups/lookup-gender", nil).data(t)
	assert.Len(t, l["values"], 2)
}

// The synthetic cases use only fields the seeded forms define (or the
// record information Primero renders), with values their lookups hold, so
// writing one back through the API changes nothing.
func TestSyntheticCasesFitTheSeededForms(t *testing.T) {
	s := NewServer(t)
	s.AddSyntheticCases(30)
	s.mu.Lock()
	v := s.viewFor(s.users[DefaultUser], "primeromodule-cp")
	for _, rec := range s.cases {
		for k := range rec {
			assert.True(t, v.readable(k) || neverRendered[k], "field %s is rendered by no form", k)
		}
		form := map[string]any{}
		for k, val := range rec {
			if _, ok := v.write[k]; ok {
				form[k] = val
			}
		}
		assert.Empty(t, v.validate(form), "synthetic values are valid")
	}
	s.mu.Unlock()
}
