package progres

import (
	"crypto/sha1" //nolint:gosec // the thumbprint APIM shows is SHA-1; it identifies, it does not protect
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/casebridge/casebridge/internal/transport"
)

// WithClientCertificate presents cert in the TLS handshake of every DTP
// call (mutual TLS). cert must hold a private key and at least one
// certificate.
func WithClientCertificate(cert tls.Certificate) Option {
	return func(c *config) error {
		if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
			return transport.NewValidationError("WithClientCertificate.cert", "must hold a certificate and its private key")
		}
		c.certs = []tls.Certificate{cert}
		c.dtpOnly = append(c.dtpOnly, "WithClientCertificate")
		return nil
	}
}

// WithClientCertificateFiles loads the client certificate and its key from
// PEM files, as the DTP credential holds them.
func WithClientCertificateFiles(certFile, keyFile string) Option {
	return func(c *config) error {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			// The error may quote file content; name the option only.
			return transport.NewValidationError("WithClientCertificateFiles", "cannot load a certificate and key from the PEM files")
		}
		return WithClientCertificate(cert)(c)
	}
}

// WithClientCertificatePEM is WithClientCertificateFiles for PEM bytes.
func WithClientCertificatePEM(certPEM, keyPEM []byte) Option {
	return func(c *config) error {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return transport.NewValidationError("WithClientCertificatePEM", "is not a PEM certificate and matching key")
		}
		return WithClientCertificate(cert)(c)
	}
}

// WithRootCAs verifies the gateway's server certificate against pool
// instead of the system roots (a private CA, or the fake's).
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *config) error {
		if pool == nil {
			return transport.NewValidationError("WithRootCAs.pool", "must not be nil")
		}
		c.rootCAs = pool
		c.dtpOnly = append(c.dtpOnly, "WithRootCAs")
		return nil
	}
}

// WithThumbprintHeader also sends the client certificate's SHA-1 thumbprint
// (upper-case hex, as Azure shows it) in the named header. Off by default:
// the project documentation says the thumbprint is "included in every
// request", but no public code sends such a header, and APIM most likely
// checks the presented certificate itself (unconfirmed; see
// docs/systems/progres.md).
func WithThumbprintHeader(name string) Option {
	return func(c *config) error {
		if !validHeaderName(name) {
			return transport.NewValidationError("WithThumbprintHeader.name", "is not a valid header name")
		}
		c.thumbprintHeader = name
		c.dtpOnly = append(c.dtpOnly, "WithThumbprintHeader")
		return nil
	}
}

// Thumbprint returns the SHA-1 thumbprint of cert's leaf certificate in
// upper-case hex, the form Azure displays.
func Thumbprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha1.Sum(cert.Certificate[0]) //nolint:gosec // identification only
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// tlsHTTPClient returns the base HTTP client with a transport that presents
// the client certificate and trusts the configured roots.
func (c *config) tlsHTTPClient() (*http.Client, error) {
	var base *http.Transport
	hc := &http.Client{Timeout: transport.DefaultTimeout}
	if c.httpClient != nil {
		*hc = *c.httpClient
		switch t := c.httpClient.Transport.(type) {
		case nil:
		case *http.Transport:
			base = t.Clone()
		default:
			return nil, transport.NewValidationError("WithHTTPClient.hc", "its Transport must be nil or *http.Transport to present a client certificate")
		}
	}
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if base.TLSClientConfig != nil {
		tc = base.TLSClientConfig.Clone()
		if tc.MinVersion < tls.VersionTLS12 {
			tc.MinVersion = tls.VersionTLS12
		}
	}
	tc.Certificates = c.certs
	if c.rootCAs != nil {
		tc.RootCAs = c.rootCAs
	}
	base.TLSClientConfig = tc
	hc.Transport = base
	return hc, nil
}

// ServerTLSConfig is a TLS configuration for the listener that serves the
// inbound Handler: TLS 1.2 or later with cert. When clientCAs is not nil
// the listener also requires a client certificate that chains to it
// (mutual TLS). Serve with http.Server{TLSConfig: cfg} and ListenAndServeTLS("", "").
func ServerTLSConfig(cert tls.Certificate, clientCAs *x509.CertPool) (*tls.Config, error) {
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return nil, transport.NewValidationError("cert", "must hold a certificate and its private key")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		cfg.ClientCAs = clientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
