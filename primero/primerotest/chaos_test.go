package primerotest

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// only is a plan that faults every request with one kind.
func only(w ChaosWeights) Chaos { return Chaos{Rate: 1, Seed: 1, Weights: w, Hold: time.Hour} }

// postCase POSTs a case on a fresh connection (net/http silently
// retries some requests on a reused one) with the client timeout given.
func postCase(t *testing.T, s *Server, timeout time.Duration) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/api/v2/cases",
		strings.NewReader(`{"data":{"name_first":"Test Child 1","module_id":"primeromodule-cp"}}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(DefaultUser, DefaultPassword)
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Do(req)
	if err == nil {
		res.Body.Close()
	}
	return res, err
}

func TestChaosUnavailableBeforeActing(t *testing.T) {
	s := NewServer(t, WithChaos(only(ChaosWeights{Unavailable: 1})))
	res, err := postCase(t, s, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Empty(t, s.Cases(), "a 503 does not act")
	assert.Equal(t, FaultStatus, s.Requests()[0].Fault)
}

func TestChaosRateLimitCarriesRetryAfter(t *testing.T) {
	c := only(ChaosWeights{RateLimit: 1})
	c.RetryAfter = 3 * time.Second
	s := NewServer(t, WithChaos(c))
	res, err := postCase(t, s, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "3", res.Header.Get("Retry-After"))
	d, ok := transport.ParseRetryAfter(res.Header.Get("Retry-After"), time.Now())
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, d)
	assert.Empty(t, s.Cases())
	assert.Equal(t, FaultRateLimit, s.Requests()[0].Fault)
}

func TestChaosTimeoutIsAClientTimeoutAndNeverActs(t *testing.T) {
	s, err := Start(WithChaos(only(ChaosWeights{Timeout: 1})))
	require.NoError(t, err)
	_, err = postCase(t, s, 100*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "%v", err)
	waitLogged(t, s, 1) // the request reached the fake, if only after the client left
	s.Close()           // waits for the held request to end
	assert.Empty(t, s.Cases())
	assert.Equal(t, FaultTimeout, s.Requests()[0].Fault)
}

func TestChaosDropBeforeActing(t *testing.T) {
	s, err := Start(WithChaos(only(ChaosWeights{DropBefore: 1})))
	require.NoError(t, err)
	_, err = postCase(t, s, 0)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
	s.Close()
	assert.Empty(t, s.Cases(), "reset before any state change")
	assert.Equal(t, FaultDropBefore, s.Requests()[0].Fault)
}

func TestChaosDropAfterActingLosesTheAnswer(t *testing.T) {
	s := NewServer(t, WithChaos(only(ChaosWeights{DropAfter: 1})))
	_, err := postCase(t, s, 0)
	require.Error(t, err, "no answer")
	assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
	require.Len(t, s.Cases(), 1, "the case was created all the same")
	assert.Equal(t, "Test Child 1", s.Cases()[0]["name_first"])
	assert.Equal(t, FaultCounts{FaultDropAfter: 1}, s.FaultCounts())
	assert.True(t, s.Requests()[0].Fault.AfterActing())
}

// waitLogged waits until the fake has recorded n requests: a client that
// timed out may leave before its request is taken.
func waitLogged(t *testing.T, s *Server, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.Requests()) >= n }, 10*time.Second, time.Millisecond)
}

// faultsOf runs n sequential GETs and returns the faults the server logged.
func faultsOf(t *testing.T, c Chaos, n int) []Fault {
	s := NewServer(t, WithChaos(c))
	// No client timeout: the short Hold resets a held request, so every
	// request is served or faulted before the next one starts.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range n {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
		req.SetBasicAuth(DefaultUser, DefaultPassword)
		if res, err := hc.Do(req); err == nil {
			res.Body.Close()
		}
	}
	var out []Fault
	for _, r := range s.Requests() {
		out = append(out, r.Fault)
	}
	require.Len(t, out, n)
	return out
}

func TestChaosSameSeedSamePlan(t *testing.T) {
	c := Chaos{Rate: 0.4, Seed: 2026, Hold: 10 * time.Millisecond}
	a := faultsOf(t, c, 30)
	assert.Equal(t, a, faultsOf(t, c, 30))
	assert.NotEqual(t, make([]Fault, 30), a, "faults were injected")
}

func TestChaosRateZeroInjectsNothing(t *testing.T) {
	s := NewServer(t, WithChaos(Chaos{Rate: 0, Seed: 1}))
	for range 20 {
		require.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	}
	assert.Empty(t, s.FaultCounts())
}

func TestChaosLeavesTheLoginAlone(t *testing.T) {
	s := NewServer(t, WithAuthMode(AuthLegacyJWT), WithChaos(only(ChaosWeights{Unavailable: 1})))
	login := map[string]any{"user": map[string]any{"user_name": DefaultUser, "password": DefaultPassword}}
	for range 5 {
		r := call(t, s, http.MethodPost, "/api/v2/tokens", login, noAuth())
		require.Equal(t, http.StatusOK, r.status, "the login is exempt")
	}
	assert.Equal(t, http.StatusServiceUnavailable, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	assert.Equal(t, FaultCounts{FaultStatus: 1}, s.FaultCounts())

	c := only(ChaosWeights{Unavailable: 1})
	c.IncludeLogin = true
	require.NoError(t, s.SetChaos(c))
	assert.Equal(t, http.StatusServiceUnavailable, call(t, s, http.MethodPost, "/api/v2/tokens", login, noAuth()).status)
}

func TestChaosNeverAnswersUnauthorized(t *testing.T) {
	s := NewServer(t, WithAuthMode(AuthLegacyJWT), WithChaos(Chaos{Rate: 1, Seed: 3, Hold: 10 * time.Millisecond}))
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 40 {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
		req.SetBasicAuth(DefaultUser, DefaultPassword)
		if res, err := hc.Do(req); err == nil {
			res.Body.Close()
			require.Contains(t, []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}, res.StatusCode)
		}
	}
}

func TestSetChaosAtRunTime(t *testing.T) {
	s := NewServer(t)
	s.AddSyntheticCases(1)
	require.NoError(t, s.SetChaos(only(ChaosWeights{Unavailable: 1})))
	assert.Equal(t, http.StatusServiceUnavailable, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	s.StopChaos()
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	err := s.SetChaos(Chaos{Rate: 2})
	var ve *transport.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("Chaos.Rate"))
}

func TestWithChaosInvalid(t *testing.T) {
	_, err := Start(WithChaos(Chaos{Rate: -1}))
	require.ErrorContains(t, err, "Chaos.Rate")
}

func TestDropAfterNext(t *testing.T) {
	s := NewServer(t)
	s.DropAfterNext(1)
	_, err := postCase(t, s, 0)
	require.Error(t, err)
	assert.Len(t, s.Cases(), 1, "acted, answer lost")
	res, err := postCase(t, s, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

func TestTimeoutNext(t *testing.T) {
	s, err := Start()
	require.NoError(t, err)
	s.TimeoutNext(1, time.Hour)
	_, err = postCase(t, s, 100*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	waitLogged(t, s, 1) // else the next request could take the queued fault
	res, err := postCase(t, s, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	s.Close()
	assert.Len(t, s.Cases(), 1, "only the second create acted")
}
