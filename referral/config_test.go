package referral

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/progres"
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
		{"no gateway", "DTP or PING is required", func() error { _, err := NewIntake(ok); return err }},
		{"both gateways", "set DTP or PING, not both", func() error {
			c := withDTPIntake(ok, h.DTPClient)
			_, err := NewIntake(withPINGIntake(c, h.PINGClient))
			return err
		}},
		{"no Primero", "Primero is required", func() error {
			c := ok
			c.Primero = nil
			_, err := NewIntake(withDTPIntake(c, h.DTPClient))
			return err
		}},
		{"no owner", "DefaultOwner is required", func() error {
			c := ok
			c.DefaultOwner = ""
			_, err := NewIntake(withDTPIntake(c, h.DTPClient))
			return err
		}},
		{"owner with a space", "DefaultOwner must be a user_name", func() error {
			c := ok
			c.DefaultOwner = "intake user"
			_, err := NewIntake(withDTPIntake(c, h.DTPClient))
			return err
		}},
		{"no policy", "Policy is required", func() error {
			c := ok
			c.Policy = nil
			_, err := NewIntake(withDTPIntake(c, h.DTPClient))
			return err
		}},
		{"recipient not in policy", "To is not a receiving party", func() error {
			c := ok
			c.To = consent.Party{System: "oscar", Agency: "ngo-a"}
			_, err := NewIntake(withDTPIntake(c, h.DTPClient))
			return err
		}},
		{"decisions without Primero", "Primero is required", func() error {
			c := decisionsConfig(h)
			c.Primero = nil
			_, err := NewDecisionsOut(withDTPDecisions(c, h.DTPClient))
			return err
		}},
		{"decisions without a gateway", "DTP or PING is required", func() error {
			_, err := NewDecisionsOut(decisionsConfig(h))
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

// A PING flow pushes nothing: asking for its DTP callbacks is an error,
// not a handler that would crash on the first push.
func TestPINGFlowsHaveNoInboundHandler(t *testing.T) {
	h := newHarness(t)
	in, err := NewIntake(withPINGIntake(intakeConfig(h), h.PINGClient))
	require.NoError(t, err)
	_, err = progres.NewHandler(progres.WithAPIKey("", inboundKey), in.HandlerOption())
	require.ErrorContains(t, err, "a PING flow has no inbound handler")
	require.ErrorContains(t, in.OnReferral(context.Background(), progres.Delivery[*progres.OutgoingReferral]{}), "no inbound handler")
	require.ErrorContains(t, in.OnInvalidReferral(context.Background(), progres.InvalidDelivery{}), "no inbound handler")

	d, err := NewDecisionsIn(DecisionsInConfig{Common: h.Common(decisionsPolicy), Primero: h.PrimeroClient,
		Recipient: unhcrUser, PING: h.PINGClient})
	require.NoError(t, err)
	_, err = progres.NewHandler(progres.WithAPIKey("", inboundKey), d.HandlerOption())
	require.ErrorContains(t, err, "a PING flow has no inbound handler")
}
