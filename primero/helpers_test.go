package primero_test

import (
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/require"
)

// fastRetry keeps retrying tests quick: the fake's Retry-After (whole
// seconds) is capped at 5ms.
var fastRetry = primero.RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Millisecond}

// newClient returns a Basic-auth client for the fake with fast retries.
func newClient(t testing.TB, s *primerotest.Server, opts ...primero.Option) *primero.Client {
	t.Helper()
	all := append([]primero.Option{
		primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword),
		primero.WithRetry(fastRetry),
	}, opts...)
	c, err := primero.New(s.URL(), all...)
	require.NoError(t, err)
	return c
}

// wrongPasswordClient returns a Basic-auth client for the fake whose
// password the fake refuses.
func wrongPasswordClient(t testing.TB, s *primerotest.Server) *primero.Client {
	t.Helper()
	c, err := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, "wrong-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	return c
}

// countMethod counts the fake's recorded requests with the method.
func countMethod(s *primerotest.Server, method string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}
