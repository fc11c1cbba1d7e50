package fakeserver

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/casebridge/casebridge/internal/transport"
)

// Chaos defaults.
const (
	// DefaultRetryAfter is the Retry-After of chaos 429s.
	DefaultRetryAfter = time.Second
	// DefaultHold is how long a chaos timeout waits at most for the client
	// to give up before the connection is reset.
	DefaultHold = 2 * time.Second
)

// Weights are the relative odds of each kind of chaos fault. All zero
// means every kind is equally likely; a zero weight among non-zero ones
// switches that kind off.
type Weights struct {
	Unavailable int // 503 before acting
	RateLimit   int // 429 with Retry-After before acting
	Timeout     int // held past the client's timeout, not acted
	DropBefore  int // connection reset before acting
	DropAfter   int // acted, then connection reset: the lost answer
}

// Chaos is a seeded random fault plan: each request it applies to gets a
// fault with probability Rate, of a kind drawn by Weights.
//
// Given the seed, the plan is a fixed sequence over the requests it applies
// to, in the order the server decides them: sequential requests get the
// same faults on every run. Concurrent requests race for their place in the
// sequence, so which of them gets which fault can change between runs (the
// number and kinds of faults over a run stay as the seed says only up to
// that ordering).
type Chaos struct {
	// Rate is the probability, from 0 to 1, that a request gets a fault.
	Rate float64
	// Seed seeds the plan.
	Seed int64
	// Weights are the odds of each kind (all zero: equal).
	Weights Weights
	// RetryAfter is the Retry-After of a 429 (0: DefaultRetryAfter). The
	// header carries whole seconds, rounded up; the clients cap what they
	// wait (transport.RetryPolicy.MaxRetryAfter), so a test keeps fast by
	// setting a small cap in its client.
	RetryAfter time.Duration
	// Hold is the longest a timeout holds the request (0: DefaultHold).
	// Give the client a shorter timeout: it then gives up first and sees a
	// timeout; otherwise it sees the connection reset after Hold.
	Hold time.Duration
	// WritesOnly applies the plan only to writes (not GET, HEAD, OPTIONS).
	WritesOnly bool
	// PathPrefix applies the plan only to paths that start with it.
	PathPrefix string
	// Match, when set, applies the plan only to the requests it accepts
	// (after WritesOnly and PathPrefix).
	Match func(*http.Request) bool
	// IncludeLogin applies the plan to the fake's login and token
	// endpoints too; by default they are exempt, so that chaos never
	// makes a client log in again (a new login may expire its other
	// sessions, and failed logins count toward lockout and throttling).
	IncludeLogin bool
}

// Validate checks the plan; errors name the field.
func (c Chaos) Validate() error {
	v := &transport.ValidationError{}
	if !(c.Rate >= 0 && c.Rate <= 1) { // also refuses NaN
		v.Add("Chaos.Rate", "must be between 0 and 1")
	}
	w := c.Weights
	for _, f := range []struct {
		name string
		v    int
	}{{"Unavailable", w.Unavailable}, {"RateLimit", w.RateLimit}, {"Timeout", w.Timeout},
		{"DropBefore", w.DropBefore}, {"DropAfter", w.DropAfter}} {
		if f.v < 0 {
			v.Add("Chaos.Weights."+f.name, "must not be negative")
		}
	}
	if c.RetryAfter < 0 {
		v.Add("Chaos.RetryAfter", "must not be negative")
	}
	if c.Hold < 0 {
		v.Add("Chaos.Hold", "must not be negative")
	}
	return v.Err()
}

// plan is a running Chaos: its random sequence and resolved defaults.
type plan struct {
	c     Chaos
	rng   *rand.Rand
	kinds []Fault
	cumul []int // cumulative weights of kinds
	total int
}

// newPlan starts c's sequence from its seed.
func newPlan(c Chaos) *plan {
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if c.Hold == 0 {
		c.Hold = DefaultHold
	}
	w := c.Weights
	if w == (Weights{}) {
		w = Weights{1, 1, 1, 1, 1}
	}
	p := &plan{c: c, rng: rand.New(rand.NewPCG(uint64(c.Seed), 0x63686161_6f73))} // "chaos"
	for _, kw := range []struct {
		f Fault
		w int
	}{{FaultStatus, w.Unavailable}, {FaultRateLimit, w.RateLimit}, {FaultTimeout, w.Timeout},
		{FaultDropBefore, w.DropBefore}, {FaultDropAfter, w.DropAfter}} {
		if kw.w > 0 {
			p.total += kw.w
			p.kinds = append(p.kinds, kw.f)
			p.cumul = append(p.cumul, p.total)
		}
	}
	return p
}

// applies reports whether the plan covers r; isLogin tells the fake's
// login endpoints.
func (p *plan) applies(r *http.Request, isLogin func(*http.Request) bool) bool {
	switch {
	case p.c.Rate <= 0 || p.total == 0:
		return false
	case !p.c.IncludeLogin && isLogin != nil && isLogin(r):
		return false
	case p.c.WritesOnly && !isWrite(r.Method):
		return false
	case !strings.HasPrefix(r.URL.Path, p.c.PathPrefix):
		return false
	case p.c.Match != nil && !p.c.Match(r):
		return false
	}
	return true
}

// next draws the fault of the next request the plan applies to.
func (p *plan) next() Injection {
	if p.rng.Float64() >= p.c.Rate {
		return Injection{}
	}
	n := p.rng.IntN(p.total)
	f := p.kinds[len(p.kinds)-1]
	for i, c := range p.cumul {
		if n < c {
			f = p.kinds[i]
			break
		}
	}
	inj := Injection{Fault: f}
	switch f {
	case FaultStatus:
		inj.Status = http.StatusServiceUnavailable
	case FaultRateLimit:
		inj.RetryAfter = p.c.RetryAfter
	case FaultTimeout:
		inj.Hold = p.c.Hold
	}
	return inj
}

// isWrite reports whether method may change state.
func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
