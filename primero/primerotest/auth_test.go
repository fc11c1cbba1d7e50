package primerotest

import (
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testClock is a settable server clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func login(t *testing.T, s *Server, c *http.Client, user, pass string) resp {
	t.Helper()
	body := `{"user":{"user_name":"` + user + `","password":"` + pass + `"}}`
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/api/v2/tokens", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	return send(t, c, req)
}

func TestBasicAuth(t *testing.T) {
	s := NewServer(t)
	tests := []struct {
		name       string
		opt        reqOpt
		wantStatus int
	}{
		{"right password", asUser(DefaultUser, DefaultPassword), http.StatusOK},
		{"wrong password", asUser(DefaultUser, "wrong"), http.StatusUnauthorized},
		{"unknown user", asUser("nobody", "x"), http.StatusUnauthorized},
		{"no credentials", noAuth(), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, http.MethodGet, "/api/v2/cases", nil, tt.opt)
			require.Equal(t, tt.wantStatus, r.status)
			if tt.wantStatus == http.StatusUnauthorized {
				assert.Equal(t, map[string]any{"error": "Invalid User name or password."}, r.body)
				assert.Equal(t, `Bearer realm="Primero" charset="UTF8"`, r.header.Get("WWW-Authenticate"))
			}
			assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
		})
	}
}

func TestLockoutAfterSixFailures(t *testing.T) {
	clock := newTestClock()
	s := NewServer(t, WithClock(clock.Now))
	for i := 1; i <= 5; i++ {
		r := call(t, s, http.MethodGet, "/api/v2/cases", nil, asUser(DefaultUser, "wrong"))
		require.Equal(t, http.StatusUnauthorized, r.status)
		require.Equal(t, i, s.FailedLogins(DefaultUser))
		require.False(t, s.Locked(DefaultUser))
	}
	call(t, s, http.MethodGet, "/api/v2/cases", nil, asUser(DefaultUser, "wrong"))
	require.True(t, s.Locked(DefaultUser))

	// Locked: even the right password fails, by Basic and by login.
	r := call(t, s, http.MethodGet, "/api/v2/cases", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, http.StatusUnauthorized, login(t, s, http.DefaultClient, DefaultUser, DefaultPassword).status)

	clock.Advance(29 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	assert.Equal(t, 0, s.FailedLogins(DefaultUser))
}

func TestSuccessResetsFailedCount(t *testing.T) {
	s := NewServer(t)
	call(t, s, http.MethodGet, "/api/v2/cases", nil, asUser(DefaultUser, "wrong"))
	require.Equal(t, 1, s.FailedLogins(DefaultUser))
	call(t, s, http.MethodGet, "/api/v2/cases", nil)
	assert.Equal(t, 0, s.FailedLogins(DefaultUser))
}

func TestBasicFailuresNotCountedQuirk(t *testing.T) {
	q := DefaultQuirks()
	q.BasicFailuresCountTowardLockout = false
	s := NewServer(t, WithQuirks(q))
	for range 7 {
		call(t, s, http.MethodGet, "/api/v2/cases", nil, asUser(DefaultUser, "wrong"))
	}
	assert.Equal(t, 0, s.FailedLogins(DefaultUser))
	assert.False(t, s.Locked(DefaultUser))
	// Failed logins still count.
	login(t, s, http.DefaultClient, DefaultUser, "wrong")
	assert.Equal(t, 1, s.FailedLogins(DefaultUser))
}

func TestSessionLoginAndCSRF(t *testing.T) {
	// v2.11: a login does not yet expire the user's other sessions.
	s := NewServer(t, WithAuthMode(AuthSession), WithVersion("2.11"))
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}

	r := csrfLogin(t, s, c, DefaultUser, DefaultPassword)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, map[string]any{"id": float64(1), "user_name": DefaultUser}, r.body, "group_permission from v2.16")
	assert.NotContains(t, r.body, "token")

	var csrf string
	for _, ck := range jar.Cookies(mustURL(t, s.URL())) {
		if ck.Name == csrfCookie {
			csrf = ck.Value
		}
	}
	require.NotEmpty(t, csrf)

	get, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
	assert.Equal(t, http.StatusOK, send(t, c, get).status, "a read needs no CSRF header")

	post := func(token string) resp {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/v2/cases", strings.NewReader(`{"data":{"name_first":"Test"}}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set(csrfHeader, token)
		}
		return send(t, c, req)
	}
	r = post("")
	require.Equal(t, http.StatusForbidden, r.status)
	assert.EqualValues(t, 403, r.firstError(t)["status"])
	assert.Equal(t, http.StatusForbidden, post("wrong").status)
	assert.Equal(t, http.StatusOK, post(csrf).status)

	// Logout expires every session of the user.
	other := &http.Client{Jar: must(cookiejar.New(nil))}
	require.Equal(t, http.StatusOK, csrfLogin(t, s, other, DefaultUser, DefaultPassword).status)
	get1, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
	require.Equal(t, http.StatusOK, send(t, c, get1).status, "v2.11: the first session survives the second login")
	del, _ := http.NewRequest(http.MethodDelete, s.URL()+"/api/v2/tokens", nil)
	require.Equal(t, http.StatusForbidden, send(t, c, del).status, "a logout with a session is a write: CSRF-checked")
	del.Header.Set(csrfHeader, csrf)
	r = send(t, c, del)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, map[string]any{}, r.body)
	get2, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
	assert.Equal(t, http.StatusUnauthorized, send(t, other, get2).status)
}

func TestSessionLoginNeedsCSRFQuirk(t *testing.T) {
	q := DefaultQuirks()
	s := NewServer(t, WithAuthMode(AuthSession), WithQuirks(q))
	c := &http.Client{Jar: must(cookiejar.New(nil))}
	require.Equal(t, http.StatusForbidden, login(t, s, c, DefaultUser, DefaultPassword).status)

	pre, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/primero", nil)
	require.Equal(t, http.StatusOK, send(t, c, pre).status)
	var csrf string
	for _, ck := range c.Jar.Cookies(mustURL(t, s.URL())) {
		if ck.Name == csrfCookie {
			csrf = ck.Value
		}
	}
	require.NotEmpty(t, csrf)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/v2/tokens",
		strings.NewReader(`{"user":{"user_name":"`+DefaultUser+`","password":"`+DefaultPassword+`"}}`))
	req.Header.Set(csrfHeader, csrf)
	req.Header.Set("Content-Type", "application/json")
	assert.Equal(t, http.StatusOK, send(t, c, req).status)

	q.LoginNeedsCSRF = false
	s2 := NewServer(t, WithAuthMode(AuthSession), WithQuirks(q))
	assert.Equal(t, http.StatusOK, login(t, s2, sessionClient(), DefaultUser, DefaultPassword).status)
}

func TestLegacyJWT(t *testing.T) {
	clock := newTestClock()
	s := NewServer(t, WithAuthMode(AuthLegacyJWT), WithClock(clock.Now), WithTokenLifetime(time.Hour))
	r := login(t, s, http.DefaultClient, DefaultUser, DefaultPassword)
	require.Equal(t, http.StatusOK, r.status)
	tok, _ := r.body["token"].(string)
	require.NotEmpty(t, tok)
	assert.Equal(t, DefaultUser, r.body["user_name"])
	assert.Equal(t, "Bearer "+tok, r.header.Get("Authorization"))

	bearer := withHeader("Authorization", "Bearer "+tok)
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil, bearer).status)

	// Re-posting with the bearer issues a new token; the old stays valid.
	r2 := call(t, s, http.MethodPost, "/api/v2/tokens", nil, bearer)
	require.Equal(t, http.StatusOK, r2.status)
	assert.NotEqual(t, tok, r2.body["token"])

	clock.Advance(time.Hour)
	r = call(t, s, http.MethodGet, "/api/v2/cases", nil, bearer)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "Invalid User name or password.", r.body["error"])
}

func TestIdPBearer(t *testing.T) {
	s := NewServer(t, WithBearerToken("synthetic-idp-token", DefaultUser))
	ok := call(t, s, http.MethodGet, "/api/v2/cases", nil, withHeader("Authorization", "Bearer synthetic-idp-token"))
	assert.Equal(t, http.StatusOK, ok.status)
	bad := call(t, s, http.MethodGet, "/api/v2/cases", nil, withHeader("Authorization", "Bearer forged"))
	require.Equal(t, http.StatusUnauthorized, bad.status)
	assert.EqualValues(t, 401, bad.firstError(t)["status"], "IdP errors use the envelope")

	idps := call(t, s, http.MethodGet, "/api/v2/identity_providers", nil, noAuth())
	require.Equal(t, http.StatusOK, idps.status)
	assert.Len(t, idps.list(t), 1)
}

func TestLoginThrottle(t *testing.T) {
	clock := newTestClock()
	s := NewServer(t, WithClock(clock.Now))
	for i := range 6 {
		r := login(t, s, http.DefaultClient, DefaultUser, DefaultPassword)
		require.Equal(t, http.StatusOK, r.status, "login %d", i+1)
	}
	// The key is the lowercased name without spaces.
	r := login(t, s, http.DefaultClient, "PRIMERO_API ", DefaultPassword)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "Retry later\n", string(r.raw))
	assert.Equal(t, "text/plain", r.header.Get("Content-Type"))
	assert.Empty(t, r.header.Get("Retry-After"))

	// Other users are not throttled; Basic calls are not throttled.
	assert.Equal(t, http.StatusOK, login(t, s, http.DefaultClient, DefaultRecipient, DefaultRecipientPassword).status)
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)

	clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, login(t, s, http.DefaultClient, DefaultUser, DefaultPassword).status)
}

func TestRequestsAreRecordedRedacted(t *testing.T) {
	s := NewServer(t)
	call(t, s, http.MethodGet, "/api/v2/cases?sex=male", nil,
		withHeader("Cookie", "_app_session=secret"), withHeader("X-CSRF-Token", "secret"))
	login(t, s, http.DefaultClient, DefaultUser, DefaultPassword)

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodGet, reqs[0].Method)
	assert.Equal(t, "/api/v2/cases", reqs[0].Path)
	assert.Equal(t, "male", reqs[0].Query.Get("sex"))
	for _, h := range []string{"Authorization", "Cookie", "X-Csrf-Token"} {
		assert.Equal(t, Redacted, reqs[0].Header.Get(h), h)
	}
	assert.NotContains(t, string(reqs[1].Body), DefaultPassword)
	assert.Contains(t, string(reqs[1].Body), DefaultUser)

	s.ResetRequests()
	assert.Empty(t, s.Requests())
}
