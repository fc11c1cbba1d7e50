package primerotest

import (
	"net/http"
	"time"

	"github.com/casebridge/casebridge/internal/fakeserver"
)

// faultResponses answer status faults as Primero does: its JSON error
// envelope, and Rack::Attack's plain-text 429.
var faultResponses = fakeserver.Responses{
	Status: func(w http.ResponseWriter, r *http.Request, status int) {
		writeError(w, r, status, statusMessage(status), nil)
	},
	RateLimited: func(w http.ResponseWriter, _ *http.Request, _ string) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Retry later\n"))
	},
}

// isLogin tells the login endpoint (POST and DELETE /api/v2/tokens),
// which chaos leaves alone unless Chaos.IncludeLogin.
func isLogin(r *http.Request) bool {
	return r.URL.Path == "/api/v2/tokens" || r.URL.Path == "/api/v2/tokens/"
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

// FailNext answers the next n requests (any path) with status and Primero's
// error envelope, without acting.
func (s *Server) FailNext(n int, status int) {
	s.inj.Queue(n, fakeserver.Injection{Fault: FaultStatus, Status: status})
}

// RateLimitNext answers the next n requests with a plain-text "Retry later"
// 429 carrying Retry-After (in seconds, rounded up), without acting.
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.inj.Queue(n, fakeserver.Injection{Fault: FaultRateLimit, RetryAfter: retryAfter})
}

// DropNext resets the connection of the next n requests without a
// response, before they act.
func (s *Server) DropNext(n int) { s.inj.Queue(n, fakeserver.Injection{Fault: FaultDropBefore}) }

// DropAfterNext lets the next n requests act (state changes as usual),
// then resets the connection without the response: the answer is lost.
func (s *Server) DropAfterNext(n int) { s.inj.Queue(n, fakeserver.Injection{Fault: FaultDropAfter}) }

// TimeoutNext holds the next n requests without acting until the client
// gives up, or for hold at most (then the connection is reset).
func (s *Server) TimeoutNext(n int, hold time.Duration) {
	s.inj.Queue(n, fakeserver.Injection{Fault: FaultTimeout, Hold: hold})
}

// SetLatency delays every following response by d (0 removes the delay).
func (s *Server) SetLatency(d time.Duration) { s.inj.SetLatency(d) }

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
