package primerotest

import (
	"net/http"
	"strconv"
	"time"
)

// faultKind is the kind of an injected fault.
type faultKind int

const (
	faultStatus faultKind = iota
	faultRateLimit
	faultDrop
)

// fault is one injected response, consumed by the next request.
type fault struct {
	kind       faultKind
	status     int
	retryAfter time.Duration
}

// apply answers the request with the fault.
func (f fault) apply(w http.ResponseWriter, r *http.Request) {
	switch f.kind {
	case faultStatus:
		writeError(w, r, f.status, statusMessage(f.status), nil)
	case faultRateLimit:
		w.Header().Set("Retry-After", retryAfterSeconds(f.retryAfter))
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Retry later\n"))
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

// statusMessage is Primero's message for an error status.
func statusMessage(status int) string {
	switch status {
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusConflict:
		return "Conflict: A record with this id already exists"
	case http.StatusServiceUnavailable:
		return "Service Unavailable"
	}
	return http.StatusText(status)
}

// retryAfterSeconds renders d as a Retry-After value in whole seconds,
// rounded up.
func retryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 0 {
		secs = 0
	}
	return strconv.FormatInt(secs, 10)
}

// FailNext answers the next n requests (any path) with status and Primero's
// error envelope.
func (s *Server) FailNext(n int, status int) {
	s.addFaults(n, fault{kind: faultStatus, status: status})
}

// RateLimitNext answers the next n requests with a plain-text "Retry later"
// 429 carrying Retry-After (in seconds, rounded up).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.addFaults(n, fault{kind: faultRateLimit, retryAfter: retryAfter})
}

// DropNext closes the connection of the next n requests without a response.
func (s *Server) DropNext(n int) {
	s.addFaults(n, fault{kind: faultDrop})
}

func (s *Server) addFaults(n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// SetLatency delays every following response by d (0 removes the delay).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// LockSystem makes every call answer 503 "Service Unavailable" with a
// Retry-After header and detail, as Primero does while its configuration is
// being updated; UnlockSystem undoes it.
func (s *Server) LockSystem(retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = time.Minute
	}
	s.mu.Lock()
	s.lockedFor = retryAfter
	s.mu.Unlock()
}

// UnlockSystem ends LockSystem.
func (s *Server) UnlockSystem() {
	s.mu.Lock()
	s.lockedFor = 0
	s.mu.Unlock()
}
