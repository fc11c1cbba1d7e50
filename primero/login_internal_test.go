package primero

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

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
	c, err := New(s.URL(), WithLegacyLogin(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	now := time.Now()
	src := c.legacy
	src.now = func() time.Time { return now }
	ctx := context.Background()

	first, err := src.token(ctx)
	require.NoError(t, err)
	again, err := src.token(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again, "reused while more than 5 minutes remain")
	assert.Len(t, s.Requests(), 1)

	now = now.Add(6 * time.Minute) // 4 minutes left: log in again
	renewed, err := src.token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first, renewed)
	assert.Len(t, s.Requests(), 2)
}
