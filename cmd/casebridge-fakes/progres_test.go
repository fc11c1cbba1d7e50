package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunServesProgresFakes(t *testing.T) {
	pushed := make(chan string, 16)
	inbound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pushed <- r.Header.Get("X-Test-Key")
	}))
	defer inbound.Close()

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		done <- run(ctx, []string{"-cases", "3", "-progres-certs", dir, "-progres-inbound", inbound.URL,
			"-progres-inbound-key", "k-1", "-progres-inbound-header", "X-Test-Key", "-progres-push-interval", "10ms"}, pw)
		pw.Close()
	}()
	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, ": "); ok {
			lines[k] = v
		}
		if strings.HasPrefix(line, "ready") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	// DTP, with the certificate files it wrote.
	dtpURL, _, _ := strings.Cut(lines["dtp"], " ")
	ca, err := os.ReadFile(dir + "/progres-ca.crt")
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	cert, err := tls.LoadX509KeyPair(dir+"/progres-client.crt", dir+"/progres-client.key")
	require.NoError(t, err)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest(http.MethodPost, dtpURL+"/ReceiveDecisionOutgoingReferral",
		strings.NewReader(`{"progres_interventionnumber":"n-1","status":"Delivery Fail","request_type":"Feedback","closure_reason":"r"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ocp-Apim-Subscription-Key", progrestest.DefaultSubscriptionKey)
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// PING: a token from the printed endpoint.
	tokenURL := strings.Fields(lines["token"])[1] // "POST <url> (password grant)"
	form := url.Values{"grant_type": {"password"}, "username": {progrestest.DefaultUsername}, "password": {progrestest.DefaultPassword},
		"client_id": {progrestest.DefaultClientID}, "scope": {progrestest.DefaultScope}}
	resp, err = http.Post(tokenURL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// The DTP fake pushes its queued notifications to the inbound URL.
	select {
	case key := <-pushed:
		assert.Equal(t, "k-1", key)
	case <-time.After(10 * time.Second):
		t.Fatal("no push arrived")
	}
	cancel()
	require.NoError(t, <-done)
}

func TestProgresFlagsValidate(t *testing.T) {
	require.Error(t, run(context.Background(), []string{"-progres-inbound", "ftp://x"}, io.Discard))
	require.Error(t, run(context.Background(), []string{"-progres-push-interval", "0s"}, io.Discard))
}
