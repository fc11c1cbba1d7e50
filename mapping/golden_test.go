package mapping

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadJSON(t testing.TB, name string) Record {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	var r Record
	require.NoError(t, json.Unmarshal(data, &r))
	return r
}

// normalizeJSON round-trips v through encoding/json so that typed Go
// values (int, []any of strings…) compare equal to decoded golden JSON.
func normalizeJSON(t testing.TB, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

func loadGoldenSpecs(t testing.TB) map[string]*Spec {
	t.Helper()
	data, err := os.ReadFile("testdata/progres_to_primero.yaml")
	require.NoError(t, err)
	y, err := ParseYAML("progres_to_primero.yaml", data)
	require.NoError(t, err)
	c, err := ParseCSV(os.DirFS("testdata"), "progres_to_primero.csv")
	require.NoError(t, err)
	return map[string]*Spec{"yaml": y, "csv": c}
}

func TestGoldenProgresToPrimero(t *testing.T) {
	want := normalizeJSON(t, loadJSON(t, "testdata/primero_case.golden.json"))
	src := loadJSON(t, "testdata/intervention.json")
	for format, spec := range loadGoldenSpecs(t) {
		t.Run(format, func(t *testing.T) {
			m, err := Compile(spec)
			require.NoError(t, err)
			got, err := m.Apply(context.Background(), src)
			require.NoError(t, err)
			assert.Equal(t, want, normalizeJSON(t, got))
		})
	}
}

func goldenMapping(t testing.TB) *Mapping {
	t.Helper()
	m, err := Compile(loadGoldenSpecs(t)["yaml"])
	require.NoError(t, err)
	return m
}

func TestGoldenMissingDateOfBirth(t *testing.T) {
	m := goldenMapping(t)
	for name, mutate := range map[string]func(Record){
		"absent": func(r Record) { delete(r, "individuals.progres_dateofbirth") },
		"null":   func(r Record) { r["individuals.progres_dateofbirth"] = nil },
		"empty":  func(r Record) { r["individuals.progres_dateofbirth"] = "" },
	} {
		t.Run(name, func(t *testing.T) {
			src := loadJSON(t, "testdata/intervention.json")
			mutate(src)
			out, err := m.Apply(context.Background(), src)
			require.NoError(t, err, "a missing date of birth is not an error (pitfall 20)")
			assert.NotContains(t, out, "date_of_birth")
			assert.NotContains(t, out, "age")
			assert.Equal(t, "Test", out["name_first"])
		})
	}
}

func TestGoldenServiceTypes(t *testing.T) {
	m := goldenMapping(t)
	cases := map[string]string{
		"Alternative Care":                 "alternative_care",
		"BID":                              "focuses_non_specialized_mhpss_care",
		"BIA":                              "focuses_non_specialized_mhpss_care",
		"Family Tracing and Reunification": "food",
	}
	for in, want := range cases {
		src := loadJSON(t, "testdata/intervention.json")
		src["interventiontype.progres_description"] = in
		out, err := m.Apply(context.Background(), src)
		require.NoError(t, err, in)
		assert.Equal(t, want, out["services_section"].([]any)[0].(map[string]any)["service_type"], in)
	}
	// Older proGres keys (see docs/systems/progres.md), spelled as shipped.
	for _, refused := range []string{"Protection", "Accomodation", "BID / BIA conducted", "", "alternative care"} { //nolint:misspell // proGres key as shipped
		src := loadJSON(t, "testdata/intervention.json")
		src["interventiontype.progres_description"] = refused
		_, err := m.Apply(context.Background(), src)
		var fe *FieldError
		require.ErrorAs(t, err, &fe, "%q must be refused (pitfall 19)", refused)
		assert.Equal(t, "service_type", fe.Rule)
		assert.Equal(t, "services_section[0].service_type", fe.Path)
		if refused == "" {
			assert.Equal(t, CodeRequired, fe.Code)
		} else {
			assert.Equal(t, CodeUnknownValue, fe.Code)
			assert.NotContains(t, err.Error(), refused)
		}
	}
}

func TestGoldenSexCodes(t *testing.T) {
	m := goldenMapping(t)
	cases := []struct {
		in   any
		want string
	}{
		{"125080000", "female"}, {"125080001", "male"}, {"125080002", "other_b25f252"},
		{"125080003", "unknown_4b34795"}, {125080001.0, "male"}, // PING sends integers
	}
	for _, tc := range cases {
		src := loadJSON(t, "testdata/intervention.json")
		src["individuals.progres_sex"] = tc.in
		out, err := m.Apply(context.Background(), src)
		require.NoError(t, err)
		assert.Equal(t, tc.want, out["sex"], "%v", tc.in)
	}
	src := loadJSON(t, "testdata/intervention.json")
	src["individuals.progres_sex"] = "125080009"
	_, err := m.Apply(context.Background(), src)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "sex", fe.Path)
	assert.Equal(t, CodeUnknownValue, fe.Code)
}

func TestGoldenRequiredFieldsReportedTogether(t *testing.T) {
	src := loadJSON(t, "testdata/intervention.json")
	delete(src, "individuals.progres_givenname")
	src["individuals.progres_familyname"] = ""
	delete(src, "individuals.progres_registrationgroupid")
	_, err := goldenMapping(t).ApplyAll(context.Background(), src)
	var es Errors
	require.ErrorAs(t, err, &es)
	var paths []string
	for _, e := range es {
		assert.Equal(t, CodeRequired, e.Code)
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{"unhcr_id_no", "name_first", "name_last"}, paths)
}

func TestGoldenAgencyAndLanguageDefaults(t *testing.T) {
	src := loadJSON(t, "testdata/intervention.json")
	delete(src, "user.progres_partner")
	src["languages.progres_languagecodeid"] = map[string]any{"Name": "Synthetic Language"}
	delete(src, "individuals.progres_coalocationlevel1")
	out, traces, err := goldenMapping(t).ApplyTrace(context.Background(), src)
	require.NoError(t, err)
	svc := out["services_section"].([]any)[0].(map[string]any)
	assert.Equal(t, "UNHCR", svc["service_request_agency"])
	assert.Equal(t, []any{"language6"}, out["language"])
	assert.Equal(t, "Block 3 Row 7 Tent 12", out["address_current"], "empty levels leave no double space")
	byPath := map[string]Trace{}
	for _, tr := range traces {
		byPath[tr.Path] = tr
	}
	assert.True(t, byPath["services_section[0].service_request_agency"].Defaulted)
	assert.True(t, byPath["language"].TableDefault, "the use of the table default is reported")
	assert.False(t, byPath["sex"].TableDefault)
	assert.Equal(t, "individuals.progres_sex", byPath["sex"].Source)
}

func TestGoldenServiceTableInverseRoundTrips(t *testing.T) {
	spec := loadGoldenSpecs(t)["yaml"]
	fwd, ok := spec.TableByName("service_type")
	require.True(t, ok)
	inv, err := fwd.Invert()
	require.NoError(t, err)

	forward := map[string]string{}
	for _, e := range fwd.Entries {
		forward[e.Key] = e.Value
	}
	backward := map[string]string{}
	for _, e := range inv.Entries {
		backward[e.Key] = e.Value
	}
	require.Len(t, backward, 3, "three distinct Primero keys")
	for primero, progres := range backward {
		assert.Equal(t, primero, forward[progres], "forward(inverse(%s)) must give it back", primero)
	}
	for _, progres := range []string{"Alternative Care", "BID", "Family Tracing and Reunification"} {
		assert.Equal(t, progres, backward[forward[progres]])
	}
	assert.Equal(t, "BID", backward[forward["BIA"]], "BIA shares its Primero key with BID; the inverse entry chooses BID")

	// The inverse also runs as a mapping of its own.
	one := &Spec{Name: "svc", Tables: []Table{*fwd}, Rules: []Rule{{Name: "service_type", Target: "services_section[0].service_type", Sources: []string{"interventiontype.progres_description"}, Table: "service_type", Required: true}}}
	ispec, err := one.Invert()
	require.NoError(t, err)
	m := mustCompile(t, ispec)
	for _, progres := range []string{"Alternative Care", "BID", "Family Tracing and Reunification"} {
		fm := mustCompile(t, one)
		mid, err := fm.Apply(context.Background(), Record{"interventiontype.progres_description": progres})
		require.NoError(t, err)
		back, err := m.Apply(context.Background(), mid)
		require.NoError(t, err)
		assert.Equal(t, Record{"interventiontype": map[string]any{"progres_description": progres}}, back)
	}
}

// primeroCaseSchema is a hand-built schema of the Primero case fields the
// golden mapping fills (see docs/systems/primero.md), with the deployment's lookups.
func primeroCaseSchema() *Schema {
	f := map[string]Field{
		"unhcr_individual_no": {Required: true}, "unhcr_id_no": {Required: true},
		"name_first": {Required: true}, "name_middle": {}, "name_last": {Required: true}, "name_nickname": {},
		"date_of_birth": {Type: TypeDate}, "age": {Type: TypeInt, Validate: "min=0,max=130"},
		"sex":               {Allowed: []string{"female", "male", "other_b25f252", "unknown_4b34795"}},
		"telephone_current": {}, "address_current": {}, "language": {Type: TypeList},
		"status":    {Required: true, Allowed: []string{"open", "closed", "transferred", "identified"}},
		"module_id": {Required: true, Allowed: []string{"primeromodule-cp", "primeromodule-gbv"}},
		"case_id":   {}, "owned_by": {Required: true, Validate: "email"},
	}
	svc := "services_section[*]."
	for _, k := range []string{"service_response_day_time", "service_request_title", "service_request_phone",
		"service_request_email", "service_request_agency", "service_referral_notes", "service_implementing_agency",
		"progres_interventionnumber"} {
		f[svc+k] = Field{}
	}
	f[svc+"service_request_external"] = Field{Type: TypeBool}
	f[svc+"service_response_type"] = Field{Allowed: []string{"care_plan", "action_plan", "service_provision"}}
	f[svc+"service_referral"] = Field{Allowed: []string{"internal_referral", "external_referral"}}
	f[svc+"unhcr_referral_status"] = Field{Allowed: []string{"pending", "accepted", "rejected"}}
	f[svc+"service_type"] = Field{Required: true, Allowed: []string{"alternative_care", "focuses_non_specialized_mhpss_care", "food", "education_formal", "medical"}}
	return &Schema{Fields: f}
}

func TestGoldenCompilesAgainstPrimeroSchema(t *testing.T) {
	spec := loadGoldenSpecs(t)["yaml"]
	m, err := Compile(spec, WithSchema(primeroCaseSchema()))
	require.NoError(t, err)
	got, err := m.Apply(context.Background(), loadJSON(t, "testdata/intervention.json"))
	require.NoError(t, err)
	assert.Equal(t, normalizeJSON(t, loadJSON(t, "testdata/primero_case.golden.json")), normalizeJSON(t, got))

	// A misaligned service table (pitfall 17) is caught before any record.
	bad := stripPos(spec)
	bad.File = "progres_to_primero.yaml"
	svc, _ := bad.TableByName("service_type")
	svc.Entries = append([]Entry(nil), svc.Entries...)
	svc.Entries[0].Value = "Psychosocial Service"
	_, err = Compile(&bad, WithSchema(primeroCaseSchema()))
	require.ErrorContains(t, err, `value "Psychosocial Service" is not among the allowed values of services_section[0].service_type`)
}
