package progrestest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// only is a plan that faults every request with one kind.
func only(w progrestest.ChaosWeights) progrestest.Chaos {
	return progrestest.Chaos{Rate: 1, Seed: 1, Weights: w, Hold: time.Hour}
}

// sendReferral POSTs a valid ReceiveIncomingReferral over mutual TLS on a
// fresh connection, offering HTTP/2.
func sendReferral(t *testing.T, s *progrestest.DTPServer, timeout time.Duration) (*http.Response, error) {
	t.Helper()
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: s.CA().Pool(), Certificates: []tls.Certificate{s.ClientCert().TLS}},
		ForceAttemptHTTP2: true,
		DisableKeepAlives: true,
	}
	req, err := http.NewRequest(http.MethodPost, s.BaseURL()+"/ReceiveIncomingReferral",
		strings.NewReader(`{"request_type":"ReceiveIncomingReferral","id":"case-1#1a2b3c4d5e6f"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ocp-Apim-Subscription-Key", progrestest.DefaultSubscriptionKey)
	res, err := (&http.Client{Transport: tr, Timeout: timeout}).Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	return res, err
}

func TestDTPSpeaksHTTP1OverTLS(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	res, err := sendReferral(t, s, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, res.ProtoMajor, "HTTP/2 is not negotiated, so faults can reset the connection")
}

func TestDTPChaosUnavailableBeforeActing(t *testing.T) {
	s := progrestest.NewDTPServer(t, progrestest.WithChaos(only(progrestest.ChaosWeights{Unavailable: 1})))
	res, err := sendReferral(t, s, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Empty(t, s.Referrals())
	assert.Equal(t, progrestest.FaultStatus, s.Requests()[0].Fault)
}

func TestDTPChaosRateLimitCarriesRetryAfter(t *testing.T) {
	c := only(progrestest.ChaosWeights{RateLimit: 1})
	c.RetryAfter = 2 * time.Second
	s := progrestest.NewDTPServer(t, progrestest.WithChaos(c))
	res, err := sendReferral(t, s, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "2", res.Header.Get("Retry-After"))
	assert.Empty(t, s.Referrals())
}

func TestDTPChaosTimeoutNeverActs(t *testing.T) {
	s, err := progrestest.StartDTP(progrestest.WithChaos(only(progrestest.ChaosWeights{Timeout: 1})))
	require.NoError(t, err)
	_, err = sendReferral(t, s, 100*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "%v", err)
	waitLogged(t, s.Requests, 1) // the request reached the fake, if only after the client left
	s.Close()
	assert.Empty(t, s.Referrals())
	assert.Equal(t, progrestest.FaultTimeout, s.Requests()[0].Fault)
}

func TestDTPChaosDropBeforeActing(t *testing.T) {
	s, err := progrestest.StartDTP(progrestest.WithChaos(only(progrestest.ChaosWeights{DropBefore: 1})))
	require.NoError(t, err)
	_, err = sendReferral(t, s, 0)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET), "a reset over TLS: %v", err)
	s.Close()
	assert.Empty(t, s.Referrals())
}

func TestDTPChaosDropAfterActingLosesTheAnswer(t *testing.T) {
	s := progrestest.NewDTPServer(t, progrestest.WithChaos(only(progrestest.ChaosWeights{DropAfter: 1})))
	_, err := sendReferral(t, s, 0)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
	require.Len(t, s.Referrals(), 1, "the referral was stored all the same")
	assert.Equal(t, progrestest.FaultCounts{progrestest.FaultDropAfter: 1}, s.FaultCounts())
	assert.NotEmpty(t, s.Requests()[0].ClientCertThumbprint)
}

func TestDTPDropAfterNextAndTimeoutNext(t *testing.T) {
	s, err := progrestest.StartDTP()
	require.NoError(t, err)
	s.DropAfterNext(1)
	s.TimeoutNext(1, time.Hour)
	_, err = sendReferral(t, s, 0)
	require.Error(t, err)
	_, err = sendReferral(t, s, 100*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	waitLogged(t, s.Requests, 2) // else the next request could take the queued fault
	res, err := sendReferral(t, s, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	s.Close()
	assert.Len(t, s.Referrals(), 2, "the lost answer and the last one acted, the held one did not")
}

// waitLogged waits until a fake has recorded n requests: a client that
// timed out may leave before its request is taken.
func waitLogged(t *testing.T, requests func() []progrestest.Request, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(requests()) >= n }, 10*time.Second, time.Millisecond)
}

// pingFaults gets a token, then makes n sequential ingestions on fresh
// connections, and returns the faults of the ingestions.
func pingFaults(t *testing.T, c progrestest.Chaos, n int) []progrestest.Fault {
	s := progrestest.NewPINGServer(t, progrestest.WithChaos(c))
	status, m := token(t, s, s.Config().Password)
	require.Equal(t, http.StatusOK, status, "the token endpoint is exempt")
	tok := m["access_token"].(string)
	// No client timeout: the short Hold resets a held request, so every
	// request is served or faulted before the next one starts.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range n {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/primes/ingestion/checkstatus/v1/pingdata", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ocp-Apim-Subscription-Key", progrestest.DefaultSubscriptionKey)
		req.Header.Set("Authorization", "Bearer "+tok)
		if res, err := hc.Do(req); err == nil {
			res.Body.Close()
			require.NotEqual(t, http.StatusUnauthorized, res.StatusCode, "chaos never answers 401")
		}
	}
	reqs := s.Requests()
	require.Len(t, reqs, n+1)
	assert.Equal(t, progrestest.FaultNone, reqs[0].Fault, "the token request")
	assert.Equal(t, progrestest.Redacted, reqs[1].Header.Get("Authorization"))
	assert.Equal(t, progrestest.Redacted, reqs[1].Header.Get("Ocp-Apim-Subscription-Key"))
	var out []progrestest.Fault
	for _, r := range reqs[1:] {
		out = append(out, r.Fault)
	}
	return out
}

func TestPINGChaosSameSeedSamePlan(t *testing.T) {
	c := progrestest.Chaos{Rate: 0.5, Seed: 99, Hold: 10 * time.Millisecond}
	a := pingFaults(t, c, 30)
	assert.Equal(t, a, pingFaults(t, c, 30))
	assert.NotEqual(t, make([]progrestest.Fault, 30), a, "faults were injected")
}

func TestPINGChaosRateZeroInjectsNothing(t *testing.T) {
	assert.Equal(t, make([]progrestest.Fault, 10), pingFaults(t, progrestest.Chaos{Rate: 0, Seed: 1}, 10))
}

func TestPINGChaosTokenEndpointExemption(t *testing.T) {
	s := progrestest.NewPINGServer(t, progrestest.WithChaos(only(progrestest.ChaosWeights{Unavailable: 1})))
	for range 5 {
		status, _ := token(t, s, s.Config().Password)
		require.Equal(t, http.StatusOK, status)
	}
	c := only(progrestest.ChaosWeights{Unavailable: 1})
	c.IncludeLogin = true
	require.NoError(t, s.SetChaos(c))
	status, _ := token(t, s, s.Config().Password)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	s.StopChaos()
	status, _ = token(t, s, s.Config().Password)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, 6, s.TokensIssued())
}

func TestWithChaosInvalidIsRefused(t *testing.T) {
	_, err := progrestest.StartDTP(progrestest.WithChaos(progrestest.Chaos{Rate: 2}))
	require.ErrorContains(t, err, "Chaos.Rate")
	_, err = progrestest.StartPING(progrestest.WithChaos(progrestest.Chaos{Hold: -1}))
	require.ErrorContains(t, err, "Chaos.Hold")
}

// inbound is a counting inbound handler behind a ChaosHandler.
type inbound struct {
	served atomic.Int32
	chaos  *progrestest.ChaosHandler
	url    string
}

func newInbound(t *testing.T, c progrestest.Chaos) *inbound {
	in := &inbound{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		in.served.Add(1)
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	var err error
	in.chaos, err = progrestest.NewChaosHandler(h, c)
	require.NoError(t, err)
	srv := httptest.NewServer(in.chaos)
	t.Cleanup(func() { in.chaos.Close(); srv.Close() })
	in.url = srv.URL
	return in
}

func TestPushRedeliversAfterALostAnswer(t *testing.T) {
	in := newInbound(t, only(progrestest.ChaosWeights{DropAfter: 1}))
	s := progrestest.NewDTPServer(t, progrestest.WithInbound(in.url, progrestest.DefaultInboundAPIKey))
	s.QueueReferral(progrestest.SyntheticReferral(1)...)

	n, err := s.Push(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "no answer, no acknowledgement")
	assert.EqualValues(t, 1, in.served.Load(), "the handler did act")
	assert.Equal(t, 1, s.Pending())
	assert.Equal(t, "connection reset", s.PushAttempts()[0].Error)
	assert.Zero(t, s.PushAttempts()[0].Status)

	in.chaos.StopChaos()
	n, err = s.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.EqualValues(t, 2, in.served.Load(), "delivered again: the receiver must deduplicate")
	assert.Zero(t, s.Pending())
	assert.Empty(t, s.PushAttempts()[1].Error)
	assert.Equal(t, progrestest.Redacted, in.chaos.Requests()[0].Header.Get(progrestest.DefaultInboundHeader))
}

func TestPushToleratesAHandlerTimeout(t *testing.T) {
	in := newInbound(t, only(progrestest.ChaosWeights{Timeout: 1}))
	s := progrestest.NewDTPServer(t, progrestest.WithInbound(in.url, progrestest.DefaultInboundAPIKey),
		progrestest.WithPushTimeout(100*time.Millisecond))
	s.QueueDecision(progrestest.SyntheticDecision(1, "case-1#1a2b3c4d5e6f", true))
	n, err := s.Push(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, "timeout", s.PushAttempts()[0].Error)
	waitLogged(t, in.chaos.Requests, 1) // the held push was decided before chaos stops
	in.chaos.StopChaos()
	n, err = s.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	in.chaos.Close()
	assert.EqualValues(t, 1, in.served.Load(), "the held push never reached the handler")
}

func TestPushUnderChaosDeliversEverything(t *testing.T) {
	// A short Hold and the default push timeout: a held push is reset by
	// the handler's side, so only the lost answers acted without an ack.
	in := newInbound(t, progrestest.Chaos{Rate: 0.5, Seed: 4, Hold: 10 * time.Millisecond})
	s := progrestest.NewDTPServer(t, progrestest.WithInbound(in.url, progrestest.DefaultInboundAPIKey))
	for i := range 10 {
		s.QueueReferral(progrestest.SyntheticReferral(i + 1)...)
	}
	for range 10 {
		_, err := s.Push(context.Background())
		require.NoError(t, err)
	}
	in.chaos.StopChaos()
	_, err := s.Push(context.Background())
	require.NoError(t, err)
	assert.Zero(t, s.Pending(), "everything acknowledged in the end")
	counts := in.chaos.FaultCounts()
	assert.NotEmpty(t, counts)
	assert.EqualValues(t, 10+counts[progrestest.FaultDropAfter], in.served.Load(),
		"each notification acted once, plus once more for each lost answer")
}
