package referral

import (
	"testing"

	"github.com/casebridge/casebridge/consent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each constructor refuses an incomplete configuration, naming the field.
func TestFlowConstructorsNameTheMissingField(t *testing.T) {
	h := newHarness(t)
	ok := intakeConfig(h)
	cases := []struct {
		name, want string
		make       func() error
	}{
		{"no DTP", "DTP is required", func() error { _, err := NewDTPIntake(DTPIntakeConfig{IntakeConfig: ok}); return err }},
		{"no PING", "PING is required", func() error { _, err := NewPINGIntake(PINGIntakeConfig{IntakeConfig: ok}); return err }},
		{"no Primero", "Primero is required", func() error {
			c := ok
			c.Primero = nil
			_, err := NewDTPIntake(DTPIntakeConfig{IntakeConfig: c, DTP: h.DTPClient})
			return err
		}},
		{"no owner", "DefaultOwner is required", func() error {
			c := ok
			c.DefaultOwner = ""
			_, err := NewDTPIntake(DTPIntakeConfig{IntakeConfig: c, DTP: h.DTPClient})
			return err
		}},
		{"owner with a space", "DefaultOwner must be a user_name", func() error {
			c := ok
			c.DefaultOwner = "intake user"
			_, err := NewDTPIntake(DTPIntakeConfig{IntakeConfig: c, DTP: h.DTPClient})
			return err
		}},
		{"no policy", "Policy is required", func() error {
			c := ok
			c.Policy = nil
			_, err := NewDTPIntake(DTPIntakeConfig{IntakeConfig: c, DTP: h.DTPClient})
			return err
		}},
		{"recipient not in policy", "Recipient is not a receiving party", func() error {
			c := ok
			c.Recipient = consent.Party{System: "oscar", Agency: "ngo-a"}
			_, err := NewDTPIntake(DTPIntakeConfig{IntakeConfig: c, DTP: h.DTPClient})
			return err
		}},
		{"decisions without Primero", "Primero is required", func() error {
			c := decisionsConfig(h)
			c.Primero = nil
			_, err := NewDTPDecisions(DTPDecisionsConfig{DecisionsOutConfig: c, DTP: h.DTPClient})
			return err
		}},
		{"decisions without PING", "PING is required", func() error {
			_, err := NewPINGDecisions(PINGDecisionsConfig{DecisionsOutConfig: decisionsConfig(h)})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.make()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
