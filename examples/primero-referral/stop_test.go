package main

import (
	"bytes"
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/examples/internal/clitest"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// TestRunReleasesLockWhenCancelled: a run whose context ends half way
// through a pass stops with the context's error, and the run lock is free
// for the next run, which finishes the work.
func TestRunReleasesLockWhenCancelled(t *testing.T) {
	fake := primerotest.NewServer(t)
	fake.AddSyntheticCases(60)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := clitest.NewOnText("Pass 1: 5 cases checked so far", cancel)
	err := run(ctx, out, []string{"-url", fake.URL(), "-db", dsn, "-progress", "5"})
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, out.String(), "Pass 1: 40 cases checked:", "the pass stopped half way")
	requireLockFree(t, dsn, fake.URL())

	var again bytes.Buffer
	require.NoError(t, run(context.Background(), &again, []string{"-url", fake.URL(), "-db", dsn}))
	for _, id := range consentedInScope(fake) {
		assert.Len(t, fake.Referrals(id), 1, "case %s", id)
	}
}

// TestSIGINTStopsCleanly sends this process SIGINT during a pass: the
// command stops with status 130, says so, and leaves the run lock free.
// (Without the signal handler the test binary itself would die.)
func TestSIGINTStopsCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		fake := primerotest.NewServer(t)
		fake.AddSyntheticCases(600) // far more than can be done while the signal is delivered
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
		out := clitest.NewOnText("Pass 1: 5 cases checked so far", func() {
			require.NoError(t, syscall.Kill(syscall.Getpid(), sig))
		})
		var stderr bytes.Buffer
		code := mainWithSignals([]string{"-url", fake.URL(), "-db", dsn, "-progress", "5"}, out, &stderr)
		assert.Equal(t, exitInterrupted, code, "%v: %s", sig, stderr.String())
		assert.Contains(t, stderr.String(), "run lock is released")
		requireLockFree(t, dsn, fake.URL())
	}
}

// TestReportSaysWhatItDid: the report names where the state is kept,
// which cases were chosen, progress on a long pass, and each denial
// reason in words, and holds no Go syntax.
func TestReportSaysWhatItDid(t *testing.T) {
	fake := primerotest.NewServer(t)
	fake.AddSyntheticCases(60)
	dbPath := filepath.Join(t.TempDir(), "state.db")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-url", fake.URL(), "-db", dbPath, "-progress", "10"}))
	text := out.String()
	assert.Contains(t, text, "State: SQLite file "+dbPath+".")
	assert.Contains(t, text, "Cases: open cases of children aged 0 to 17, in location XX01 or any location inside it.")
	assert.Contains(t, text, "Pass 1: 10 cases checked so far")
	assert.Contains(t, text, "Pass 1: 20 cases checked so far")
	assert.Regexp(t, `(?m)^    \d+  consent refused \(consent_false\)$`, text)
	assert.Contains(t, text, "Audit trail verified:")
	for _, goSyntax := range []string{"map[", "{", "}", "%!"} {
		assert.NotContains(t, text, goSyntax)
	}
}

// TestRunsWithNoFlags is the README's command: no flags, a fresh machine.
func TestRunsWithNoFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, exitStatus(context.Background(), nil, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "Primero: a fake server started for this run")
	assert.Contains(t, stdout.String(), "a temporary one removed when the program ends")
	assert.Contains(t, stdout.String(), "Audit trail verified:")
}

// TestStopFinishesTheCaseAtHand: a stop requested while a referral is
// being sent lets that send finish and be recorded, and starts no other
// case, even on a state store that does not look at the context.
func TestStopFinishesTheCaseAtHand(t *testing.T) {
	fake := primerotest.NewServer(t)
	fake.AddSyntheticCases(30)
	state := sqlsink.NewMemoryState()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopOnIntent := &sinkFunc{fn: func(e consent.Event) {
		if e.Outcome == consent.OutcomeIntended {
			cancel()
		}
	}}
	b := newTestBridge(t, fake, state, nil)
	b.trail = consent.NewTrail(consent.MultiSink{b.log, stopOnIntent})
	_, err := b.pass(ctx, mustFilters(), 1)
	require.ErrorIs(t, err, context.Canceled)

	events := readLog(t, b.log)
	last := events[len(events)-1]
	assert.Equal(t, consent.OutcomeDelivered, last.Outcome, "the send at hand finished and was recorded")
	assert.Len(t, fake.Referrals(last.Record.ID), 1)
	_, linked, err := state.LinkTo(context.Background(), linkKind, last.Record, b.referralSystem())
	require.NoError(t, err)
	assert.True(t, linked)
	referred := 0
	for _, id := range consentedInScope(fake) {
		referred += len(fake.Referrals(id))
	}
	assert.Equal(t, 1, referred, "no other case was started")
}

// sinkFunc is a consent.Sink that calls fn for each event.
type sinkFunc struct{ fn func(consent.Event) }

func (s *sinkFunc) Append(_ context.Context, e consent.Event) error {
	s.fn(e)
	return nil
}
