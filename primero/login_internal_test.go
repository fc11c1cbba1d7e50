package primero

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJWTExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"exp":1767229200}`))
	assert.Equal(t, time.Unix(1767229200, 0), jwtExpiry("h."+payload+".s", now))
	assert.Equal(t, now.Add(time.Hour), jwtExpiry("opaque", now), "no exp: Primero's 1 h lifetime")
}

func TestLegacyTokenRenewedBeforeExpiry(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithAuthMode(primerotest.AuthLegacyJWT), primerotest.WithTokenLifetime(10*time.Minute))
	base, err := transport.ParseBaseURL(s.URL())
	require.NoError(t, err)
	hc, err := transport.New(transport.Config{})
	require.NoError(t, err)
	now := time.Now()
	src := newLegacyTokenSource(base, hc, primerotest.DefaultUser, primerotest.DefaultPassword)
	src.now = func() time.Time { return now }

	first, err := src.Token()
	require.NoError(t, err)
	again, err := src.Token()
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, again.AccessToken, "reused while more than 5 minutes remain")
	assert.Len(t, s.Requests(), 1)

	now = now.Add(6 * time.Minute) // 4 minutes left: log in again
	renewed, err := src.Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, renewed.AccessToken)
	assert.Len(t, s.Requests(), 2)
}
