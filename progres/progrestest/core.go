package progrestest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// maxBody caps a request body the fakes read.
const maxBody = 10 << 20

// Redacted replaces a secret in a recorded request.
const Redacted = "[REDACTED]"

// secretHeaders are replaced by Redacted in recorded requests.
var secretHeaders = []string{"Authorization", "Ocp-Apim-Subscription-Key", "X-Api-Key", "Cookie"}

// Request is one request a fake received, with secrets redacted.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header // credential headers replaced by Redacted
	// Body is the raw body; the password of a token request is replaced
	// by Redacted.
	Body []byte
	// ClientCertThumbprint is the SHA-1 thumbprint of the client
	// certificate presented (DTP), "" without one.
	ClientCertThumbprint string
}

// faultKind is the kind of an injected fault.
type faultKind int

const (
	faultStatus faultKind = iota
	faultRateLimit
	faultDrop
)

// fault is one injected answer, consumed by the next request.
type fault struct {
	kind       faultKind
	status     int
	retryAfter time.Duration
}

// core is what every fake shares: the listener, the request log, faults,
// latency and the clock. Its methods are safe for concurrent use.
type core struct {
	srv *http.Server
	url string

	mu       sync.Mutex
	requests []Request
	faults   []fault
	latency  time.Duration
	clock    func() time.Time
}

// serve starts h on addr, with TLS when tc is not nil.
func (c *core) serve(addr string, tc *tls.Config, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if tc != nil {
		ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	c.url = scheme + "://" + ln.Addr().String()
	c.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: discardLog}
	go func() { _ = c.srv.Serve(ln) }()
	return nil
}

// URL returns the server's base URL.
func (c *core) URL() string { return c.url }

// Close stops the server and closes its open connections.
func (c *core) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx); err != nil {
		_ = c.srv.Close()
	}
}

// now is the fake's clock.
func (c *core) now() time.Time {
	c.mu.Lock()
	clk := c.clock
	c.mu.Unlock()
	return clk()
}

// begin reads and records the request, waits the latency and applies the
// next fault. It returns the body and false when the fault answered.
func (c *core) begin(w http.ResponseWriter, r *http.Request, redact func([]byte) []byte) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeAPIM(w, http.StatusBadRequest, "Bad request")
		return nil, false
	}
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: bytes.Clone(body)}
	for _, k := range secretHeaders {
		if _, ok := rec.Header[k]; ok {
			rec.Header[k] = []string{Redacted}
		}
	}
	if redact != nil {
		rec.Body = redact(rec.Body)
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		rec.ClientCertThumbprint = thumbprint(r.TLS.PeerCertificates[0].Raw)
	}
	c.mu.Lock()
	c.requests = append(c.requests, rec)
	var f *fault
	if len(c.faults) > 0 {
		f0 := c.faults[0]
		c.faults = c.faults[1:]
		f = &f0
	}
	latency := c.latency
	c.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return nil, false
		}
	}
	if f != nil {
		f.apply(w)
		return nil, false
	}
	return body, true
}

// apply answers with the fault.
func (f fault) apply(w http.ResponseWriter) {
	switch f.kind {
	case faultStatus:
		writeAPIM(w, f.status, http.StatusText(f.status))
	case faultRateLimit:
		secs := retryAfterSeconds(f.retryAfter)
		w.Header().Set("Retry-After", secs)
		writeAPIM(w, http.StatusTooManyRequests, "Rate limit is exceeded. Try again in "+secs+" seconds.")
	case faultDrop:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		_ = conn.Close()
	}
}

// retryAfterSeconds renders d in whole seconds, rounded up.
func retryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 0 {
		secs = 0
	}
	return strconv.FormatInt(secs, 10)
}

// FailNext answers the next n requests (any path) with status and an API
// Management error body.
func (c *core) FailNext(n int, status int) { c.addFaults(n, fault{kind: faultStatus, status: status}) }

// RateLimitNext answers the next n requests with 429 and Retry-After (in
// seconds, rounded up), as API Management's rate-limit policy does.
func (c *core) RateLimitNext(n int, retryAfter time.Duration) {
	c.addFaults(n, fault{kind: faultRateLimit, retryAfter: retryAfter})
}

// DropNext closes the connection of the next n requests without an answer.
func (c *core) DropNext(n int) { c.addFaults(n, fault{kind: faultDrop}) }

func (c *core) addFaults(n int, f fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		c.faults = append(c.faults, f)
	}
}

// SetLatency delays every following answer by d (0 removes the delay).
func (c *core) SetLatency(d time.Duration) {
	c.mu.Lock()
	c.latency = d
	c.mu.Unlock()
}

// SetClock replaces the fake's clock (token expiry, certificate validity).
func (c *core) SetClock(now func() time.Time) {
	c.mu.Lock()
	c.clock = now
	c.mu.Unlock()
}

// Requests returns every request received, in order of arrival.
func (c *core) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.requests)
	for i := range out {
		out[i].Header = out[i].Header.Clone()
		out[i].Body = bytes.Clone(out[i].Body)
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (c *core) ResetRequests() {
	c.mu.Lock()
	c.requests = nil
	c.mu.Unlock()
}

// writeJSON writes v as JSON with status, always as application/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeAPIM writes Azure API Management's error body.
func writeAPIM(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": message})
}
