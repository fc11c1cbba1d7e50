package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// TestEveryReferralHasIntentThenOutcome: the trail holds, for each case
// referred, the decision, then the intent, then the delivery, and the
// intent was stored before Primero had the referral.
func TestEveryReferralHasIntentThenOutcome(t *testing.T) {
	fake := primerotest.NewServer(t)
	fake.AddSyntheticCases(30)
	srv, err := identify(fake.URL())
	require.NoError(t, err)
	state := sqlsink.NewMemoryState()
	scope := flow + "." + srv.system
	log := state.AuditLog(scope)
	check := &orderSink{t: t, fake: fake}
	b := newTestBridge(t, fake, state, consent.NewTrail(consent.MultiSink{log, check}))
	b.log = log
	st, err := b.pass(context.Background(), mustFilters(), 1)
	require.NoError(t, err)
	require.Positive(t, st.referred)
	assert.Equal(t, st.referred, check.intents, "one intent per referral")

	events := readLog(t, log)
	for _, id := range consentedInScope(fake) {
		assert.Equal(t, []string{"decision:allow", "delivery:intended", "delivery:delivered"}, eventsFor(events, id), "case %s", id)
	}
}

// orderSink checks, as each event is stored, that an intent comes before
// Primero has the referral and a delivery after.
type orderSink struct {
	t       *testing.T
	fake    *primerotest.Server
	intents int
}

func (s *orderSink) Append(_ context.Context, e consent.Event) error {
	if e.Kind != consent.KindDelivery {
		return nil
	}
	n := len(s.fake.Referrals(e.Record.ID))
	switch e.Outcome {
	case consent.OutcomeIntended:
		s.intents++
		assert.Zero(s.t, n, "intent for case %s stored after the referral was made", e.Record.ID)
	case consent.OutcomeDelivered:
		assert.Equal(s.t, 1, n, "delivery of case %s stored before the referral was made", e.Record.ID)
	}
	return nil
}

// TestFailedSendIsRecorded: a referral Primero refuses leaves its intent
// and a failed outcome with an error code, and no link. (Primero answers
// an unknown recipient with a 500, which stops the pass; a fake that
// answers 422 refuses each case in turn: either way each case tried has
// its record.)
func TestFailedSendIsRecorded(t *testing.T) {
	fake := primerotest.NewServer(t)
	fake.AddSyntheticCases(10)
	state := sqlsink.NewMemoryState()
	b := newTestBridge(t, fake, state, nil)
	b.recipient = "no_such_user"
	_, _ = b.pass(context.Background(), mustFilters(), 1)
	events := readLog(t, b.log)
	tried := 0
	for _, id := range consentedInScope(fake) {
		got := eventsFor(events, id)
		if len(got) == 0 {
			continue // not reached: the pass stopped
		}
		tried++
		require.Len(t, got, 3, "case %s: %v", id, got)
		assert.Equal(t, []string{"decision:allow", "delivery:intended"}, got[:2])
		assert.Regexp(t, `^delivery:failed:http_(422|500)$`, got[2])
		_, linked, err := state.LinkTo(context.Background(), linkKind, b.caseRef(id), b.referralSystem())
		require.NoError(t, err)
		assert.False(t, linked)
		assert.Empty(t, fake.Referrals(id))
	}
	assert.Positive(t, tried)
}

// TestRecoveryRecordsUnrecordedReferral: a referral Primero holds that the
// trail has no delivery for (a run stopped between the send and its
// record) is recorded when found, and not sent again.
func TestRecoveryRecordsUnrecordedReferral(t *testing.T) {
	fake := primerotest.NewServer(t)
	fake.AddSyntheticCases(30)
	caseID := consentedInScope(fake)[0]
	referByHand(t, fake, caseID)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "state.db")

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-url", fake.URL(), "-db", dsn}))
	assert.Len(t, fake.Referrals(caseID), 1, "not referred a second time")
	assert.Equal(t, []string{"decision:allow", "delivery:delivered:found_unrecorded", "decision:allow"},
		eventsFor(trailEvents(t, dsn, fake.URL()), caseID))
	assert.Contains(t, out.String(), "1 referrals were found in Primero with no record of their delivery")
}

// TestResumeAfterStopDuringSend: the previous run recorded its intent and
// stopped. If Primero made the referral, the next run records the delivery
// (once) and links it; if not, it records the send as failed and refers
// the case anew.
func TestResumeAfterStopDuringSend(t *testing.T) {
	for _, made := range []bool{true, false} {
		fake := primerotest.NewServer(t)
		fake.AddSyntheticCases(30)
		caseID := consentedInScope(fake)[0]
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
		writeIntent(t, dsn, fake.URL(), caseID)
		if made {
			referByHand(t, fake, caseID)
		}
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), &out, []string{"-url", fake.URL(), "-db", dsn}))
		assert.Len(t, fake.Referrals(caseID), 1)
		got := eventsFor(trailEvents(t, dsn, fake.URL()), caseID)
		if made {
			assert.Equal(t, []string{"delivery:intended", "delivery:delivered:recovered_after_stop", "decision:allow", "decision:allow"}, got)
			assert.Contains(t, out.String(), "after Primero made the referral")
		} else {
			assert.Equal(t, []string{"delivery:intended", "delivery:failed:not_sent_before_stop",
				"decision:allow", "delivery:intended", "delivery:delivered", "decision:allow"}, got)
			assert.Contains(t, out.String(), "before Primero made the referral")
		}
	}
}

// writeIntent leaves the bridge's trail for the server at url ending in an
// intent to refer caseID, as a run stopped during the send would.
func writeIntent(t *testing.T, dsn, url, caseID string) {
	t.Helper()
	srv, err := identify(url)
	require.NoError(t, err)
	policy, err := consent.Compile(policyYAML)
	require.NoError(t, err)
	trail, err := sqlsink.ResumeTrail(context.Background(), openState(t, dsn).AuditLog(scopeOf(t, url)))
	require.NoError(t, err)
	_, err = trail.Append(context.Background(), consent.DeliveryEvent(flow, consent.RecordRef{System: srv.system, ID: caseID},
		provider, policy, "", consent.OutcomeIntended))
	require.NoError(t, err)
}

// referByHand refers the case to the provider as the caseworker would in
// Primero's own interface.
func referByHand(t *testing.T, fake *primerotest.Server, caseID string) {
	t.Helper()
	c, err := primero.New(fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	_, err = c.Referrals.Create(context.Background(), caseID, &primero.ReferralRequest{TransitionedTo: primerotest.DefaultRecipient, Service: service})
	require.NoError(t, err)
}

func mustFilters() []primero.Filter {
	f, _ := caseSelection(defaultLocated)
	return f
}

// newTestBridge builds the bridge run builds, on state; trail nil means a
// trail over the state's audit log.
func newTestBridge(t *testing.T, fake *primerotest.Server, state sqlsink.State, trail *consent.Trail) *bridge {
	t.Helper()
	srv, err := identify(fake.URL())
	require.NoError(t, err)
	policy, err := consent.Compile(policyYAML)
	require.NoError(t, err)
	client, err := primero.New(fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	scope := flow + "." + srv.system
	log := state.AuditLog(scope)
	if trail == nil {
		trail = consent.NewTrail(log)
	}
	return &bridge{client: client, server: srv, recipient: primerotest.DefaultRecipient, policy: policy,
		gate:  policy.Gate(consent.Request{Recipient: provider, Purpose: policy.Purpose(), ServiceType: service}),
		trail: trail, log: log, state: state, scope: scope, out: &bytes.Buffer{}, progress: 1000}
}
