package progres_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/require"
)

// fastRetry keeps retrying tests quick: Retry-After is capped at 5ms.
var fastRetry = progres.RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Millisecond}

// newDTP returns a client for the fake with its client certificate.
func newDTP(t testing.TB, s *progrestest.DTPServer, opts ...progres.Option) *progres.DTPClient {
	t.Helper()
	all := append([]progres.Option{
		progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificate(s.ClientCert().TLS),
		progres.WithRootCAs(s.CA().Pool()),
		progres.WithRetry(fastRetry),
	}, opts...)
	c, err := progres.NewDTP(s.BaseURL(), all...)
	require.NoError(t, err)
	return c
}

// sampleReferral is a valid synthetic referral to UNHCR.
func sampleReferral(t testing.TB) *progres.IncomingReferral {
	t.Helper()
	k, err := progres.ParseReferralKey(testKey)
	require.NoError(t, err)
	return &progres.IncomingReferral{
		ID: k, PrimeroUser: "cw1", Position: "Case worker", Email: "cw1@example.org", Phone: "000-test",
		FullName: "Test Worker 1", ServiceImplementingAgency: "UNICEF", OwnedByAgencyID: "UNICEF",
		ServiceResponseDayTime: time.Date(2025, 2, 1, 9, 0, 0, 0, time.UTC), ServiceType: "Alternative Care",
		ServiceReferralNotes: "Primero referral", UNHCRIndividualNo: "000-00000001", UNHCRIDNo: "000-23-0000001",
		NameFirst: "Test", NameLast: "Child 1", DateOfBirth: "2016-07-19", Sex: "unknown", Language: "Nuer, Somali",
	}
}

// errorsAs is errors.As (kept here so that fuzz targets read plainly).
func errorsAs(err error, target any) bool { return errors.As(err, target) }

// roundTripFunc is an http.RoundTripper that is not an *http.Transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
