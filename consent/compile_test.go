package consent

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompileReadsPolicy(t *testing.T) {
	p := loadTestPolicy(t)
	assert.Equal(t, "isp-primero-unhcr-cp", p.ID())
	assert.Equal(t, "3", p.Version())
	assert.Equal(t, "child_protection_referral", p.Purpose())
	assert.Equal(t, Party{System: "primero", Agency: "unicef"}, p.Sender())
	assert.Equal(t, []Party{unhcr, {System: "oscar", Agency: "ngo-a"}}, p.Receivers())
	assert.Equal(t, []string{"consent_for_services", "disclosure_other_orgs"}, p.ConsentFields())
	assert.Equal(t, RevokeAndNotify, p.RevocationAction())
	assert.Contains(t, p.Fields(), "services_section[*].service_type")
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, p.Hash())
}

func TestPolicyHashIsCanonical(t *testing.T) {
	src := testPolicySource(t)
	p := loadTestPolicy(t)

	// Comments, key order, flow style and list order do not change the hash.
	reordered := `revocation: {action: revoke_and_notify}
override: {permitted: true, reasons: [court_order, imminent_risk]}
fields: ["languages[*]", "services_section[*].unique_id", "services_section[*].service_type", location.code, date_of_birth, sex, name_first, case_id]
services: {allowed: [psychosocial, health_medical, alternative_care], field: "services_section[*].service_type"}
conditions:
  assent: [{require: [child_assent], under: 18}]
  age: {age: age, date_of_birth: date_of_birth}
  revoked_field: consent_withdrawn
  consent: [disclosure_other_orgs, consent_for_services]
purpose: child_protection_referral
parties:
  receiving: [{agency: ngo-a, system: oscar}, {agency: unhcr, system: progres}]
  sending: {agency: unicef, system: primero}
version: "3"
id: isp-primero-unhcr-cp  # same policy, different text
`
	q, err := Compile([]byte(reordered))
	require.NoError(t, err)
	assert.Equal(t, p.Hash(), q.Hash())

	// Any change of meaning changes the hash.
	for _, change := range [][2]string{
		{`version: "3"`, `version: "4"`},
		{"  - sex\n", ""},
		{"under: 18", "under: 16"},
		{"permitted: true\n  reasons: [imminent_risk, court_order]", "permitted: true\n  reasons: [imminent_risk]"},
		{"action: revoke_and_notify", "action: notify"},
		{"agency: ngo-a", "agency: ngo-b"},
	} {
		changed := strings.Replace(src, change[0], change[1], 1)
		require.NotEqual(t, src, changed, change[0])
		r, err := Compile([]byte(changed))
		require.NoError(t, err, change[0])
		assert.NotEqual(t, p.Hash(), r.Hash(), change[0])
	}
}

func TestCompileRejectsInvalidPolicies(t *testing.T) {
	src := testPolicySource(t)
	lineIn := func(t *testing.T, text, s string) int {
		i := strings.Index(text, s)
		require.GreaterOrEqual(t, i, 0, s)
		return strings.Count(text[:i], "\n") + 1
	}
	cases := []struct {
		name      string
		from, to  string
		at        string // the error is on the line holding this text (in the bad policy)
		off       int    // plus this many lines
		path, msg string
	}{
		{"missing id", "id: isp-primero-unhcr-cp\n", "", "version:", 0, "id", "required"},
		{"bad id", "id: isp-primero-unhcr-cp", "id: isp primero", "id:", 0, "id", "only letters"},
		{"empty version", `version: "3"`, `version: ""`, "version:", 0, "version", "required"},
		{"unknown key", "purpose: child", "purpos: child", "purpos:", 0, "purpos", "unknown key"},
		{"duplicate key", "purpose: child_protection_referral\n", "purpose: child_protection_referral\npurpose: x\n", "purpose:", 1, "purpose", "duplicate key"},
		{"receiving agency missing", "- {system: progres, agency: unhcr}", "- {system: progres}", "- {system: progres", 0, "parties.receiving[0].agency", "required"},
		{"agency with spaces", "agency: ngo-a}", "agency: NGO A}", "agency: NGO A", 0, "parties.receiving[1].agency", "identifier"},
		{"agency that is a name", "agency: ngo-a}", "agency: Testname_Agency}", "agency: Testname", 0, "parties.receiving[1].agency", "identifier"},
		{"id that is a name", "id: isp-primero-unhcr-cp", "id: Testname.Policy", "id:", 0, "id", "only letters"},
		{"override reason that is a name", "reasons: [imminent_risk, court_order]", "reasons: [imminent_risk, Court_Order]", "reasons:", 0, "override.reasons[1]", "code"},
		{"duplicate receiver", "- {system: oscar, agency: ngo-a}", "- {system: progres, agency: unhcr}", "- {system: progres", 1, "parties.receiving[1]", "duplicate receiving party"},
		{"no consent fields", "consent: [consent_for_services, disclosure_other_orgs]", "consent: []", "consent: [", 0, "conditions.consent", "at least one"},
		{"list consent field", "consent: [consent_for_services,", "consent: [\"a[*].b\",", "consent: [", 0, "conditions.consent[0]", "one value"},
		{"bad path", "  - location.code\n", "  - location..code\n", "  - location..code", 0, "fields[4]", "empty key"},
		{"overlapping paths", "  - location.code\n", "  - location\n  - location.code\n", "  - location.code", 0, "fields[5]", "overlaps"},
		{"list disagreement", "  - languages[*]\n", "  - languages[*]\n  - services_section.x\n", "  - languages", 1, "fields[8]", "list"},
		{"duplicate field", "  - sex\n", "  - sex\n  - sex\n", "  - sex", 1, "fields[3]", "duplicate path"},
		{"under not a number", "under: 18", "under: eighteen", "under:", 0, "", "whole number"},
		{"under out of range", "under: 18", "under: 0", "under:", 0, "conditions.assent[0].under", "between 1 and 150"},
		{"permitted not a bool", "permitted: true", "permitted: \"yes\"", "permitted:", 0, "", "true or false"},
		{"override without reasons", "  reasons: [imminent_risk, court_order]\n", "", "  permitted:", 0, "override.reasons", "named reason"},
		{"bad revocation action", "action: revoke_and_notify", "action: forget", "action:", 0, "revocation.action", "must be"},
		{"no services allowed", "allowed: [alternative_care, health_medical, psychosocial]", "allowed: []", "  field: services", 0, "services.allowed", "at least one"},
		{"text where mapping expected", "sending: {system: primero, agency: unicef}", "sending: unicef", "sending:", 0, "", "expected a mapping"},
		{"invalid yaml", "purpose: child_protection_referral", "purpose: [unclosed", "purpose:", 0, "", "invalid YAML"},
		{"duplicate assent age", "      require: [child_assent]\n", "      require: [child_assent]\n    - under: 18\n      require: [x]\n", "    - under: 18\n      require: [x]", 0, "conditions.assent[1].under", "already uses"},
		{"assent without age", "  age:\n    date_of_birth: date_of_birth\n    age: age\n", "", "    - under", 0, "conditions.assent", "conditions.age"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(src, tc.from, tc.to, 1)
			require.NotEqual(t, src, bad)
			p, err := Compile([]byte(bad))
			require.Error(t, err)
			assert.Nil(t, p)
			var pe *PolicyError
			require.True(t, errors.As(err, &pe), "%v", err)
			line := lineIn(t, bad, tc.at) + tc.off
			if strings.HasPrefix(pe.Reason, "invalid YAML") {
				// the YAML scanner may point at the line before the problem
				assert.InDelta(t, line, pe.Line, 1, "%v", err)
			} else {
				assert.Equal(t, line, pe.Line, "%v", err)
			}
			if tc.path != "" {
				assert.Equal(t, tc.path, pe.Path, "%v", err)
			}
			assert.Contains(t, pe.Reason, tc.msg)
			assert.Contains(t, err.Error(), "line ")
		})
	}
}

func TestCompileRejectsEmptyAndMultiDocument(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "---\n"} {
		_, err := Compile([]byte(src))
		assert.Error(t, err, "%q", src)
	}
	_, err := Compile([]byte(testPolicySource(t) + "---\nid: second\n"))
	assert.ErrorContains(t, err, "more than one YAML document")
}

func TestCompileReportsEveryProblem(t *testing.T) {
	_, err := Compile([]byte("id: x\n"))
	require.Error(t, err)
	for _, key := range []string{"version", "purpose", "parties", "conditions", "services", "fields", "override", "revocation"} {
		assert.Contains(t, err.Error(), key+": ")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	assert.Error(t, err)
}
