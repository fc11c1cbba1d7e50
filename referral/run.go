package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/casebridge/casebridge/sqlsink"
)

// Flow is one flow: it reads what changed since its last run, acts on it,
// and advances its own state. RunOnce must be safe to repeat after any
// failure or cancellation: what it did not finish is done again on the next
// run, and what it finished is not done twice.
type Flow interface {
	// Name is the flow's name: its lock, cursor and processed keys in the
	// state store are kept under it. An identifier (no spaces).
	Name() string
	// RunOnce runs the flow once and says what it did. An error means the
	// run as a whole failed (the source could not be read, the state store
	// failed); failures of single items are counted in Stats instead.
	RunOnce(ctx context.Context) (Stats, error)
}

// ErrLockLost is the cause of a run's context when the flow's lock was lost
// during the run.
var ErrLockLost = sqlsink.ErrLockLost

// Runner runs flows, each under its run lock in State.
type Runner struct {
	// State holds the flows' locks (and, through the flows, their
	// cursors, links, processed keys and audit trails).
	State sqlsink.State
	// Flows run in this order, one after the other, in each cycle.
	Flows []Flow
	// Interval is the pause between the end of one cycle and the start of
	// the next. Zero runs one cycle.
	Interval time.Duration
	// Logger receives one line per flow run (counts only). Nil: silent.
	Logger *slog.Logger
	// Report, when set, is called after each flow run with its stats and
	// error.
	Report func(Stats, error)
}

// Run runs the flows: one cycle when Interval is zero, else cycles until
// ctx is cancelled. With Interval zero it returns the errors of the cycle's
// runs, joined. With an interval, a failed run is reported and tried again
// next cycle, and Run returns nil once ctx is cancelled (a graceful stop:
// the run in flight is cancelled and its lock released).
func (r *Runner) Run(ctx context.Context) error {
	if r.State == nil {
		return errors.New("referral: Runner.State is required")
	}
	if len(r.Flows) == 0 {
		return errors.New("referral: Runner.Flows is empty")
	}
	if r.Interval < 0 {
		return errors.New("referral: Runner.Interval must not be negative")
	}
	if r.Interval == 0 {
		_, err := r.Cycle(ctx)
		return err
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		_, _ = r.Cycle(ctx)
		t.Reset(r.Interval)
	}
}

// Cycle runs each flow once, in order, and returns each run's stats. A flow
// whose lock another runner holds is skipped (Stats.Skipped), which is not
// an error. Cycle stops early when ctx is cancelled.
func (r *Runner) Cycle(ctx context.Context) ([]Stats, error) {
	out := make([]Stats, 0, len(r.Flows))
	var errs []error
	for _, f := range r.Flows {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		s, err := r.runOne(ctx, f)
		out = append(out, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("referral: flow %s: %w", f.Name(), err))
		}
		r.report(s, err)
	}
	return out, errors.Join(errs...)
}

// runOne runs f once under its lock.
func (r *Runner) runOne(ctx context.Context, f Flow) (Stats, error) {
	name := f.Name()
	lock, err := r.State.Lock(ctx, name)
	if errors.Is(err, sqlsink.ErrLockHeld) {
		return Stats{Flow: name, Skipped: true}, nil
	}
	if err != nil {
		return Stats{Flow: name}, err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-lock.Lost():
			cancel(ErrLockLost)
		case <-runCtx.Done():
		}
	}()
	s, err := func() (s Stats, err error) {
		defer func() {
			if rerr := lock.Release(); rerr != nil && err == nil {
				err = rerr
			}
		}()
		return f.RunOnce(runCtx)
	}()
	s.Flow = name
	if err != nil && context.Cause(runCtx) == ErrLockLost {
		err = fmt.Errorf("%w (run cancelled)", ErrLockLost)
	}
	return s, err
}

func (r *Runner) report(s Stats, err error) {
	if r.Report != nil {
		r.Report(s, err)
	}
	if r.Logger == nil {
		return
	}
	if err != nil {
		r.Logger.Warn("referral flow run failed", "stats", s, "error", err)
		return
	}
	r.Logger.Info("referral flow run", "stats", s)
}
