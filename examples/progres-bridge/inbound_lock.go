package main

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/casebridge/casebridge/sqlsink"
)

// inboundLockName is the run lock that lets one bridge instance at a time
// handle DTP's pushes. The push-driven flows run in the handler's
// callbacks, outside referral.Runner's per-flow locks, and their audit
// trails must have one writer: an instance that does not hold this lock
// answers 503, so that DTP (or the load balancer in front of both
// instances) delivers to the one that does.
const inboundLockName = "progres-bridge-inbound"

// inboundGate serves the handler only while it holds the inbound lock.
type inboundGate struct {
	state sqlsink.State
	h     http.Handler

	mu   sync.Mutex
	lock *sqlsink.Lock
}

// ServeHTTP implements http.Handler.
func (g *inboundGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.held() {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "another instance handles the pushes", http.StatusServiceUnavailable)
		return
	}
	g.h.ServeHTTP(w, r)
}

// held reports whether the lock is held and not lost.
func (g *inboundGate) held() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lock == nil {
		return false
	}
	select {
	case <-g.lock.Lost():
		_ = g.lock.Release()
		g.lock = nil
		return false
	default:
		return true
	}
}

// acquire takes the inbound lock unless it is held already; it reports
// whether this instance now handles the pushes. Another holder is not an
// error.
func (g *inboundGate) acquire(ctx context.Context) (bool, error) {
	if g.held() {
		return true, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	l, err := g.state.Lock(ctx, inboundLockName)
	if errors.Is(err, sqlsink.ErrLockHeld) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	g.lock = l
	return true, nil
}

// release gives the lock up (at shutdown, once no push is in flight).
func (g *inboundGate) release() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lock == nil {
		return nil
	}
	err := g.lock.Release()
	g.lock = nil
	return err
}
