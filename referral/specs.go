package referral

import (
	"embed"
	"fmt"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
)

// The Gambella pilot's mapping specs and synthetic information-sharing
// policies ship with the package, as examples that work out of the box
// and as the starting point a deployment copies. A deployment passes its
// own compiled spec and policy in the flow's configuration instead.
//
//go:embed specs/*.yaml policies/*.yaml
var embedded embed.FS

// Names of the embedded mapping specs (referral/specs/<name>.yaml).
const (
	// SpecIntakeDTP maps one DTP PrimeroOutgoingReferral item to a
	// Primero case body.
	SpecIntakeDTP = "gambella-progres-dtp-to-primero"
	// SpecIntakePING maps one PING intervention detail row to a Primero
	// case body.
	SpecIntakePING = "gambella-progres-ping-to-primero"
	// SpecDecisionsOut maps a Primero decision ({case_id, owned_by,
	// service}) to what DTP and PING receive.
	SpecDecisionsOut = "gambella-primero-decision-to-progres"
)

// Names of the embedded synthetic policies (referral/policies/<name>.yaml).
const (
	// PolicyIntake: proGres (UNHCR) refers children to Primero (UNICEF).
	PolicyIntake = "gambella-progres-to-primero"
	// PolicyDecisionsOut: Primero answers those referrals.
	PolicyDecisionsOut = "gambella-primero-decisions-to-progres"
)

// Spec returns an embedded mapping spec, compiled.
func Spec(name string) (*mapping.Mapping, error) {
	b, err := embedded.ReadFile("specs/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("referral: no embedded spec %s", name)
	}
	s, err := mapping.ParseYAML(name+".yaml", b)
	if err != nil {
		return nil, err
	}
	return mapping.Compile(s)
}

// SpecSource returns an embedded spec's YAML, for a deployment to copy.
func SpecSource(name string) ([]byte, error) {
	b, err := embedded.ReadFile("specs/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("referral: no embedded spec %s", name)
	}
	return b, nil
}

// Policy returns an embedded synthetic policy, compiled. The policies are
// examples: a deployment loads the agreement it signed (consent.Load).
func Policy(name string) (*consent.Policy, error) {
	b, err := embedded.ReadFile("policies/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("referral: no embedded policy %s", name)
	}
	return consent.Compile(b)
}
