package progres_test

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandlerBehindMutualTLS(t *testing.T) {
	ca, err := progrestest.NewCA("inbound CA")
	require.NoError(t, err)
	serverCert, err := ca.IssueServer()
	require.NoError(t, err)
	dtpClient, err := ca.IssueClient("dtp-pusher")
	require.NoError(t, err)

	sk := &sink{}
	h, err := progres.NewHandler(progres.WithAPIKey("", inboundKey), progres.OnReferral(sk.onReferral))
	require.NoError(t, err)
	cfg, err := progres.ServerTLSConfig(serverCert.TLS, ca.Pool())
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = cfg
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()

	with := progrestest.NewDTPServer(t, progrestest.WithInbound(srv.URL, inboundKey), progrestest.WithInboundTLS(ca.Pool(), dtpClient))
	with.QueueReferral(progrestest.SyntheticReferral(1)...)
	n, err := with.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, sk.referrals, 1)

	without := progrestest.NewDTPServer(t, progrestest.WithInbound(srv.URL, inboundKey), progrestest.WithInboundTLS(ca.Pool(), nil))
	without.QueueReferral(progrestest.SyntheticReferral(2)...)
	n, err = without.Push(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 0, without.PushAttempts()[0].Status, "the handshake fails without a client certificate")
	assert.Len(t, sk.referrals, 1)

	_, err = progres.ServerTLSConfig(serverCert.TLS, nil)
	require.NoError(t, err)
	_, err = progres.ServerTLSConfig(progrestest.KeyPair{}.TLS, nil)
	require.ErrorIs(t, err, progres.ErrValidation)
}
