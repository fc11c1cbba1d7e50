package primerotest

import (
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEvery401CarriesTheBearerChallenge(t *testing.T) {
	s := NewServer(t, WithBearerToken("synthetic-idp-token", DefaultUser))
	for _, opt := range []reqOpt{noAuth(), asUser(DefaultUser, "wrong"), withHeader("Authorization", "Bearer wrong")} {
		r := call(t, s, http.MethodGet, "/api/v2/cases", nil, opt)
		require.Equal(t, http.StatusUnauthorized, r.status)
		assert.Equal(t, `Bearer realm="Primero" charset="UTF8"`, r.header.Get("WWW-Authenticate"))
	}
}

func TestLoginThrottleSendsNoRetryAfter(t *testing.T) {
	s := NewServer(t)
	var r resp
	for range 7 {
		r = login(t, s, http.DefaultClient, DefaultUser, DefaultPassword)
	}
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Empty(t, r.header.Values("Retry-After"), "Rack::Attack's default answer has none")
}

// sessionClient is an HTTP client with a cookie jar.
func sessionClient() *http.Client { return &http.Client{Jar: must(cookiejar.New(nil))} }

// csrfLogin fetches the CSRF cookie from GET /api/v2/primero and logs in
// echoing it.
func csrfLogin(t *testing.T, s *Server, c *http.Client, user, pass string) resp {
	t.Helper()
	res, err := c.Get(s.URL() + "/api/v2/primero")
	require.NoError(t, err)
	res.Body.Close()
	body := `{"user":{"user_name":"` + user + `","password":"` + pass + `"}}`
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/v2/tokens", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for _, ck := range c.Jar.Cookies(mustURL(t, s.URL())) {
		if ck.Name == "CSRF-TOKEN" {
			req.Header.Set("X-CSRF-Token", ck.Value)
		}
	}
	return send(t, c, req)
}

func TestSessionLoginIsCSRFChecked(t *testing.T) {
	s := NewServer(t, WithAuthMode(AuthSession))
	c := sessionClient()
	r := login(t, s, c, DefaultUser, DefaultPassword)
	assert.Equal(t, http.StatusForbidden, r.status, "the login POST needs the token too")
	assert.Zero(t, s.FailedLogins(DefaultUser), "checked before the credentials")
	r = csrfLogin(t, s, c, DefaultUser, DefaultPassword)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.NotContains(t, r.body, "token")
}

func TestReloginWithLiveSessionAnswersJSON(t *testing.T) {
	s := NewServer(t, WithAuthMode(AuthSession))
	c := sessionClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	require.Equal(t, http.StatusOK, csrfLogin(t, s, c, DefaultUser, DefaultPassword).status)
	r := csrfLogin(t, s, c, DefaultUser, DefaultPassword)
	assert.NotEqual(t, http.StatusFound, r.status)
	assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "application/json"), "JSON, never a redirect")
}

func sessionGet(t *testing.T, s *Server, c *http.Client) int {
	t.Helper()
	res, err := c.Get(s.URL() + "/api/v2/cases")
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

func TestLoginExpiresTheUsersOtherSessions(t *testing.T) {
	s := NewServer(t, WithAuthMode(AuthSession))
	a, b := sessionClient(), sessionClient()
	require.Equal(t, http.StatusOK, csrfLogin(t, s, a, DefaultUser, DefaultPassword).status)
	require.Equal(t, http.StatusOK, sessionGet(t, s, a))
	require.Equal(t, http.StatusOK, csrfLogin(t, s, b, DefaultUser, DefaultPassword).status)
	assert.Equal(t, http.StatusUnauthorized, sessionGet(t, s, a), "b's login logged a out")
	assert.Equal(t, http.StatusOK, sessionGet(t, s, b))
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status, "Basic is unaffected")
}

func TestLogoutWithoutSessionIs200(t *testing.T) {
	s := NewServer(t)
	r := call(t, s, http.MethodDelete, "/api/v2/tokens", nil, noAuth())
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, map[string]any{}, r.body)
}

func TestSystemLockAnswers401BeforeTheLock(t *testing.T) {
	s := NewServer(t)
	s.LockSystem(time.Minute)
	assert.Equal(t, http.StatusUnauthorized, call(t, s, http.MethodGet, "/api/v2/cases", nil, noAuth()).status)
	assert.Equal(t, http.StatusServiceUnavailable, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	assert.Equal(t, http.StatusServiceUnavailable, call(t, s, http.MethodGet, "/api/v2/primero", nil, noAuth()).status)
}
