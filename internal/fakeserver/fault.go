package fakeserver

import "time"

// Fault is the kind of fault injected into one request.
type Fault int

// The faults, and FaultNone for a request that got none.
const (
	// FaultNone: the request was served normally.
	FaultNone Fault = iota
	// FaultStatus: an error status before acting (chaos answers 503;
	// FailNext answers the status it was given).
	FaultStatus
	// FaultRateLimit: 429 with a Retry-After header, before acting.
	FaultRateLimit
	// FaultTimeout: held without an answer until the client gave up (or
	// the hold ran out, then the connection is reset); never acted.
	FaultTimeout
	// FaultDropBefore: the connection is reset before acting.
	FaultDropBefore
	// FaultDropAfter: the request acted (state changed), then the
	// connection is reset without the answer: the lost answer.
	FaultDropAfter
)

// faultNames are the String forms, by Fault.
var faultNames = [...]string{"none", "status", "rate-limit", "timeout", "drop-before", "drop-after"}

// String returns the fault's name: none, status, rate-limit, timeout,
// drop-before or drop-after.
func (f Fault) String() string {
	if f < 0 || int(f) >= len(faultNames) {
		return "unknown"
	}
	return faultNames[f]
}

// AfterActing reports whether the request acted before the fault hit
// (FaultDropAfter): its effect happened although the client saw none.
func (f Fault) AfterActing() bool { return f == FaultDropAfter }

// Injection is one fault decided for one request.
type Injection struct {
	Fault Fault
	// Status is FaultStatus's status code.
	Status int
	// RetryAfter is FaultRateLimit's Retry-After (sent in whole seconds,
	// rounded up).
	RetryAfter time.Duration
	// Hold is FaultTimeout's longest wait for the client to give up.
	Hold time.Duration
}
