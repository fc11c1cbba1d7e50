package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/examples/internal/clitest"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres/progrestest"
)

// freeAddr returns a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestRealSystemsFromFlagsAndEnvironment runs the bridge as against real
// systems — URLs and files from flags, secrets from the environment —
// with the fakes standing in for them: it reaches Primero with the
// account from the environment, DTP with the client certificate files,
// serves the inbound endpoint with mutual TLS from the certificate files,
// and DTP's push with the API key from the environment is handled.
func TestRealSystemsFromFlagsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	tf := newTLSFiles(t, dir)
	ca, tlsCert, tlsKey, caFile := tf.ca, tf.cert, tf.key, tf.caFile
	pusher, err := ca.IssueClient("dtp-pusher")
	require.NoError(t, err)

	listen := freeAddr(t)
	const inboundKey = "inbound-key-from-environment"
	p := primerotest.NewServer(t)
	seedPrimero(p)
	dtp := progrestest.NewDTPServer(t, progrestest.WithCA(ca), progrestest.WithInbound("https://"+listen+"/", inboundKey),
		progrestest.WithInboundTLS(ca.Pool(), pusher))
	dtp.QueueReferral(demoReferralItems(childNew)...)
	dtpCert, dtpKey, err := dtp.ClientCert().WriteFiles(dir, "dtp-client")
	require.NoError(t, err)

	environment := env{envPrimeroUser: primerotest.DefaultUser, envPrimeroPassword: primerotest.DefaultPassword,
		envSubscriptionKey: progrestest.DefaultSubscriptionKey, envInboundKey: inboundKey}
	args := []string{"-primero-url", p.URL(), "-progres-url", dtp.BaseURL(), "-db", filepath.Join(dir, "state.db"),
		"-start", "2026-01-01T00:00:00Z", "-listen", listen, "-tls-cert", tlsCert, "-tls-key", tlsKey, "-tls-client-ca", caFile,
		"-dtp-cert", dtpCert, "-dtp-key", dtpKey, "-dtp-ca", caFile, "-unhcr-agency", demoAgencyUNHCR}
	cfg, err := parseConfig(args, environment.get)
	require.NoError(t, err)

	// DTP pushes once the endpoint serves, as the cycle starts (the
	// push completes before the intake reports).
	var pushErr error
	out := clitest.NewOnText("One cycle of every flow:", func() { _, pushErr = dtp.Push(context.Background()) })
	var stderr bytes.Buffer
	require.NoError(t, run(context.Background(), cfg, out, &stderr), stderr.String())
	require.NoError(t, pushErr)
	assert.Zero(t, dtp.Pending(), "the push was acknowledged")
	assert.Len(t, casesOf(&demoSystems{primero: p}, childNew), 1, "the pushed referral became a case")
	assert.Contains(t, out.String(), "Primero: "+p.URL()+", as the account in "+envPrimeroUser+".")
	assert.Contains(t, out.String(), "Inbound endpoint for DTP's pushes: listening on "+listen+" (mutual TLS, API key).")
	assert.Contains(t, out.String(), "progres-intake-dtp: received 1, created 1,")
	assert.Contains(t, out.String(), "Audit trails verified:")
	assert.NotContains(t, out.String()+stderr.String(), primerotest.DefaultPassword)
}
