package sqlsink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Lock is a held per-flow run lock, returned by [State.Lock].
//
// A lock is advisory: it keeps a second runner of the same flow from
// starting, but a holder that has lost its lock (see Lost) may still be
// finishing a write. The flows' processed keys and links are the second
// line of defence that makes such an overlap harmless.
type Lock struct {
	flow string

	// keep checks (and renews) the lock once; an error wrapping
	// ErrLockLost means it is gone, any other error is transient. nil
	// when the lock needs no keeping.
	keep func(ctx context.Context) error
	// end releases the lock, or cleans up after losing it.
	end func(ctx context.Context, lost bool) error

	lost     chan struct{}
	lostOnce sync.Once

	stop    chan struct{}
	stopped chan struct{}

	releaseOnce sync.Once
	releaseErr  error
}

// releaseTimeout bounds the statements run by Release and by keeping.
const releaseTimeout = 5 * time.Second

// newLock returns a held lock. When keep is non-nil a goroutine calls it
// every interval until Release.
func newLock(flow string, interval time.Duration, keep func(context.Context) error, end func(context.Context, bool) error) *Lock {
	l := &Lock{
		flow: flow, keep: keep, end: end,
		lost: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	if keep == nil || interval <= 0 {
		close(l.stopped)
		return l
	}
	go l.keeper(interval)
	return l
}

// keeper keeps the lock until Release or until it is lost.
func (l *Lock) keeper(interval time.Duration) {
	defer close(l.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if l.keepOnce() {
				return
			}
		}
	}
}

// keepOnce runs one keeping step and reports whether the lock is lost.
func (l *Lock) keepOnce() bool {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := l.keep(ctx); errors.Is(err, ErrLockLost) {
		l.lostOnce.Do(func() { close(l.lost) })
		return true
	}
	return false
}

// Flow returns the flow the lock belongs to.
func (l *Lock) Flow() string { return l.flow }

// Lost returns a channel that is closed if the lock is found lost before
// Release: its PostgreSQL connection dropped, or its SQLite lease expired
// and another holder took it. A flow should stop when it is closed. The
// lock is checked every third of the lease (see WithLockLease); a
// MemoryState lock is never lost.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// isLost reports whether Lost is closed.
func (l *Lock) isLost() bool {
	select {
	case <-l.lost:
		return true
	default:
		return false
	}
}

// Release gives the lock up. It is safe to call more than once (later
// calls return the first result). If the lock was lost before, Release
// returns an error wrapping ErrLockLost: the run may have overlapped with
// another holder's.
func (l *Lock) Release() error {
	l.releaseOnce.Do(func() {
		close(l.stop)
		<-l.stopped
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		lost := l.isLost()
		err := l.end(ctx, lost)
		switch {
		case lost:
			l.releaseErr = errors.Join(fmt.Errorf("%w: flow %s", ErrLockLost, l.flow), err)
		case err != nil:
			l.releaseErr = fmt.Errorf("sqlsink: release lock of flow %s: %w", l.flow, err)
		}
	})
	return l.releaseErr
}
