package primero_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// callSix makes six list calls and checks each fails as unauthorized.
func callSix(t *testing.T, c *primero.Client) {
	t.Helper()
	for i := range 6 {
		_, _, err := c.Cases.List(context.Background(), nil)
		require.ErrorIs(t, err, primero.ErrUnauthorized, "call %d", i+1)
	}
}

func TestBasic401IsSentOnceThenFailsFast(t *testing.T) {
	s := primerotest.NewServer(t)
	c, err := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, "wrong-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	callSix(t, c)
	assert.Equal(t, 1, len(s.Requests()), "the refused credentials were sent again")
	assert.Equal(t, 1, s.FailedLogins(primerotest.DefaultUser))
	assert.False(t, s.Locked(primerotest.DefaultUser), "six calls locked the integration account")
}

func TestLegacyLogin401IsSentOnceThenFailsFast(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithAuthMode(primerotest.AuthLegacyJWT))
	c, err := primero.New(s.URL(), primero.WithLegacyLogin(primerotest.DefaultUser, "wrong-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	callSix(t, c)
	assert.Equal(t, 1, len(s.Requests()), "the refused password was posted again")
	assert.Equal(t, 1, s.FailedLogins(primerotest.DefaultUser))
	assert.False(t, s.Locked(primerotest.DefaultUser))
}

func TestStaticToken401IsSentOnce(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithBearerToken("idp-token-1", primerotest.DefaultUser))
	c, err := primero.New(s.URL(), primero.WithToken("wrong-token"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	callSix(t, c)
	assert.Equal(t, 1, len(s.Requests()))
}

// switchSource returns the stale token until switched, then the good one.
type switchSource struct {
	mu   sync.Mutex
	good bool
}

func (s *switchSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.good {
		return &oauth2.Token{AccessToken: "idp-token-1"}, nil
	}
	return &oauth2.Token{AccessToken: "stale-token"}, nil
}

func (s *switchSource) switchToGood() {
	s.mu.Lock()
	s.good = true
	s.mu.Unlock()
}

func TestOAuth2RefusedTokenNotResentButANewOneIs(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithBearerToken("idp-token-1", primerotest.DefaultUser))
	src := &switchSource{}
	c, err := primero.New(s.URL(), primero.WithOAuth2(src), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	for range 3 {
		_, _, err := c.Cases.List(context.Background(), nil)
		require.ErrorIs(t, err, primero.ErrUnauthorized)
	}
	assert.Equal(t, 1, len(s.Requests()), "the refused token was sent again")
	src.switchToGood()
	_, _, err = c.Cases.List(context.Background(), nil)
	require.NoError(t, err, "a token the server has not refused is sent")
	assert.Equal(t, 2, len(s.Requests()))
}

func TestConcurrentCallsAfter401SendNothing(t *testing.T) {
	s := primerotest.NewServer(t)
	c, err := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, "wrong-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	_, _, err = c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrUnauthorized)

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, _, err := c.Cases.List(context.Background(), nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, primero.ErrUnauthorized)
	}
	assert.Equal(t, 1, len(s.Requests()), "goroutines started after the 401 sent the credentials again")
	assert.False(t, s.Locked(primerotest.DefaultUser))
	assert.Equal(t, 1, s.FailedLogins(primerotest.DefaultUser))
	assert.Zero(t, countMethod(s, http.MethodPost))
}
