package progrestest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/casebridge/casebridge/internal/fakeserver"
)

// maxBody caps a request body the fakes read.
const maxBody = 10 << 20

// Redacted replaces a secret in a recorded request.
const Redacted = fakeserver.Redacted

// Request is one request a fake received, with secrets redacted.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Header has every credential header (Authorization,
	// Ocp-Apim-Subscription-Key, X-Api-Key, Cookie, …) replaced by Redacted.
	Header http.Header
	// Body is the raw body; the password of a token request is replaced
	// by Redacted.
	Body []byte
	// ClientCertThumbprint is the SHA-1 thumbprint of the client
	// certificate presented (DTP), "" without one.
	ClientCertThumbprint string
	// Fault is the fault the request got (FaultNone: none).
	Fault Fault
}

// apimResponses answer status faults as Azure API Management does.
var apimResponses = fakeserver.Responses{
	Status: func(w http.ResponseWriter, _ *http.Request, status int) {
		writeAPIM(w, status, http.StatusText(status))
	},
	RateLimited: func(w http.ResponseWriter, _ *http.Request, secs string) {
		writeAPIM(w, http.StatusTooManyRequests, "Rate limit is exceeded. Try again in "+secs+" seconds.")
	},
}

// core is what every fake shares: the listener, the request log, faults,
// latency and the clock. Its methods are safe for concurrent use.
type core struct {
	srv *http.Server
	url string

	log fakeserver.Log       // the requests received
	inj *fakeserver.Injector // queued faults, chaos, latency

	mu    sync.Mutex
	clock func() time.Time
}

// init sets the clock, the latency and the chaos of cfg; isLogin tells
// the fake's token endpoint (nil: none).
func (c *core) init(cfg config, isLogin func(*http.Request) bool) error {
	if cfg.err != nil {
		return cfg.err
	}
	c.clock = cfg.clock
	c.inj = fakeserver.NewInjector(apimResponses, isLogin)
	c.inj.SetLatency(cfg.latency)
	if cfg.chaos != nil {
		return c.inj.SetChaos(*cfg.chaos)
	}
	return nil
}

// serve starts h on addr, with TLS when tc is not nil. Over TLS it speaks
// HTTP/1.1 only, so that faults can hijack and reset the connection.
func (c *core) serve(addr string, tc *tls.Config, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if tc != nil {
		tc.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	c.url = scheme + "://" + ln.Addr().String()
	c.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: discardLog,
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}} // no HTTP/2
	go func() { _ = c.srv.Serve(ln) }()
	return nil
}

// URL returns the server's base URL.
func (c *core) URL() string { return c.url }

// Close stops the server and closes its open connections (requests held
// by latency or a timeout fault end at once).
func (c *core) Close() {
	c.inj.Close()
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

// handle reads and records the request, decides its fault, waits the
// latency and runs act with the body unless the fault comes first.
// redact, when not nil, redacts the recorded body.
func (c *core) handle(w http.ResponseWriter, r *http.Request, redact func([]byte) []byte, act func(http.ResponseWriter, []byte)) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeAPIM(w, http.StatusBadRequest, "Bad request")
		return
	}
	c.inj.Intercept(&c.log, w, r, body, redact, func(w http.ResponseWriter) { act(w, body) })
}

// FailNext answers the next n requests (any path) with status and an API
// Management error body, without acting.
func (c *core) FailNext(n int, status int) {
	c.inj.Queue(n, fakeserver.Injection{Fault: FaultStatus, Status: status})
}

// RateLimitNext answers the next n requests with 429 and Retry-After (in
// seconds, rounded up), as API Management's rate-limit policy does.
func (c *core) RateLimitNext(n int, retryAfter time.Duration) {
	c.inj.Queue(n, fakeserver.Injection{Fault: FaultRateLimit, RetryAfter: retryAfter})
}

// DropNext resets the connection of the next n requests without an
// answer, before they act.
func (c *core) DropNext(n int) { c.inj.Queue(n, fakeserver.Injection{Fault: FaultDropBefore}) }

// DropAfterNext lets the next n requests act (a body is stored, a record
// ingested), then resets the connection without the answer: the answer is
// lost.
func (c *core) DropAfterNext(n int) { c.inj.Queue(n, fakeserver.Injection{Fault: FaultDropAfter}) }

// TimeoutNext holds the next n requests without acting until the client
// gives up, or for hold at most (then the connection is reset).
func (c *core) TimeoutNext(n int, hold time.Duration) {
	c.inj.Queue(n, fakeserver.Injection{Fault: FaultTimeout, Hold: hold})
}

// SetLatency delays every following answer by d (0 removes the delay).
func (c *core) SetLatency(d time.Duration) { c.inj.SetLatency(d) }

// SetClock replaces the fake's clock (token expiry, certificate validity).
func (c *core) SetClock(now func() time.Time) {
	c.mu.Lock()
	c.clock = now
	c.mu.Unlock()
}

// Requests returns every request received, in order of arrival (of
// concurrent requests, in the order the fake took them).
func (c *core) Requests() []Request { return requestsOf(&c.log) }

// requestsOf converts a shared log to this package's Requests.
func requestsOf(log *fakeserver.Log) []Request {
	all := log.All()
	out := make([]Request, len(all))
	for i, r := range all {
		out[i] = Request{Method: r.Method, Path: r.Path, Query: r.Query, Header: r.Header, Body: r.Body,
			ClientCertThumbprint: r.ClientCertThumbprint, Fault: r.Fault}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (c *core) ResetRequests() { c.log.Reset() }

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
