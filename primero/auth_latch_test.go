package primero_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// callSix makes six list calls and checks each fails as unauthorized, the
// five after the first without being sent.
func callSix(t *testing.T, c *primero.Client) {
	t.Helper()
	for i := range 6 {
		_, _, err := c.Cases.List(context.Background(), nil)
		require.ErrorIs(t, err, primero.ErrUnauthorized, "call %d", i+1)
		if i > 0 {
			require.ErrorIs(t, err, primero.ErrCredentialsRejected, "call %d", i+1)
		}
	}
}

func TestBasic401IsSentOnceThenFailsFast(t *testing.T) {
	s := primerotest.NewServer(t)
	c := wrongPasswordClient(t, s)
	callSix(t, c)
	assert.Equal(t, 1, len(s.Requests()), "the refused credentials were sent again")
	assert.Equal(t, 1, s.FailedLogins(primerotest.DefaultUser))
	assert.False(t, s.Locked(primerotest.DefaultUser), "six calls locked the integration account")

	c.ResetAuth()
	_, _, err := c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrUnauthorized)
	assert.NotErrorIs(t, err, primero.ErrCredentialsRejected, "sent again after ResetAuth")
	assert.Equal(t, 2, len(s.Requests()))
}

func TestLegacyLogin401IsSentOnceThenFailsFast(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithAuthMode(primerotest.AuthLegacyJWT))
	c, err := primero.New(s.URL(), primero.WithLegacyLogin(primerotest.DefaultUser, "wrong-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	callSix(t, c)
	assert.Equal(t, 1, len(s.Requests()), "the refused password was posted again")
	assert.Equal(t, 1, s.FailedLogins(primerotest.DefaultUser))
	assert.False(t, s.Locked(primerotest.DefaultUser))

	c.ResetAuth()
	_, _, err = c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrUnauthorized)
	assert.Equal(t, 2, len(s.Requests()), "one new login after ResetAuth")
}

func TestLegacyTokenRefusedIsNotResentNorReplacedByNewLogins(t *testing.T) {
	var logins, gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v2/tokens" {
			logins.Add(1)
			_, _ = io.WriteString(w, `{"id":1,"user_name":"primero_api","token":"legacy-token"}`)
			return
		}
		gets.Add(1) // the token was revoked on the server
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"Invalid User name or password."}`)
	}))
	defer srv.Close()
	c, err := primero.New(srv.URL, primero.WithLegacyLogin("primero_api", "synthetic-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	callSix(t, c)
	assert.EqualValues(t, 1, logins.Load(), "a refused token led to new logins")
	assert.EqualValues(t, 1, gets.Load(), "the refused token was sent again")

	c.ResetAuth()
	_, _, err = c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrUnauthorized)
	assert.EqualValues(t, 2, logins.Load(), "ResetAuth logs in afresh")
	assert.EqualValues(t, 2, gets.Load())
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
	for i := range 3 {
		_, _, err := c.Cases.List(context.Background(), nil)
		require.ErrorIs(t, err, primero.ErrUnauthorized)
		if i > 0 {
			require.ErrorIs(t, err, primero.ErrCredentialsRejected)
		}
	}
	assert.Equal(t, 1, len(s.Requests()), "the refused token was sent again")
	src.switchToGood()
	_, _, err = c.Cases.List(context.Background(), nil)
	require.NoError(t, err, "a token the server has not refused is sent")
	assert.Equal(t, 2, len(s.Requests()))
}

func TestConcurrentCallsAfter401SendNothing(t *testing.T) {
	s := primerotest.NewServer(t)
	c := wrongPasswordClient(t, s)
	_, _, err := c.Cases.List(context.Background(), nil)
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
		assert.ErrorIs(t, err, primero.ErrCredentialsRejected)
	}
	assert.Equal(t, 1, len(s.Requests()), "goroutines started after the 401 sent the credentials again")
	assert.False(t, s.Locked(primerotest.DefaultUser))
	assert.Equal(t, 1, s.FailedLogins(primerotest.DefaultUser))
	assert.Zero(t, countMethod(s, http.MethodPost))
}
