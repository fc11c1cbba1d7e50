package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/casebridge/casebridge/sqlsink"
)

// TestInboundGateOneInstanceAtATime: of two instances on one state store,
// only the one holding the inbound lock hands pushes to the flows; the
// other answers 503 and takes over once the first gives the lock up.
func TestInboundGateOneInstanceAtATime(t *testing.T) {
	ctx := context.Background()
	db, err := sqlsink.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	defer db.Close()
	st, err := sqlsink.NewDBState(db)
	require.NoError(t, err)
	served := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { served++ })
	first, second := &inboundGate{state: st, h: h}, &inboundGate{state: st, h: h}

	held, err := first.acquire(ctx)
	require.NoError(t, err)
	require.True(t, held)
	held, err = second.acquire(ctx)
	require.NoError(t, err)
	assert.False(t, held, "the lock is the first instance's")

	rec := httptest.NewRecorder()
	second.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	assert.Zero(t, served, "the standby handed nothing to the flows")
	first.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, 1, served)

	require.NoError(t, first.release())
	held, err = second.acquire(ctx)
	require.NoError(t, err)
	assert.True(t, held, "the standby takes over")
	second.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, 2, served)
	require.NoError(t, second.release())
}

// TestInboundEndpointRequiresClientCertificate: with -tls-client-ca the
// endpoint completes no TLS handshake without a client certificate from
// that CA; with one it serves (here /healthz).
func TestInboundEndpointRequiresClientCertificate(t *testing.T) {
	tf := newTLSFiles(t, t.TempDir())
	ca := tf.ca
	in, err := listenInbound("127.0.0.1:0", tf.cert, tf.key, tf.caFile)
	require.NoError(t, err)
	in.serve(http.NotFoundHandler())
	defer func() { require.NoError(t, in.close()) }()

	get := func(certs ...tls.Certificate) (*http.Response, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: certs, MinVersion: tls.VersionTLS12}}}
		defer c.CloseIdleConnections()
		return c.Get(in.URL() + "healthz")
	}
	if resp, err := get(); err == nil {
		resp.Body.Close()
		t.Fatalf("served without a client certificate: %d", resp.StatusCode)
	}
	other, err := progrestest.NewCA("another CA")
	require.NoError(t, err)
	stranger, err := other.IssueClient("stranger")
	require.NoError(t, err)
	if resp, err := get(stranger.TLS); err == nil {
		resp.Body.Close()
		t.Fatalf("served a certificate from another CA: %d", resp.StatusCode)
	}
	client, err := ca.IssueClient("dtp")
	require.NoError(t, err)
	resp, err := get(client.TLS)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestInboundRefusesBadTLSFiles: unreadable certificate files are an
// error naming the flag.
func TestInboundRefusesBadTLSFiles(t *testing.T) {
	_, err := listenInbound("127.0.0.1:0", "/nonexistent.crt", "/nonexistent.key", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-tls-cert")
}

// tlsFiles are a throwaway CA and the inbound endpoint's certificate from
// it, written to files as the flags take them.
type tlsFiles struct {
	ca                *progrestest.CA
	cert, key, caFile string
}

func newTLSFiles(t *testing.T, dir string) tlsFiles {
	t.Helper()
	ca, err := progrestest.NewCA("test CA")
	require.NoError(t, err)
	server, err := ca.IssueServer()
	require.NoError(t, err)
	f := tlsFiles{ca: ca}
	f.cert, f.key, err = server.WriteFiles(dir, "inbound")
	require.NoError(t, err)
	f.caFile, err = ca.WriteFile(dir, "ca")
	require.NoError(t, err)
	return f
}
