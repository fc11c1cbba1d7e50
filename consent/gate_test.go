package consent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckAllowsRecordMeetingEveryCondition(t *testing.T) {
	p := loadTestPolicy(t)
	d := p.Check(okRecord(), okRequest())
	assert.True(t, d.Allowed)
	assert.Nil(t, d.Reasons)
	assert.Equal(t, "isp-primero-unhcr-cp", d.PolicyID)
	assert.Equal(t, p.Hash(), d.PolicyHash)
}

func TestCheckConsentDefaultDeny(t *testing.T) {
	p := loadTestPolicy(t)
	cases := []struct {
		name  string
		value any
		del   bool
		want  Reason
	}{
		{"missing", nil, true, ReasonConsentMissing},
		{"null", nil, false, ReasonConsentMissing},
		{"empty string", "", false, ReasonConsentMissing},
		{"blank string", "   ", false, ReasonConsentMissing},
		{"false", false, false, ReasonConsentFalse},
		{"string yes without declared strings", "yes", false, ReasonConsentInvalid},
		{"string true without declared strings", "true", false, ReasonConsentInvalid},
		{"number 1", float64(1), false, ReasonConsentInvalid},
		{"json number", json.Number("1"), false, ReasonConsentInvalid},
		{"int", 1, false, ReasonConsentInvalid},
		{"list", []any{true}, false, ReasonConsentInvalid},
		{"object", map[string]any{"value": true}, false, ReasonConsentInvalid},
		{"time", time.Now(), false, ReasonConsentInvalid},
	}
	for _, field := range []string{"consent_for_services", "disclosure_other_orgs"} {
		for _, tc := range cases {
			t.Run(field+"/"+tc.name, func(t *testing.T) {
				rec := okRecord()
				if tc.del {
					delete(rec, field)
				} else {
					rec[field] = tc.value
				}
				d := p.Check(rec, okRequest())
				assert.False(t, d.Allowed)
				assert.Equal(t, []Reason{tc.want}, d.Reasons)
				assert.Equal(t, []string{field}, d.Fields)
			})
		}
	}
}

func TestCheckDeniesNilAndEmptyRecords(t *testing.T) {
	p := loadTestPolicy(t)
	for _, rec := range []mapping.Record{nil, {}} {
		d := p.Check(rec, okRequest())
		assert.False(t, d.Allowed)
		assert.True(t, d.Has(ReasonConsentMissing))
		assert.True(t, d.Has(ReasonServiceMissing))
	}
}

func TestCheckDeclaredStrings(t *testing.T) {
	src := strings.Replace(testPolicySource(t), "  revoked_field: consent_withdrawn\n",
		"  revoked_field: consent_withdrawn\n  strings:\n    true_values: [\"yes\", \"true\"]\n    false_values: [\"no\"]\n", 1)
	p, err := Compile([]byte(src))
	require.NoError(t, err)
	for _, tc := range []struct {
		value any
		want  []Reason
	}{
		{"yes", nil},
		{" YES ", nil},
		{"True", nil},
		{true, nil},
		{"no", []Reason{ReasonConsentFalse}},
		{"maybe", []Reason{ReasonConsentInvalid}},
		{"1", []Reason{ReasonConsentInvalid}},
	} {
		rec := okRecord()
		rec["consent_for_services"] = tc.value
		d := p.Check(rec, okRequest())
		assert.Equal(t, tc.want == nil, d.Allowed, "%v", tc.value)
		assert.Equal(t, tc.want, d.Reasons, "%v", tc.value)
	}
}

func TestCheckRevokedField(t *testing.T) {
	p := loadTestPolicy(t)
	rec := okRecord()
	rec["consent_withdrawn"] = true
	d := p.Check(rec, okRequest())
	assert.False(t, d.Allowed)
	assert.Equal(t, []Reason{ReasonConsentRevoked}, d.Reasons)

	// false or absent: not revoked
	rec["consent_withdrawn"] = false
	assert.True(t, p.Check(rec, okRequest()).Allowed)

	// a revocation cannot be overridden
	rec["consent_withdrawn"] = true
	req := okRequest()
	req.Override = &Override{Reason: "imminent_risk"}
	d = p.Check(rec, req)
	assert.False(t, d.Allowed)
	assert.True(t, d.Has(ReasonConsentRevoked))
}

func TestCheckAssent(t *testing.T) {
	p := loadTestPolicy(t)
	cases := []struct {
		name   string
		mutate func(mapping.Record)
		want   []Reason
	}{
		{"adult by dob needs no assent", func(r mapping.Record) {}, nil},
		{"minor by dob without assent", func(r mapping.Record) { r["date_of_birth"] = "2012-01-01" }, []Reason{ReasonAssentMissing}},
		{"minor by dob with assent", func(r mapping.Record) { r["date_of_birth"] = "2012-01-01"; r["child_assent"] = true }, nil},
		{"minor with assent false", func(r mapping.Record) { r["date_of_birth"] = "2012-01-01"; r["child_assent"] = false }, []Reason{ReasonAssentFalse}},
		{"minor with assent string", func(r mapping.Record) { r["date_of_birth"] = "2012-01-01"; r["child_assent"] = "yes" }, []Reason{ReasonAssentMissing}},
		{"18th birthday is the day after asOf", func(r mapping.Record) { r["date_of_birth"] = "2008-06-02" }, []Reason{ReasonAssentMissing}},
		{"18th birthday on asOf", func(r mapping.Record) { r["date_of_birth"] = "2008-06-01" }, nil},
		{"dob as timestamp", func(r mapping.Record) { r["date_of_birth"] = "2012-01-01T00:00:00Z" }, []Reason{ReasonAssentMissing}},
		{"dob as time.Time", func(r mapping.Record) { r["date_of_birth"] = time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC) }, []Reason{ReasonAssentMissing}},
		{"dob wins over age", func(r mapping.Record) { r["date_of_birth"] = "2012-01-01"; r["age"] = float64(30) }, []Reason{ReasonAssentMissing}},
		{"age field when no dob: minor", func(r mapping.Record) { delete(r, "date_of_birth"); r["age"] = float64(12) }, []Reason{ReasonAssentMissing}},
		{"age field when no dob: adult", func(r mapping.Record) { delete(r, "date_of_birth"); r["age"] = float64(19) }, nil},
		{"age as json.Number", func(r mapping.Record) { delete(r, "date_of_birth"); r["age"] = json.Number("19") }, nil},
		{"unparseable dob falls back to age", func(r mapping.Record) { r["date_of_birth"] = "01/02/2000"; r["age"] = float64(26) }, nil},
		{"unknown age requires assent", func(r mapping.Record) { delete(r, "date_of_birth"); delete(r, "age") }, []Reason{ReasonAssentMissing, ReasonAgeUnknown}},
		{"fractional age is unknown", func(r mapping.Record) { delete(r, "date_of_birth"); r["age"] = 19.5 }, []Reason{ReasonAssentMissing, ReasonAgeUnknown}},
		{"future dob is unknown", func(r mapping.Record) { r["date_of_birth"] = "2030-01-01"; delete(r, "age") }, []Reason{ReasonAssentMissing, ReasonAgeUnknown}},
		{"unknown age with assent passes", func(r mapping.Record) { delete(r, "date_of_birth"); delete(r, "age"); r["child_assent"] = true }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := okRecord()
			tc.mutate(rec)
			d := p.Check(rec, okRequest())
			assert.Equal(t, tc.want == nil, d.Allowed)
			assert.Equal(t, tc.want, d.Reasons)
		})
	}
}

func TestCheckAssentUsesRequestDate(t *testing.T) {
	p := loadTestPolicy(t)
	rec := okRecord()
	rec["date_of_birth"] = "2010-01-01"
	req := okRequest()
	req.AsOf = time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC) // 17
	assert.True(t, p.Check(rec, req).Has(ReasonAssentMissing))
	req.AsOf = time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC) // 18
	assert.True(t, p.Check(rec, req).Allowed)
}

func TestCheckServices(t *testing.T) {
	p := loadTestPolicy(t)
	svc := func(types ...any) []any {
		var out []any
		for _, ty := range types {
			out = append(out, map[string]any{"service_type": ty})
		}
		return out
	}
	cases := []struct {
		name     string
		services any
		reqType  string
		want     []Reason
	}{
		{"allowed from record", svc("alternative_care"), "", nil},
		{"all allowed", svc("alternative_care", "psychosocial"), "", nil},
		{"one not allowed", svc("alternative_care", "legal_aid"), "", []Reason{ReasonServiceNotAllowed}},
		{"non-string type", svc(float64(3)), "", []Reason{ReasonServiceNotAllowed}},
		{"null type", svc(nil), "", []Reason{ReasonServiceNotAllowed}},
		{"empty list", []any{}, "", []Reason{ReasonServiceMissing}},
		{"not a list", map[string]any{"service_type": "alternative_care"}, "", []Reason{ReasonServiceMissing}},
		{"typed slice", []map[string]any{{"service_type": "health_medical"}}, "", nil},
		{"request type wins", svc("legal_aid"), "psychosocial", nil},
		{"request type not allowed", svc("alternative_care"), "legal_aid", []Reason{ReasonServiceNotAllowed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := okRecord()
			rec["services_section"] = tc.services
			req := okRequest()
			req.ServiceType = tc.reqType
			d := p.Check(rec, req)
			assert.Equal(t, tc.want == nil, d.Allowed)
			assert.Equal(t, tc.want, d.Reasons)
		})
	}
}

func TestCheckRequestLevelReasons(t *testing.T) {
	p := loadTestPolicy(t)
	cases := []struct {
		name   string
		mutate func(*Request)
		want   []Reason
	}{
		{"second receiving party", func(r *Request) { r.Recipient = Party{System: "oscar", Agency: "ngo-a"} }, nil},
		{"recipient not party", func(r *Request) { r.Recipient = Party{System: "progres", Agency: "other"} }, []Reason{ReasonRecipientNotParty}},
		{"empty recipient", func(r *Request) { r.Recipient = Party{} }, []Reason{ReasonRecipientNotParty}},
		{"sender matches", func(r *Request) { r.Sender = Party{System: "primero", Agency: "unicef"} }, nil},
		{"sender not party", func(r *Request) { r.Sender = Party{System: "primero", Agency: "other"} }, []Reason{ReasonSenderNotParty}},
		{"purpose mismatch", func(r *Request) { r.Purpose = "research" }, []Reason{ReasonPurposeMismatch}},
		{"override reason missing", func(r *Request) { r.Override = &Override{} }, []Reason{ReasonOverrideReasonMissing}},
		{"override reason unknown", func(r *Request) { r.Override = &Override{Reason: "convenience"} }, []Reason{ReasonOverrideReasonUnknown}},
		{"several at once", func(r *Request) { r.Recipient = Party{}; r.Purpose = "" }, []Reason{ReasonRecipientNotParty, ReasonPurposeMismatch}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := okRequest()
			tc.mutate(&req)
			d := p.Gate(req).Check(okRecord())
			assert.Equal(t, tc.want == nil, d.Allowed)
			assert.Equal(t, tc.want, d.Reasons)
		})
	}
}

func TestCheckOverride(t *testing.T) {
	p := loadTestPolicy(t)
	rec := okRecord()
	rec["consent_for_services"] = false
	req := okRequest()
	req.Override = &Override{Reason: "court_order"}
	d := p.Check(rec, req)
	assert.True(t, d.Allowed)
	assert.True(t, d.Overridden)
	assert.Equal(t, "court_order", d.OverrideReason)
	assert.Equal(t, []Reason{ReasonConsentOverridden, ReasonConsentFalse}, d.Reasons)

	// an override does not lift a service, recipient or purpose denial
	rec["services_section"] = []any{map[string]any{"service_type": "legal_aid"}}
	d = p.Check(rec, req)
	assert.False(t, d.Allowed)
	assert.False(t, d.Overridden)
	assert.Equal(t, []Reason{ReasonConsentFalse, ReasonServiceNotAllowed}, d.Reasons)

	// an override with an ok record is a plain allow
	d = p.Check(okRecord(), req)
	assert.True(t, d.Allowed)
	assert.False(t, d.Overridden)
}

func TestCheckOverrideNotPermitted(t *testing.T) {
	src := strings.Replace(testPolicySource(t), "  permitted: true\n  reasons: [imminent_risk, court_order]\n", "  permitted: false\n", 1)
	p, err := Compile([]byte(src))
	require.NoError(t, err)
	rec := okRecord()
	rec["consent_for_services"] = false
	req := okRequest()
	req.Override = &Override{Reason: "court_order"}
	d := p.Check(rec, req)
	assert.False(t, d.Allowed)
	assert.Equal(t, []Reason{ReasonOverrideNotPermitted, ReasonConsentFalse}, d.Reasons)
	// even a record that would pass is denied when an impermissible override is asked
	assert.Equal(t, []Reason{ReasonOverrideNotPermitted}, p.Check(okRecord(), req).Reasons)
}

func TestShareReturnsNilWhenDenied(t *testing.T) {
	p := loadTestPolicy(t)
	g := p.Gate(okRequest())
	rec := okRecord()
	out, d := g.Share(rec)
	require.True(t, d.Allowed)
	assert.Equal(t, "Test", out["name_first"])
	assert.NotContains(t, out, "name_last")

	rec["disclosure_other_orgs"] = "yes"
	out, d = g.Share(rec)
	assert.False(t, d.Allowed)
	assert.Nil(t, out)
}

func TestCheckDoesNotMutateRecord(t *testing.T) {
	p := loadTestPolicy(t)
	rec := okRecord()
	before, _ := json.Marshal(rec)
	p.Check(rec, okRequest())
	p.Filter(rec)
	after, _ := json.Marshal(rec)
	assert.JSONEq(t, string(before), string(after))
}

// TestCheckRevokedFieldFailsClosed: only an absent or null revoked_field,
// or an explicit false, means "not revoked". Every other value (a string
// that looks true, a number, a date, a list, an empty string) is read as
// withdrawn: the gate denies, and the revocation reaches the flows.
func TestCheckRevokedFieldFailsClosed(t *testing.T) {
	p := loadTestPolicy(t)
	notRevoked := map[string]func(mapping.Record){
		"absent": func(r mapping.Record) { delete(r, "consent_withdrawn") },
		"null":   func(r mapping.Record) { r["consent_withdrawn"] = nil },
		"false":  func(r mapping.Record) { r["consent_withdrawn"] = false },
	}
	for name, mutate := range notRevoked {
		rec := okRecord()
		mutate(rec)
		assert.True(t, p.Check(rec, okRequest()).Allowed, name)
	}
	withdrawn := map[string]any{
		"string true": "true", "yes": "yes", "string false": "false", "one": float64(1), "zero": float64(0),
		"a date": "2026-01-15", "a list": []any{true}, "an object": map[string]any{"v": false},
		"empty string": "", "blank string": "  ",
	}
	for name, v := range withdrawn {
		t.Run(name, func(t *testing.T) {
			rec := okRecord()
			rec["consent_withdrawn"] = v
			d := p.Check(rec, okRequest())
			assert.False(t, d.Allowed)
			assert.Equal(t, []Reason{ReasonConsentRevoked, ReasonRevocationInvalid}, d.Reasons)
			assert.Equal(t, []string{"consent_withdrawn"}, d.Fields)
			// An override never lifts it.
			req := okRequest()
			req.Override = &Override{Reason: "imminent_risk"}
			assert.False(t, p.Check(rec, req).Allowed)
			// And the flows are told to act for every recipient.
			revs := p.Revocations(ref, rec, sharedList(), asOf)
			require.Len(t, revs, 2)
			assert.Equal(t, []Reason{ReasonConsentRevoked, ReasonRevocationInvalid}, revs[0].Reasons)
		})
	}
}

// TestCheckRevokedFieldDeclaredStrings: with conditions.strings, a declared
// false string is an explicit false and a declared true string revokes.
func TestCheckRevokedFieldDeclaredStrings(t *testing.T) {
	src := strings.Replace(testPolicySource(t), "  revoked_field: consent_withdrawn\n",
		"  revoked_field: consent_withdrawn\n  strings: {true_values: [\"yes\"], false_values: [\"no\"]}\n", 1)
	p, err := Compile([]byte(src))
	require.NoError(t, err)
	rec := okRecord()
	rec["consent_withdrawn"] = "No"
	assert.True(t, p.Check(rec, okRequest()).Allowed)
	rec["consent_withdrawn"] = "yes"
	assert.Equal(t, []Reason{ReasonConsentRevoked}, p.Check(rec, okRequest()).Reasons)
	rec["consent_withdrawn"] = "maybe"
	assert.Equal(t, []Reason{ReasonConsentRevoked, ReasonRevocationInvalid}, p.Check(rec, okRequest()).Reasons)
}

func TestEveryReasonHasADescription(t *testing.T) {
	for r := range descriptions {
		assert.NotEqual(t, string(r), r.Describe(), r)
		assert.True(t, IsIdentifier(string(r)), "reason code %s must pass the audit check", r)
	}
	assert.Len(t, descriptions, 17, "a new reason code needs a description")
	assert.Equal(t, "http_503", Reason("http_503").Describe())
}

// TestCheckNestedRevokedField: a revoked_field inside an object is absent
// when the object is, and withdrawn when the path runs through a value
// that is not an object.
func TestCheckNestedRevokedField(t *testing.T) {
	src := strings.Replace(testPolicySource(t), "revoked_field: consent_withdrawn", "revoked_field: consent.withdrawn", 1)
	p, err := Compile([]byte(src))
	require.NoError(t, err)
	for name, v := range map[string]any{"absent object": nil, "false": map[string]any{"withdrawn": false}, "empty object": map[string]any{}} {
		rec := okRecord()
		if v != nil {
			rec["consent"] = v
		}
		assert.True(t, p.Check(rec, okRequest()).Allowed, name)
	}
	for name, v := range map[string]any{"true": map[string]any{"withdrawn": true}, "not an object": "withdrawn", "a list": []any{false}} {
		rec := okRecord()
		rec["consent"] = v
		assert.True(t, p.Check(rec, okRequest()).Has(ReasonConsentRevoked), name)
	}
}
