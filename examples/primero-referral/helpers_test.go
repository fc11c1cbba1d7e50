package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// consentedInScope returns the ids of the fake's cases the bridge must
// refer: open, outside XX02, with both consent fields true.
func consentedInScope(f *primerotest.Server) []string {
	var ids []string
	for _, c := range f.Cases() {
		if c["location_current"] != "XX02" && c["status"] == "open" &&
			c["consent_for_services"] == true && c["disclosure_other_orgs"] == true {
			ids = append(ids, c["id"].(string))
		}
	}
	return ids
}

// openState opens the state database at dsn for the test's own reads.
func openState(t *testing.T, dsn string) *sqlsink.DBState {
	t.Helper()
	db, err := sqlsink.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	st, err := sqlsink.NewDBState(db)
	require.NoError(t, err)
	return st
}

// scopeOf is the state scope of the bridge on the server at url.
func scopeOf(t *testing.T, url string) string {
	t.Helper()
	srv, err := identify(url)
	require.NoError(t, err)
	return flow + "." + srv.system
}

// trailEvents reads the audit trail the bridge keeps for the server at
// url, after checking it verifies.
func trailEvents(t *testing.T, dsn, url string) []consent.Event {
	t.Helper()
	log := openState(t, dsn).AuditLog(scopeOf(t, url))
	_, err := sqlsink.VerifyAudit(context.Background(), log)
	require.NoError(t, err)
	return readLog(t, log)
}

// readLog returns every event of log.
func readLog(t *testing.T, log sqlsink.AuditLog) []consent.Event {
	t.Helper()
	var events []consent.Event
	for e, err := range log.Events(context.Background()) {
		require.NoError(t, err)
		events = append(events, e)
	}
	return events
}

// eventsFor returns the kind/outcome of each event of the case, in order
// ("decision:allow", "delivery:intended", "delivery:delivered:found_unrecorded").
func eventsFor(events []consent.Event, caseID string) []string {
	var out []string
	for _, e := range events {
		if e.Record.ID != caseID {
			continue
		}
		s := e.Kind
		switch e.Kind {
		case consent.KindDecision:
			s += ":" + e.Decision
		case consent.KindDelivery:
			s += ":" + e.Outcome
			for _, r := range e.Reasons {
				s += ":" + r
			}
		}
		out = append(out, s)
	}
	return out
}

// requireLockFree takes and releases the bridge's run lock for the server
// at url: it fails if a run left the lock held.
func requireLockFree(t *testing.T, dsn, url string) {
	t.Helper()
	lock, err := openState(t, dsn).Lock(context.Background(), scopeOf(t, url))
	require.NoError(t, err, "the run lock must have been released")
	require.NoError(t, lock.Release())
}
