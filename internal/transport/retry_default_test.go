package transport

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestZeroMaxRetryAfterGetsTheDefaultCap(t *testing.T) {
	p := RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond}
	c := newClient(t, Config{Retry: &p})
	assert.Equal(t, DefaultRetryPolicy().MaxRetryAfter, c.Policy().MaxRetryAfter)
	resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"30"}}}
	assert.Equal(t, 30*time.Second, c.rc.Backoff(p.MinWait, p.MaxWait, 0, resp), "Retry-After ignored")
	resp.Header.Set("Retry-After", "3600")
	assert.Equal(t, DefaultRetryPolicy().MaxRetryAfter, c.rc.Backoff(p.MinWait, p.MaxWait, 0, resp), "Retry-After not capped")
}
