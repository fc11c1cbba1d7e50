package fakeserver

import (
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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fake is a minimal fake on an Injector: each request that acts counts
// one, and answers 201 "made".
type fake struct {
	in      *Injector
	log     Log
	acted   atomic.Int32
	entered chan struct{} // a request reached Serve
	ended   chan struct{} // a request's handler returned
	srv     *httptest.Server
}

func newFake(t *testing.T, tlsOn bool) *fake {
	f := &fake{entered: make(chan struct{}, 16), ended: make(chan struct{}, 16)}
	f.in = NewInjector(Responses{
		Status: func(w http.ResponseWriter, _ *http.Request, status int) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "unavailable")
		},
		RateLimited: func(w http.ResponseWriter, _ *http.Request, retryAfter string) {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, "retry in "+retryAfter)
		},
	}, func(r *http.Request) bool { return r.URL.Path == "/token" })
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer signal(f.ended)
		body, _ := io.ReadAll(r.Body)
		inj := f.in.Next(r)
		rec := Record(r, body, nil)
		rec.Fault = inj.Fault
		f.log.Add(rec)
		signal(f.entered)
		f.in.Serve(w, r, inj, func(w http.ResponseWriter) {
			f.acted.Add(1)
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "made")
		})
	}))
	f.srv.Config.ErrorLog = nil
	if tlsOn {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(func() { f.in.Close(); f.srv.Close() })
	return f
}

// signal sends on c without blocking (the tests read only what they wait
// for).
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// do POSTs on a fresh connection (net/http would silently retry a reused
// one) and returns the response or the error.
func (f *fake) do(t *testing.T, timeout time.Duration) (*http.Response, string, error) {
	t.Helper()
	tr := f.srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	c := &http.Client{Transport: tr, Timeout: timeout}
	res, err := c.Post(f.srv.URL+"/cases", "text/plain", strings.NewReader("x"))
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b), nil
}

func TestServeNoFaultActs(t *testing.T) {
	f := newFake(t, false)
	res, body, err := f.do(t, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, res.StatusCode)
	assert.Equal(t, "made", body)
	assert.EqualValues(t, 1, f.acted.Load())
}

func TestServeStatusBeforeActing(t *testing.T) {
	f := newFake(t, false)
	f.in.Queue(1, Injection{Fault: FaultStatus, Status: http.StatusServiceUnavailable})
	res, body, err := f.do(t, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "unavailable", body, "the fake's own error shape")
	assert.Zero(t, f.acted.Load())
}

func TestServeRateLimitWithRetryAfter(t *testing.T) {
	f := newFake(t, false)
	f.in.Queue(1, Injection{Fault: FaultRateLimit, RetryAfter: 1500 * time.Millisecond})
	res, body, err := f.do(t, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "2", res.Header.Get("Retry-After"), "whole seconds, rounded up")
	assert.Equal(t, "retry in 2", body)
	assert.Zero(t, f.acted.Load())
}

func TestServeTimeoutHoldsUntilTheClientGivesUp(t *testing.T) {
	f := newFake(t, false)
	f.in.Queue(1, Injection{Fault: FaultTimeout, Hold: time.Hour})
	_, _, err := f.do(t, 100*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "the client sees its own timeout: %v", err)
	<-f.entered   // the request reached the server (if only after the client left)
	f.srv.Close() // waits for the handler: the hour-long hold ended when the client went away
	assert.Zero(t, f.acted.Load(), "a timed-out request never acts")
}

func TestServeTimeoutResetsAfterTheHold(t *testing.T) {
	f := newFake(t, false)
	f.in.Queue(1, Injection{Fault: FaultTimeout, Hold: 20 * time.Millisecond})
	_, _, err := f.do(t, 0) // a client that would wait forever
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET), "reset after the hold: %v", err)
	assert.Zero(t, f.acted.Load())
}

func TestServeDropBeforeActing(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		f := newFake(t, tlsOn)
		f.in.Queue(1, Injection{Fault: FaultDropBefore})
		_, _, err := f.do(t, 0)
		require.Error(t, err)
		assert.True(t, errors.Is(err, syscall.ECONNRESET), "tls=%v: %v", tlsOn, err)
		<-f.ended
		assert.Zero(t, f.acted.Load(), "tls=%v", tlsOn)
	}
}

func TestServeDropAfterActing(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		f := newFake(t, tlsOn)
		f.in.Queue(1, Injection{Fault: FaultDropAfter})
		_, _, err := f.do(t, 0)
		require.Error(t, err, "the answer is lost")
		assert.True(t, errors.Is(err, syscall.ECONNRESET), "tls=%v: %v", tlsOn, err)
		<-f.ended
		assert.EqualValues(t, 1, f.acted.Load(), "tls=%v: the request acted", tlsOn)
		assert.Equal(t, FaultDropAfter, f.log.All()[0].Fault)
	}
}

func TestServeLatencyThenFault(t *testing.T) {
	f := newFake(t, false)
	f.in.SetLatency(time.Hour)
	_, _, err := f.do(t, 50*time.Millisecond)
	require.Error(t, err)
	<-f.entered // the request reached the server (if only after the client left)
	<-f.ended
	assert.Zero(t, f.acted.Load(), "a client gone during the latency is not served")
	f.in.SetLatency(0)
	_, _, err = f.do(t, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 1, f.acted.Load())
}

func TestCloseEndsHeldRequests(t *testing.T) {
	f := newFake(t, false)
	f.in.Queue(1, Injection{Fault: FaultTimeout, Hold: time.Hour})
	errc := make(chan error, 1)
	go func() { _, _, err := f.do(t, 0); errc <- err }()
	<-f.entered
	f.in.Close()
	require.Error(t, <-errc, "no answer, but no hour-long wait either")
	assert.Zero(t, f.acted.Load())
}

func TestChaosServedKindsMatchTheLog(t *testing.T) {
	// Every kind a chaos plan injects is the kind the client sees.
	f := newFake(t, false)
	// No client timeout: a held request is reset after the short Hold, so
	// every request reaches the server and ends, however loaded the machine.
	require.NoError(t, f.in.SetChaos(Chaos{Rate: 1, Seed: 11, Hold: 10 * time.Millisecond}))
	for range 25 {
		res, _, err := f.do(t, 0)
		logged := f.log.All()
		got := logged[len(logged)-1].Fault
		switch got {
		case FaultStatus:
			require.NoError(t, err)
			assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		case FaultRateLimit:
			require.NoError(t, err)
			assert.Equal(t, "1", res.Header.Get("Retry-After"))
		case FaultTimeout, FaultDropBefore, FaultDropAfter:
			assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
		default:
			t.Fatalf("rate 1 and no fault")
		}
		<-f.ended
	}
	counts := f.log.FaultCounts()
	assert.EqualValues(t, counts[FaultDropAfter], f.acted.Load(), "only the lost answers acted")
	assert.Equal(t, 25, counts.Total())
}

func TestRecordRedactsSecrets(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/x?page=1", nil)
	r.Header.Set("Authorization", "Basic c3ludGhldGlj")
	r.Header.Set("Ocp-Apim-Subscription-Key", "synthetic-key")
	r.Header.Set("X-Csrf-Token", "synthetic-csrf")
	r.Header.Set("Content-Type", "application/json")
	rec := Record(r, []byte(`{"password":"p"}`), func(b []byte) []byte { return []byte("cut") })
	for _, h := range []string{"Authorization", "Ocp-Apim-Subscription-Key", "X-Csrf-Token"} {
		assert.Equal(t, Redacted, rec.Header.Get(h), h)
	}
	assert.Equal(t, "application/json", rec.Header.Get("Content-Type"))
	assert.Equal(t, "cut", string(rec.Body))
	assert.Equal(t, "1", rec.Query.Get("page"))
	assert.Equal(t, "Basic c3ludGhldGlj", r.Header.Get("Authorization"), "the request itself untouched")
}

func TestLogAllIsACopy(t *testing.T) {
	var l Log
	l.Add(Request{Method: "GET", Header: http.Header{"A": {"1"}}, Body: []byte("b"), Fault: FaultStatus})
	got := l.All()
	got[0].Header.Set("A", "2")
	got[0].Body[0] = 'x'
	assert.Equal(t, "1", l.All()[0].Header.Get("A"))
	assert.Equal(t, "b", string(l.All()[0].Body))
	assert.Equal(t, Counts{FaultStatus: 1}, l.FaultCounts())
	l.Reset()
	assert.Empty(t, l.All())
}

func TestCountsSummary(t *testing.T) {
	c := Counts{FaultStatus: 8, FaultRateLimit: 7, FaultTimeout: 6, FaultDropBefore: 7, FaultDropAfter: 9}
	assert.Equal(t, 37, c.Total())
	assert.Equal(t, 9, c.AfterActing())
	assert.Equal(t, "37 faults injected, 9 after acting (status 8, rate-limit 7, timeout 6, drop-before 7, drop-after 9)", c.String())
	assert.Equal(t, 0, Counts{}.Total())
}

func TestChaosConcurrentRequests(t *testing.T) {
	// Concurrent requests race for their place in the plan, but every
	// request gets exactly one decision and the log accounts for all.
	f := newFake(t, false)
	require.NoError(t, f.in.SetChaos(Chaos{Rate: 0.5, Seed: 8, Hold: 10 * time.Millisecond}))
	const n = 40
	done := make(chan struct{}, n)
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			_, _, _ = f.do(t, 0)
		}()
	}
	for range n {
		<-done
	}
	f.in.Close()
	f.srv.Close() // waits for the handlers
	logged := f.log.All()
	require.Len(t, logged, n)
	counts := f.log.FaultCounts()
	served := 0
	for _, r := range logged {
		if r.Fault == FaultNone {
			served++
		}
	}
	assert.Equal(t, n, served+counts.Total())
	assert.EqualValues(t, served+counts.AfterActing(), f.acted.Load(), "acted: the served and the lost answers, nothing else")
}
