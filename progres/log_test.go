package progres_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientLogsCarryNoSecretsOrBodies(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ping := progrestest.NewPINGServer(t)
	ping.AddSyntheticInterventions(2)
	pc := newPING(t, ping, progres.WithLogger(logger))
	rows, err := pc.Interventions.Detail(context.Background(), "00000001-0000-4000-8000-000000000002")
	require.NoError(t, err)
	require.NotEmpty(t, rows)

	dtp := progrestest.NewDTPServer(t)
	dc := newDTP(t, dtp, progres.WithLogger(logger))
	require.NoError(t, dc.Referrals.Send(context.Background(), sampleReferral(t)))

	out := buf.String()
	assert.Contains(t, out, "http request")
	for _, secret := range []string{progrestest.DefaultSubscriptionKey, progrestest.DefaultPassword, "ping-", "Child", "Test Worker", "cw1@example.org"} {
		assert.NotContains(t, out, secret)
	}
}
