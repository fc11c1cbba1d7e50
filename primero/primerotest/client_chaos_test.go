package primerotest_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChaosKindsThroughTheClient checks that casebridge's own Primero
// client sees each chaos fault as what it is.
func TestChaosKindsThroughTheClient(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w     primerotest.ChaosWeights
		check func(t *testing.T, err error)
		cases int // cases in the fake afterwards
	}{
		{"503", primerotest.ChaosWeights{Unavailable: 1}, func(t *testing.T, err error) {
			require.ErrorIs(t, err, primero.ErrUnavailable)
			var ae *primero.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusServiceUnavailable, ae.StatusCode)
		}, 0},
		{"429", primerotest.ChaosWeights{RateLimit: 1}, func(t *testing.T, err error) {
			require.ErrorIs(t, err, primero.ErrRateLimited)
		}, 0},
		{"timeout", primerotest.ChaosWeights{Timeout: 1}, func(t *testing.T, err error) {
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout(), "%v", err)
		}, 0},
		{"drop before", primerotest.ChaosWeights{DropBefore: 1}, func(t *testing.T, err error) {
			assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
		}, 0},
		{"drop after", primerotest.ChaosWeights{DropAfter: 1}, func(t *testing.T, err error) {
			assert.True(t, errors.Is(err, syscall.ECONNRESET), "%v", err)
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := primerotest.Start(primerotest.WithChaos(primerotest.Chaos{Rate: 1, Seed: 1, Weights: tc.w, Hold: time.Hour}))
			require.NoError(t, err)
			c, err := primero.New(s.URL(),
				primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword),
				primero.WithRetry(primero.RetryPolicy{MaxRetries: 0}),
				primero.WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}))
			require.NoError(t, err)
			_, err = c.Cases.Create(context.Background(), &primero.Case{ModuleID: "primeromodule-cp", NameFirst: "Test Child 1"})
			require.Error(t, err)
			tc.check(t, err)
			s.Close() // held requests end; state is final
			assert.Len(t, s.Cases(), tc.cases)
		})
	}
}
