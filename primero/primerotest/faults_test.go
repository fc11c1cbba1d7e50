package primerotest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailNext(t *testing.T) {
	s := NewServer(t)
	s.FailNext(2, http.StatusServiceUnavailable)
	for i := range 2 {
		r := call(t, s, http.MethodGet, "/api/v2/cases", nil)
		require.Equal(t, http.StatusServiceUnavailable, r.status, "request %d", i)
		e := r.firstError(t)
		assert.EqualValues(t, 503, e["status"])
		assert.Equal(t, "/api/v2/cases", e["resource"])
		assert.Equal(t, "Service Unavailable", e["message"])
	}
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
	assert.Len(t, s.Requests(), 3, "failed requests are recorded too")

	// A failed write does not happen.
	s.FailNext(1, http.StatusInternalServerError)
	r := call(t, s, http.MethodPost, "/api/v2/cases", dataOf(map[string]any{"name_first": "Test"}))
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Empty(t, s.Cases())
}

func TestRateLimitNext(t *testing.T) {
	s := NewServer(t)
	s.RateLimitNext(1, 1500*time.Millisecond)
	r := call(t, s, http.MethodGet, "/api/v2/cases", nil)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "2", r.header.Get("Retry-After"), "seconds, rounded up")
	assert.Equal(t, "Retry later\n", string(r.raw))
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
}

func TestDropNext(t *testing.T) {
	s := NewServer(t)
	s.DropNext(1)
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
	req.SetBasicAuth(DefaultUser, DefaultPassword)
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Do(req)
	if err == nil {
		res.Body.Close()
	}
	require.Error(t, err, "the connection closes without a response")
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
}

func TestLockSystem(t *testing.T) {
	s := NewServer(t)
	s.LockSystem(60 * time.Second)
	for _, path := range []string{"/api/v2/cases", "/api/v2/primero"} {
		r := call(t, s, http.MethodGet, path, nil)
		require.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "60", r.header.Get("Retry-After"))
		e := r.firstError(t)
		assert.Equal(t, "Service Unavailable", e["message"])
		assert.Equal(t, "Retry-After: 60", e["detail"])
	}
	s.UnlockSystem()
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
}

func TestSetLatency(t *testing.T) {
	s := NewServer(t)
	s.SetLatency(5 * time.Second)
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v2/cases", nil)
	req.SetBasicAuth(DefaultUser, DefaultPassword)
	res, err := (&http.Client{Timeout: 50 * time.Millisecond}).Do(req)
	if err == nil {
		res.Body.Close()
	}
	require.Error(t, err, "the response is held back beyond the client's timeout")
	s.SetLatency(0)
	assert.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/api/v2/cases", nil).status)
}

func TestUnknownRoute404Envelope(t *testing.T) {
	s := NewServer(t)
	r := call(t, s, http.MethodGet, "/api/v2/nothing_here", nil)
	require.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "Not Found", r.firstError(t)["message"])
}
