package primero_test

import (
	"context"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestLegacyLoginReusesToken(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithAuthMode(primerotest.AuthLegacyJWT))
	c, err := primero.New(s.URL(), primero.WithLegacyLogin(primerotest.DefaultUser, primerotest.DefaultPassword), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	ctx := context.Background()
	for range 3 {
		_, _, err := c.Cases.List(ctx, nil)
		require.NoError(t, err)
	}
	logins := 0
	for _, r := range s.Requests() {
		if r.Path == "/api/v2/tokens" {
			logins++
		} else {
			assert.Equal(t, primerotest.Redacted, r.Header.Get("Authorization"), "a bearer was sent")
		}
	}
	assert.Equal(t, 1, logins, "the token is reused")
}

func TestLegacyLoginRenewsTokenCloseToExpiry(t *testing.T) {
	// The fake's clock runs 6 minutes behind, so each 10-minute token it
	// issues expires 4 minutes from the client's now: inside the 5-minute
	// renewal margin, so the client logs in again before every request.
	s := primerotest.NewServer(t, primerotest.WithAuthMode(primerotest.AuthLegacyJWT),
		primerotest.WithTokenLifetime(10*time.Minute),
		primerotest.WithClock(func() time.Time { return time.Now().Add(-6 * time.Minute) }))
	c, err := primero.New(s.URL(), primero.WithLegacyLogin(primerotest.DefaultUser, primerotest.DefaultPassword), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	for range 2 {
		_, _, err := c.Cases.List(context.Background(), nil)
		require.NoError(t, err)
	}
	logins := 0
	for _, r := range s.Requests() {
		if r.Path == "/api/v2/tokens" {
			logins++
		}
	}
	assert.Equal(t, 2, logins)
}

func TestBearerAuthModes(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithBearerToken("idp-token-1", primerotest.DefaultUser))
	for name, opt := range map[string]primero.Option{
		"WithToken":  primero.WithToken("idp-token-1"),
		"WithOAuth2": primero.WithOAuth2(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "idp-token-1"})),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := primero.New(s.URL(), opt, primero.WithRetry(fastRetry))
			require.NoError(t, err)
			_, _, err = c.Cases.List(context.Background(), nil)
			require.NoError(t, err)
		})
	}
	c, err := primero.New(s.URL(), primero.WithToken("wrong-token"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	s.ResetRequests()
	_, _, err = c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrUnauthorized)
	assert.Len(t, s.Requests(), 1)
}

func TestSessionOnlyServerRefusesLegacyLogin(t *testing.T) {
	// The login POST answers without a token. (By default the fake, like
	// Primero, refuses a login without a CSRF token first, with 403.)
	q := primerotest.DefaultQuirks()
	q.LoginNeedsCSRF = false
	s := primerotest.NewServer(t, primerotest.WithAuthMode(primerotest.AuthSession), primerotest.WithQuirks(q))
	c, err := primero.New(s.URL(), primero.WithLegacyLogin(primerotest.DefaultUser, primerotest.DefaultPassword), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	_, _, err = c.Cases.List(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use WithBasicAuth")
}

// A v2.11+ server checks the CSRF token before the credentials, so the
// legacy login gets a 403: the error says what to use instead, and the
// password is not posted again.
func TestLegacyLoginAgainstSessionServerSaysUseBasicAuth(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithAuthMode(primerotest.AuthSession))
	c, err := primero.New(s.URL(), primero.WithLegacyLogin(primerotest.DefaultUser, primerotest.DefaultPassword), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	s.ResetRequests()
	for range 3 {
		_, _, err = c.Cases.List(context.Background(), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "use WithBasicAuth")
	}
	assert.Len(t, s.Requests(), 1, "the refused login is posted once")
}
