package consent

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrailAcceptsRealIdentifiers: the shapes real flows write must pass.
func TestTrailAcceptsRealIdentifiers(t *testing.T) {
	ids := map[string]string{
		"primero uuid":        "406b539a-7d2c-4f0e-8a51-6b7c8d9e0f12",
		"short id":            "9e0f12a",
		"case id display":     "CP-9e0f12a",
		"progres individual":  "ETH-12345678",
		"progres numeric":     "123-45678901",
		"progres group":       "803-23-0000001",
		"progres referral no": "REF-IOP-XXX-000000001",
		"composite key":       "406b539a-7d2c-4f0e-8a51-6b7c8d9e0f12#0a1b2c3d4e5f",
		"oscar integer id":    "4711",
		"dhis2 uid":           "DiszpKrYNg8",
		"dhis2 uid no digits": "AbCdEfGhIjK",
		"synthetic case id":   "case-00000001",
		"service unique id":   "svc-0001",
	}
	for name, id := range ids {
		e := Event{Kind: KindDelivery, Flow: "progres-to-primero", Record: RecordRef{System: "primero", ID: id},
			Recipient: "progres/unhcr", Outcome: OutcomeDelivered}
		assert.NoError(t, checkEvent(e), name)
	}
	codes := []string{"consent_missing", "override_reason:imminent_risk", "action:revoke_and_notify", "http_503",
		"consent_overridden", "already_referred", "v2.11"}
	e := Event{Kind: KindDecision, Decision: DecisionDeny, Flow: "example-primero-referral", PolicyID: "isp-primero-unhcr-cp",
		PolicyHash: "sha256:" + strings.Repeat("0a", 32), MappingHash: "sha256:0001", Record: RecordRef{System: "primero-referral", ID: "case-0001"},
		Recipient: "primero/agency-unicef", Reasons: codes, Outcome: "revoked"}
	require.NoError(t, checkEvent(e))
	e.Recipient = "progres/UNHCR"
	require.NoError(t, checkEvent(e), "an agency code in capitals")
}

// TestTrailRefusesFreeTextWithoutSpaces: personal data written without
// spaces (an email, a phone number, a name joined by '_' or '.') is not an
// identifier, in any field, and the error never shows the value.
func TestTrailRefusesFreeTextWithoutSpaces(t *testing.T) {
	values := map[string]string{
		"email":               "test.child@example.org",
		"international phone": "+000555000123",
		"national phone":      "0005550001",
		"phone with dashes":   "000-555-0001",
		"name underscore":     "Testname_Synthetic",
		"name dot":            "Testname.Synthetic",
		"name joined":         "TestnameSynthetic",
		"name camel":          "testnameSynthetic",
		"capitalised word":    "Testname",
		"base64 padding":      "dGVzdA==",
		"leading separator":   "-case-0001",
		"trailing separator":  "case-0001-",
		"double separator":    "case--0001",
		"query string":        "id=1&name=x",
		"unicode letters":     "Tëst",
		"too long":            strings.Repeat("a", 201),
	}
	for name, v := range values {
		for field, e := range map[string]Event{
			"record.id":   {Kind: KindDelivery, Record: RecordRef{System: "primero", ID: v}},
			"reasons[0]":  {Kind: KindDelivery, Reasons: []string{v}},
			"outcome":     {Kind: KindDelivery, Outcome: v},
			"flow":        {Kind: KindDelivery, Flow: v},
			"recipient":   {Kind: KindDelivery, Recipient: v},
			"policy_hash": {Kind: KindDelivery, PolicyHash: v},
		} {
			err := checkEvent(e)
			if assert.Error(t, err, "%s in %s", name, field) {
				assert.Contains(t, err.Error(), field)
				assert.NotContains(t, err.Error(), v)
			}
		}
	}
	tr := NewTrail(&memSink{})
	_, err := tr.Append(context.Background(), Event{Kind: KindDelivery, Record: RecordRef{System: "primero", ID: "Testname_Synthetic"}})
	assert.Error(t, err)
}

// TestTrailHashFieldsAreHashes: policy and mapping hashes are
// "algorithm:hex", nothing else.
func TestTrailHashFieldsAreHashes(t *testing.T) {
	for _, h := range []string{"sha256:" + strings.Repeat("ab", 32), "sha256:0001", "sha1:" + strings.Repeat("f", 40)} {
		assert.NoError(t, checkEvent(Event{Kind: KindDelivery, PolicyHash: h, MappingHash: h}), h)
	}
	for _, h := range []string{"sha256:mapping", "sha256:", "SHA256:AB", "case-0001", "sha256:ab:cd", strings.Repeat("f", 40)} {
		assert.Error(t, checkEvent(Event{Kind: KindDelivery, MappingHash: h}), h)
	}
}
