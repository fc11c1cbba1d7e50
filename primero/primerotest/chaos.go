package primerotest

import "github.com/casebridge/casebridge/internal/fakeserver"

// Fault is the kind of fault a request got (Request.Fault).
type Fault = fakeserver.Fault

// The faults the server injects; FaultNone for a request served normally.
const (
	FaultNone       = fakeserver.FaultNone       // served normally
	FaultStatus     = fakeserver.FaultStatus     // error status before acting (chaos: 503)
	FaultRateLimit  = fakeserver.FaultRateLimit  // 429 with Retry-After before acting
	FaultTimeout    = fakeserver.FaultTimeout    // held until the client gave up, not acted
	FaultDropBefore = fakeserver.FaultDropBefore // connection reset before acting
	FaultDropAfter  = fakeserver.FaultDropAfter  // acted, then connection reset: answer lost
)

// Chaos is a seeded random fault plan: Rate (0 to 1) of the requests it
// applies to get one of the five faults, drawn by Weights; the same Seed
// and the same order of requests give the same faults. By default it
// applies to every request except the login (POST/DELETE /api/v2/tokens);
// WritesOnly, PathPrefix, Match and IncludeLogin change that. Chaos never
// answers 401 or 403. A 429 carries Retry-After (RetryAfter, default 1s:
// cap it in the client, transport.RetryPolicy.MaxRetryAfter, to keep tests
// fast); a timeout holds the request until the client gives up or Hold
// passes (default 2s): give the client a shorter timeout.
type Chaos = fakeserver.Chaos

// ChaosWeights are the relative odds of each fault kind (all zero: equal).
type ChaosWeights = fakeserver.Weights

// FaultCounts are numbers of requests by the fault they got; Total,
// AfterActing and String summarize them ("37 faults injected, 9 after
// acting (…)").
type FaultCounts = fakeserver.Counts

// WithChaos starts the server with chaos on (see SetChaos). An invalid
// plan is reported by Start.
func WithChaos(c Chaos) Option {
	return func(cfg *config) {
		if err := c.Validate(); err != nil {
			cfg.err = err
			return
		}
		cfg.chaos = &c
	}
}

// SetChaos starts c's fault plan from its seed, replacing any running one;
// queued faults (FailNext, DropNext, …) still come first. It returns c's
// validation error and then leaves the running plan as it was.
func (s *Server) SetChaos(c Chaos) error { return s.inj.SetChaos(c) }

// StopChaos ends the chaos plan.
func (s *Server) StopChaos() { s.inj.StopChaos() }

// FaultCounts counts the recorded requests (Requests) by the fault they
// got, queued or chaos; requests without a fault are not counted.
func (s *Server) FaultCounts() FaultCounts { return s.log.FaultCounts() }
