package fakeserver

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Responses render a fake's status faults in its system's own shape.
type Responses struct {
	// Status answers an error status (FailNext, and chaos 503s).
	Status func(w http.ResponseWriter, r *http.Request, status int)
	// RateLimited answers 429; retryAfter is the Retry-After header value
	// already set on w.
	RateLimited func(w http.ResponseWriter, r *http.Request, retryAfter string)
}

// Injector decides and applies the faults of a fake: the queued ones
// first, in order, then the chaos plan. It also holds the fake's latency.
// It is safe for concurrent use.
type Injector struct {
	resp    Responses
	isLogin func(*http.Request) bool

	mu      sync.Mutex
	queue   []Injection
	latency time.Duration
	plan    *plan // nil: chaos off

	done      chan struct{} // closed by Close: held requests end
	closeOnce sync.Once
}

// NewInjector returns an Injector answering status faults with resp;
// isLogin tells the fake's login and token endpoints, which chaos leaves
// alone unless Chaos.IncludeLogin (nil: none).
func NewInjector(resp Responses, isLogin func(*http.Request) bool) *Injector {
	return &Injector{resp: resp, isLogin: isLogin, done: make(chan struct{})}
}

// Queue makes the next n requests (any path, login included) get inj.
func (in *Injector) Queue(n int, inj Injection) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for range n {
		in.queue = append(in.queue, inj)
	}
}

// SetLatency delays every following request by d before it is served or
// faulted (0 removes the delay).
func (in *Injector) SetLatency(d time.Duration) {
	in.mu.Lock()
	in.latency = d
	in.mu.Unlock()
}

// SetChaos starts c's plan from its seed, replacing any running one; a
// Rate of 0 injects nothing. It returns c's validation error, and then
// leaves the running plan as it was.
func (in *Injector) SetChaos(c Chaos) error {
	if err := c.Validate(); err != nil {
		return err
	}
	p := newPlan(c)
	in.mu.Lock()
	in.plan = p
	in.mu.Unlock()
	return nil
}

// StopChaos ends the chaos plan; queued faults stay.
func (in *Injector) StopChaos() {
	in.mu.Lock()
	in.plan = nil
	in.mu.Unlock()
}

// Next decides r's fault: the first queued one, else the chaos plan's
// draw when the plan applies to r, else none.
func (in *Injector) Next(r *http.Request) Injection {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.queue) > 0 {
		inj := in.queue[0]
		in.queue = in.queue[1:]
		return inj
	}
	if in.plan != nil && in.plan.applies(r, in.isLogin) {
		return in.plan.next()
	}
	return Injection{}
}

// Serve waits the latency, then serves r with inj: act runs the request
// (writing to the ResponseWriter it is given) unless the fault comes
// before acting. A client that gives up during the latency is not served.
// Serve may end the handler with panic(http.ErrAbortHandler), which
// net/http handles silently: call it with no lock held.
func (in *Injector) Serve(w http.ResponseWriter, r *http.Request, inj Injection, act func(http.ResponseWriter)) {
	in.mu.Lock()
	latency := in.latency
	in.mu.Unlock()
	if latency > 0 && !in.wait(r, latency) {
		Reset(w) // the client is gone, or the fake closes: no answer at all
		return
	}
	switch inj.Fault {
	case FaultNone:
		act(w)
	case FaultStatus:
		in.resp.Status(w, r, inj.Status)
	case FaultRateLimit:
		secs := RetryAfterSeconds(inj.RetryAfter)
		w.Header().Set("Retry-After", secs)
		in.resp.RateLimited(w, r, secs)
	case FaultTimeout:
		hold := inj.Hold
		if hold <= 0 {
			hold = DefaultHold
		}
		in.wait(r, hold)
		Reset(w)
	case FaultDropBefore:
		Reset(w)
	case FaultDropAfter:
		act(&discardWriter{header: http.Header{}})
		Reset(w)
	}
}

// Intercept records r (whose body was read into body) in log with the
// fault decided for it, and serves it with that fault around act (see
// Serve). redactBody, when not nil, redacts the recorded body.
func (in *Injector) Intercept(log *Log, w http.ResponseWriter, r *http.Request, body []byte,
	redactBody func([]byte) []byte, act func(http.ResponseWriter)) {
	rec := Record(r, body, redactBody)
	inj := in.Next(r)
	rec.Fault = inj.Fault
	log.Add(rec)
	in.Serve(w, r, inj, act)
}

// wait waits d, and reports false when the client gave up or the
// Injector was closed first.
func (in *Injector) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-in.done:
	}
	return false
}

// Close ends the requests being held (latency, timeouts) so that the fake
// can shut down at once.
func (in *Injector) Close() { in.closeOnce.Do(func() { close(in.done) }) }

// RetryAfterSeconds renders d as a Retry-After value in whole seconds,
// rounded up (negative: 0).
func RetryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 0 {
		secs = 0
	}
	return strconv.FormatInt(secs, 10)
}
