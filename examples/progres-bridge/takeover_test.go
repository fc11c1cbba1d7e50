package main

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// postgresDSN is a fresh PostgreSQL database for the test, as -db takes
// it: a password the test server's URL holds moves to PGPASSWORD.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	if pw, ok := u.User.Password(); ok {
		t.Setenv("PGPASSWORD", pw)
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// withParam adds a query parameter to a postgres:// URL.
func withParam(t *testing.T, dsn, k, v string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// countingFlow is a flow that counts its runs.
type countingFlow struct {
	name string
	runs int
}

func (f *countingFlow) Name() string { return f.name }

func (f *countingFlow) RunOnce(context.Context) (referral.Stats, error) {
	f.runs++
	return referral.Stats{}, nil
}

// openPG opens the state store at dsn as one instance would.
func openPG(t *testing.T, dsn string) (*sqlsink.DB, *sqlsink.DBState) {
	t.Helper()
	db, st, err := openState(context.Background(), dsn)
	require.NoError(t, err)
	return db, st
}

// TestTakeoverWhenTheFirstInstanceDies: two instances on one PostgreSQL
// state store. While the first holds a flow's run lock and the inbound
// lock, the second skips that flow and answers DTP with 503; when the
// first dies (its database sessions end), the second runs the flow and
// takes the pushes over.
func TestTakeoverWhenTheFirstInstanceDies(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	dbA, stA := openPG(t, withParam(t, dsn, "application_name", "instance-a"))
	dbB, stB := openPG(t, dsn)
	defer dbB.Close()

	gateA := &inboundGate{state: stA, h: nil}
	held, err := gateA.acquire(ctx)
	require.NoError(t, err)
	require.True(t, held)
	runA, err := stA.Lock(ctx, referral.FlowDecisionsDTP) // a run of A in flight
	require.NoError(t, err)

	flowB := &countingFlow{name: referral.FlowDecisionsDTP}
	runnerB := &referral.Runner{State: stB, Flows: []referral.Flow{flowB}}
	stats, err := runnerB.Cycle(ctx)
	require.NoError(t, err)
	assert.True(t, stats[0].Skipped, "the flow runs in one instance at a time")
	assert.Zero(t, flowB.runs)
	gateB := &inboundGate{state: stB}
	held, err = gateB.acquire(ctx)
	require.NoError(t, err)
	assert.False(t, held, "the pushes go to the first instance")

	// The first instance dies: the server ends its sessions, as when its
	// process or host goes away.
	_, err = dbB.SQL().ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'instance-a'")
	require.NoError(t, err)
	defer func() {
		_ = runA.Release()
		_ = gateA.release()
		_ = dbA.Close()
	}()

	// The server ends the sessions asynchronously: the second instance
	// takes over on one of its next cycles.
	require.Eventually(t, func() bool {
		stats, err := runnerB.Cycle(ctx)
		return err == nil && !stats[0].Skipped
	}, 20*time.Second, 20*time.Millisecond, "the second instance takes the flow over")
	assert.Equal(t, 1, flowB.runs)
	require.Eventually(t, func() bool {
		held, err := gateB.acquire(ctx)
		return err == nil && held
	}, 20*time.Second, 20*time.Millisecond, "and the pushes")
	require.NoError(t, gateB.release())
}

// TestDemoOnPostgreSQL: the demo with its state in PostgreSQL does the
// same as on SQLite, and its second run writes and sends nothing.
func TestDemoOnPostgreSQL(t *testing.T) {
	dsn := postgresDSN(t)
	var out, stderr bytes.Buffer
	require.Equal(t, exitOK, exitStatus(context.Background(), []string{"-db", dsn}, env{}.get, &out, &stderr), stderr.String())
	first, second, found := strings.Cut(out.String(), "Run 2:")
	require.True(t, found, out.String())
	assert.Contains(t, first, "State: PostgreSQL database ")
	assert.Contains(t, first, "created 1, updated 1")
	assert.Contains(t, second, "created 0, updated 0, sent 0, decided 0")
}
