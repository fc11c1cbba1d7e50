package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// The inbound endpoint: where DTP pushes proGres referrals and decisions.
// It serves TLS only (the bodies carry children's data), optionally
// requires a client certificate from a given CA (mutual TLS), and checks
// the API key in progres.Handler. Requests go to the handler the flows
// provide; /healthz answers 200 for load balancers and monitors.

// Timeouts of the inbound server: generous for a gateway posting a large
// notification, short enough that idle or slow clients cannot hold
// connections open for ever.
const (
	inboundReadHeaderTimeout = 10 * time.Second
	inboundReadTimeout       = 2 * time.Minute
	inboundWriteTimeout      = 5 * time.Minute // the callbacks write to Primero before the answer
	inboundIdleTimeout       = 2 * time.Minute
	inboundShutdownTimeout   = 30 * time.Second
	inboundMaxHeaderBytes    = 64 << 10
)

// inbound is the listening endpoint.
type inbound struct {
	ln   net.Listener
	srv  *http.Server
	done chan error
}

// listenInbound opens the TLS listener on addr with the certificate in
// certFile/keyFile and, when clientCAFile is set, mutual TLS. It serves
// nothing until serve is called, so that its address can be given to
// whoever pushes before the handler exists.
func listenInbound(addr, certFile, keyFile, clientCAFile string) (*inbound, error) {
	tc, err := inboundTLS(certFile, keyFile, clientCAFile)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-listen: cannot listen on %s: %w", addr, err)
	}
	return &inbound{ln: tls.NewListener(ln, tc)}, nil
}

// inboundTLS builds the endpoint's TLS configuration from files. Errors
// name the flag, never what a file holds.
func inboundTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, errors.New("-tls-cert, -tls-key: cannot load a PEM certificate and its matching key from these files")
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, errors.New("-tls-client-ca: cannot read the file")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("-tls-client-ca: the file holds no PEM certificate")
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// URL is the endpoint's https URL (with the port actually bound).
func (in *inbound) URL() string {
	addr := in.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "https://" + net.JoinHostPort(host, fmt.Sprint(addr.Port)) + "/"
}

// serve starts serving h in the background.
func (in *inbound) serve(h http.Handler) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/", h)
	in.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: inboundReadHeaderTimeout,
		ReadTimeout:       inboundReadTimeout,
		WriteTimeout:      inboundWriteTimeout,
		IdleTimeout:       inboundIdleTimeout,
		MaxHeaderBytes:    inboundMaxHeaderBytes,
	}
	in.done = make(chan error, 1)
	go func() { in.done <- in.srv.Serve(in.ln) }()
}

// close stops the endpoint gracefully: no new connections, and the
// notifications being handled finish (their callbacks record what they
// did) within the shutdown timeout.
func (in *inbound) close() error {
	if in.srv == nil {
		return in.ln.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), inboundShutdownTimeout)
	defer cancel()
	err := in.srv.Shutdown(ctx)
	if serr := <-in.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
