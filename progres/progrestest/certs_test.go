package progrestest_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCAIssuesVerifiableCertificates(t *testing.T) {
	ca, err := progrestest.NewCA("test CA")
	require.NoError(t, err)
	client, err := ca.IssueClient("client-1")
	require.NoError(t, err)
	_, err = client.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err)
	assert.Len(t, client.Thumbprint(), 40)

	expired, err := ca.Issue(progrestest.CertSpec{CommonName: "old", Client: true, NotAfter: time.Now().Add(-time.Hour), NotBefore: time.Now().Add(-2 * time.Hour)})
	require.NoError(t, err)
	_, err = expired.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.Error(t, err)

	dir := t.TempDir()
	certFile, keyFile, err := client.WriteFiles(dir, "client")
	require.NoError(t, err)
	_, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	fi, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "keys are not world-readable")
	caFile, err := ca.WriteFile(dir, "ca")
	require.NoError(t, err)
	b, err := os.ReadFile(caFile)
	require.NoError(t, err)
	assert.Equal(t, ca.CertPEM, b)
}
