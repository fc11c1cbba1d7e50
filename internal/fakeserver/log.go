package fakeserver

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // certificate thumbprints are SHA-1 by convention
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/casebridge/casebridge/internal/transport"
)

// Redacted replaces a secret in a recorded request.
const Redacted = "[REDACTED]"

// Request is one request a fake received, with secrets redacted.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Header has every credential header (transport.IsSecretHeader)
	// replaced by Redacted.
	Header http.Header
	// Body is the raw body, with whatever the fake's redaction removed.
	Body []byte
	// ClientCertThumbprint is the upper-case hex SHA-1 thumbprint of the
	// client certificate presented over TLS, "" without one.
	ClientCertThumbprint string
	// Fault is the fault the request got (FaultNone: none).
	Fault Fault
}

// Record copies r for the log: secret headers replaced by Redacted, the
// body passed through redactBody when it is not nil.
func Record(r *http.Request, body []byte, redactBody func([]byte) []byte) Request {
	h := r.Header.Clone()
	for k, vs := range h {
		if transport.IsSecretHeader(k) {
			for i := range vs {
				vs[i] = Redacted
			}
		}
	}
	body = bytes.Clone(body)
	if redactBody != nil {
		body = redactBody(body)
	}
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: h, Body: body}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		rec.ClientCertThumbprint = Thumbprint(r.TLS.PeerCertificates[0].Raw)
	}
	return rec
}

// Thumbprint is the SHA-1 thumbprint of a DER certificate, upper-case hex
// (as Windows and Azure show it).
func Thumbprint(der []byte) string {
	sum := sha1.Sum(der) //nolint:gosec // the thumbprint convention, not a security use
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Log is a fake's request log, in order of arrival. It is safe for
// concurrent use.
type Log struct {
	mu   sync.Mutex
	reqs []Request
}

// Add appends a request.
func (l *Log) Add(r Request) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
}

// All returns a deep copy of the log.
func (l *Log) All() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.reqs)
	for i := range out {
		out[i].Query = cloneValues(out[i].Query)
		out[i].Header = out[i].Header.Clone()
		out[i].Body = bytes.Clone(out[i].Body)
	}
	return out
}

// Reset forgets the log.
func (l *Log) Reset() {
	l.mu.Lock()
	l.reqs = nil
	l.mu.Unlock()
}

// FaultCounts counts the logged requests by the fault they got; requests
// without a fault are not counted.
func (l *Log) FaultCounts() Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := Counts{}
	for _, r := range l.reqs {
		if r.Fault != FaultNone {
			out[r.Fault]++
		}
	}
	return out
}

// Counts are numbers of requests by the fault they got.
type Counts map[Fault]int

// Total is the number of faults, FaultNone not counted.
func (c Counts) Total() int {
	n := 0
	for f, k := range c {
		if f != FaultNone {
			n += k
		}
	}
	return n
}

// AfterActing is the number of faults that hit after the request acted
// (the lost answers).
func (c Counts) AfterActing() int {
	n := 0
	for f, k := range c {
		if f.AfterActing() {
			n += k
		}
	}
	return n
}

// String summarizes the counts for a test log, e.g. "37 faults injected,
// 9 after acting (status 8, rate-limit 7, timeout 6, drop-before 7,
// drop-after 9)".
func (c Counts) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d faults injected, %d after acting (", c.Total(), c.AfterActing())
	for f := FaultStatus; f <= FaultDropAfter; f++ {
		if f > FaultStatus {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", f, c[f])
	}
	b.WriteByte(')')
	return b.String()
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
