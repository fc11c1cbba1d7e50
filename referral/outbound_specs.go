package referral

import (
	"embed"
	"fmt"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
)

// outboundFiles are the specs and the example policy of the flows from
// Primero to proGres (referrals) and back (proGres decisions).
//
//go:embed specs/primero_to_progres_dtp.yaml specs/primero_to_progres_ping.yaml specs/progres_decision_to_primero.yaml policies/gambella-primero-unhcr.yaml
var outboundFiles embed.FS

// The names of the embedded outbound specs, for LoadOutboundSpec.
const (
	// SpecReferralDTP maps a Primero referral to a DTP
	// ReceiveIncomingReferral body.
	SpecReferralDTP = "primero_to_progres_dtp"
	// SpecReferralPING maps a Primero referral to the Fields of a PING
	// async ingestion (SHP-2731).
	SpecReferralPING = "primero_to_progres_ping"
	// SpecDecisionIn maps a proGres decision to the Primero referral
	// status and rejection reason.
	SpecDecisionIn = "progres_decision_to_primero"
)

// LoadOutboundSpec compiles one of the embedded specs (SpecReferralDTP,
// SpecReferralPING, SpecDecisionIn). They are the Gambella pilot's tables
// with synthetic proGres GUIDs: a deployment compiles its own spec with
// mapping.ParseYAML and mapping.Compile and passes it in the flow's
// configuration instead.
func LoadOutboundSpec(name string) (*mapping.Mapping, error) {
	file := "specs/" + name + ".yaml"
	b, err := outboundFiles.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("referral: no embedded spec %q", name)
	}
	spec, err := mapping.ParseYAML(file, b)
	if err != nil {
		return nil, err
	}
	return mapping.Compile(spec)
}

// ExampleUNHCRPolicy returns the embedded synthetic information-sharing
// protocol for Primero → UNHCR referrals (policies/gambella-primero-unhcr.yaml):
// an example to adapt, not an agreement anyone signed.
func ExampleUNHCRPolicy() (*consent.Policy, error) {
	b, err := outboundFiles.ReadFile("policies/gambella-primero-unhcr.yaml")
	if err != nil {
		return nil, err
	}
	return consent.Compile(b)
}
