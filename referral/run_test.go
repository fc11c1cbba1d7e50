package referral

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casebridge/casebridge/sqlsink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flowFunc is a Flow made of a function.
type flowFunc struct {
	name string
	run  func(ctx context.Context) (Stats, error)
	runs atomic.Int32
}

func (f *flowFunc) Name() string { return f.name }

func (f *flowFunc) RunOnce(ctx context.Context) (Stats, error) {
	f.runs.Add(1)
	return f.run(ctx)
}

func counting(name string, s Stats, err error) *flowFunc {
	return &flowFunc{name: name, run: func(context.Context) (Stats, error) { return s, err }}
}

// mustLock takes a flow's lock, failing the test if it is held.
func mustLock(t *testing.T, st sqlsink.State, flow string) *sqlsink.Lock {
	t.Helper()
	l, err := st.Lock(context.Background(), flow)
	require.NoError(t, err, "the lock of %s must be free", flow)
	return l
}

func TestRunnerOnceRunsEachFlowAndReleasesItsLock(t *testing.T) {
	st := sqlsink.NewMemoryState()
	a := counting("a", Stats{Received: 2, Created: 1}, nil)
	b := counting("b", Stats{Sent: 3}, nil)
	var reported []Stats
	r := &Runner{State: st, Flows: []Flow{a, b}, Report: func(s Stats, err error) {
		assert.NoError(t, err)
		reported = append(reported, s)
	}}
	require.NoError(t, r.Run(context.Background()))
	assert.EqualValues(t, 1, a.runs.Load())
	assert.EqualValues(t, 1, b.runs.Load())
	require.Len(t, reported, 2)
	assert.Equal(t, Stats{Flow: "a", Received: 2, Created: 1}, reported[0], "the flow's name is set on its stats")
	assert.Equal(t, "b", reported[1].Flow)
	require.NoError(t, mustLock(t, st, "a").Release())
	require.NoError(t, mustLock(t, st, "b").Release())
}

func TestRunnerSkipsAFlowLockedElsewhere(t *testing.T) {
	st := sqlsink.NewMemoryState()
	held := mustLock(t, st, "a")
	defer func() { _ = held.Release() }()
	a := counting("a", Stats{}, nil)
	b := counting("b", Stats{}, nil)
	stats, err := (&Runner{State: st, Flows: []Flow{a, b}}).Cycle(context.Background())
	require.NoError(t, err, "a held lock is not an error")
	assert.Zero(t, a.runs.Load(), "a flow locked by another runner does not run")
	assert.EqualValues(t, 1, b.runs.Load())
	assert.True(t, stats[0].Skipped)
	assert.False(t, stats[1].Skipped)
}

func TestRunnerOnceJoinsFlowErrors(t *testing.T) {
	st := sqlsink.NewMemoryState()
	boom := errors.New("source unreachable")
	a := counting("a", Stats{}, boom)
	b := counting("b", Stats{}, nil)
	err := (&Runner{State: st, Flows: []Flow{a, b}}).Run(context.Background())
	require.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "flow a")
	assert.EqualValues(t, 1, b.runs.Load(), "one failing flow does not stop the others")
	require.NoError(t, mustLock(t, st, "a").Release(), "a failed run releases its lock")
}

func TestRunnerReleasesTheLockWhenAFlowPanics(t *testing.T) {
	st := sqlsink.NewMemoryState()
	p := &flowFunc{name: "p", run: func(context.Context) (Stats, error) { panic("flow bug") }}
	assert.Panics(t, func() { _ = (&Runner{State: st, Flows: []Flow{p}}).Run(context.Background()) })
	require.NoError(t, mustLock(t, st, "p").Release())
}

// With an interval the runner repeats until cancelled, then stops
// gracefully: the run in flight sees the cancellation, Run returns nil and
// the lock is free again.
func TestRunnerIntervalStopsGracefully(t *testing.T) {
	st := sqlsink.NewMemoryState()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sawCancel := make(chan struct{})
	f := &flowFunc{name: "loop"}
	f.run = func(runCtx context.Context) (Stats, error) {
		if f.runs.Load() < 3 {
			return Stats{}, errors.New("transient") // reported, retried next cycle
		}
		cancel()
		<-runCtx.Done()
		close(sawCancel)
		return Stats{}, runCtx.Err()
	}
	done := make(chan error, 1)
	go func() { done <- (&Runner{State: st, Flows: []Flow{f}, Interval: time.Millisecond}).Run(ctx) }()
	select {
	case err := <-done:
		require.NoError(t, err, "a cancelled runner stops without error")
	case <-time.After(10 * time.Second):
		t.Fatal("runner did not stop after cancellation")
	}
	<-sawCancel
	assert.EqualValues(t, 3, f.runs.Load(), "failed runs are retried on the next cycle; none after the stop")
	require.NoError(t, mustLock(t, st, "loop").Release())
}

// A run whose lock is lost (here: its row deleted under it, as when a lease
// expired and another process took over) is cancelled with ErrLockLost.
func TestRunnerCancelsARunThatLostItsLock(t *testing.T) {
	ctx := context.Background()
	db, err := sqlsink.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	defer db.Close()
	st, err := sqlsink.NewDBState(db, sqlsink.WithLockLease(time.Second))
	require.NoError(t, err)

	f := &flowFunc{name: "held"}
	f.run = func(runCtx context.Context) (Stats, error) {
		_, err := db.SQL().ExecContext(ctx, "DELETE FROM casebridge_locks")
		require.NoError(t, err)
		select {
		case <-runCtx.Done():
			return Stats{}, runCtx.Err()
		case <-time.After(20 * time.Second):
			return Stats{}, errors.New("run not cancelled")
		}
	}
	err = (&Runner{State: st, Flows: []Flow{f}}).Run(ctx)
	require.ErrorIs(t, err, ErrLockLost)
}

func TestRunnerRefusesBadConfig(t *testing.T) {
	st := sqlsink.NewMemoryState()
	f := counting("a", Stats{}, nil)
	assert.ErrorContains(t, (&Runner{Flows: []Flow{f}}).Run(context.Background()), "State")
	assert.ErrorContains(t, (&Runner{State: st}).Run(context.Background()), "Flows")
	assert.ErrorContains(t, (&Runner{State: st, Flows: []Flow{f}, Interval: -1}).Run(context.Background()), "Interval")
	assert.Zero(t, f.runs.Load())
}
