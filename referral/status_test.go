package referral

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allStatuses = []Status{Pending, Accepted, Rejected, Done, Revoked}

// TestStatusMachine checks every pair of statuses against the one table of
// allowed transitions, so that any change to the machine shows here.
func TestStatusMachine(t *testing.T) {
	allowed := map[[2]Status]bool{
		{Pending, Accepted}: true, {Pending, Rejected}: true, {Pending, Revoked}: true,
		{Accepted, Done}: true, {Accepted, Revoked}: true,
	}
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			got, err := from.Next(to)
			switch {
			case from == to:
				assert.ErrorIs(t, err, ErrUnchanged, "%s → %s", from, to)
				assert.Equal(t, from, got)
			case allowed[[2]Status{from, to}]:
				assert.NoError(t, err, "%s → %s", from, to)
				assert.Equal(t, to, got)
			default:
				var te *TransitionError
				require.ErrorAs(t, err, &te, "%s → %s must be refused", from, to)
				assert.ErrorIs(t, err, ErrInvalidTransition)
				assert.Equal(t, from, got, "a refused transition keeps the status")
			}
		}
	}
}

func TestStatusFinal(t *testing.T) {
	for _, s := range allStatuses {
		want := s == Rejected || s == Done || s == Revoked
		assert.Equal(t, want, s.Final(), string(s))
	}
	assert.False(t, Status("").Final(), "no status is not final")
}

// An unknown status never passes, and the error does not echo it (it may
// come from a server).
func TestStatusUnknownRefusedWithoutEcho(t *testing.T) {
	for _, s := range []Status{"", "in_progress", "Jane Doe"} {
		_, err := s.Next(Accepted)
		require.ErrorIs(t, err, ErrInvalidTransition, "from %q", s)
		assert.NotContains(t, err.Error(), "Jane")
		_, err = Pending.Next(s)
		require.ErrorIs(t, err, ErrInvalidTransition, "to %q", s)
		assert.NotContains(t, err.Error(), "Jane")
		assert.False(t, errors.Is(err, ErrUnchanged))
	}
}

func TestReferralMove(t *testing.T) {
	r := &Referral{Status: Pending}
	require.NoError(t, r.Move(Rejected, "125080001"))
	assert.Equal(t, Rejected, r.Status)
	assert.Equal(t, "125080001", r.Reason)

	err := r.Move(Accepted, "")
	require.ErrorIs(t, err, ErrInvalidTransition)
	assert.Equal(t, Rejected, r.Status, "a refused move leaves the referral as it was")
	assert.Equal(t, "125080001", r.Reason)

	assert.ErrorIs(t, r.Move(Rejected, "other"), ErrUnchanged)
	assert.Equal(t, "125080001", r.Reason, "an unchanged move keeps the first reason")

	a := &Referral{Status: Pending}
	require.NoError(t, a.Move(Accepted, "ignored"))
	assert.Empty(t, a.Reason, "only rejections and revocations carry a reason")
}

func TestReferralValidate(t *testing.T) {
	ok := Referral{Status: Pending, Services: []Service{{ID: "s1", Type: "alternative_care"}}}
	ok.Key.System, ok.Key.ID = "progres", "803-23-PRTITV-0000123"
	require.NoError(t, ok.Validate())

	noKey := ok
	noKey.Key.ID = ""
	assert.ErrorContains(t, noKey.Validate(), "Key")

	badStatus := ok
	badStatus.Status = "open"
	assert.ErrorContains(t, badStatus.Validate(), "Status")

	noType := ok
	noType.Services = []Service{{ID: "s1"}}
	assert.ErrorContains(t, noType.Validate(), "Services[0].Type")
}
