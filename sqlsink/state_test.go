package sqlsink

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stateImpls are the State implementations every behaviour test runs
// against: memory, SQLite (a file, as in production) and PostgreSQL.
var stateImpls = []struct {
	name string
	open func(t *testing.T) State
}{
	{"memory", func(t *testing.T) State { return NewMemoryState() }},
	{"sqlite", func(t *testing.T) State {
		return testDBState(t, openStateDB(t, filepath.Join(t.TempDir(), "state.db")))
	}},
	{"postgres", func(t *testing.T) State { return testDBState(t, openStateDB(t, pgtest.DSN(t))) }},
}

// forEachState runs fn as one subtest per implementation, each on a
// fresh, empty store.
func forEachState(t *testing.T, fn func(t *testing.T, st State)) {
	t.Helper()
	for _, impl := range stateImpls {
		t.Run(impl.name, func(t *testing.T) { fn(t, impl.open(t)) })
	}
}

// openStateDB opens dsn, closed after t.
func openStateDB(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// testDBState returns the state store in db.
func testDBState(t testing.TB, db *DB, opts ...StateOption) *DBState {
	t.Helper()
	st, err := NewDBState(db, opts...)
	require.NoError(t, err)
	return st
}

// update runs fn in st.Update and requires it to succeed.
func update(t *testing.T, st State, flow string, fn func(tx StateTx) error) {
	t.Helper()
	require.NoError(t, st.Update(context.Background(), flow, fn))
}

var (
	primeroCase = consent.RecordRef{System: "primero", ID: "case-0001"}
	progresRef  = consent.RecordRef{System: "progres", ID: "ref-0001"}
	caseLink    = Link{Kind: "case", From: progresRef, To: primeroCase}
)

func TestStateCursor(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		_, ok, err := st.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.False(t, ok, "no cursor before one is stored")

		update(t, st, "flow-a", func(tx StateTx) error {
			assert.Equal(t, "flow-a", tx.Flow())
			return tx.SetCursor(ctx, "2024-05-01T10:00:00.000Z")
		})
		c, ok, err := st.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "2024-05-01T10:00:00.000Z", c)

		update(t, st, "flow-a", func(tx StateTx) error {
			c, ok, err := tx.Cursor(ctx)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "2024-05-01T10:00:00.000Z", c, "the transaction sees the stored cursor")
			require.NoError(t, tx.SetCursor(ctx, "opaque token/with spaces+?&=%"))
			c, _, err = tx.Cursor(ctx)
			require.NoError(t, err)
			assert.Equal(t, "opaque token/with spaces+?&=%", c, "the transaction sees its own write")
			return nil
		})
		c, _, err = st.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.Equal(t, "opaque token/with spaces+?&=%", c, "SetCursor replaces the cursor")

		_, ok, err = st.Cursor(ctx, "flow-b")
		require.NoError(t, err)
		assert.False(t, ok, "cursors are per flow")
	})
}

func TestStateProcessedFirstTime(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		done, err := st.Processed(ctx, "flow-a", "decision:ref-0001:accepted")
		require.NoError(t, err)
		assert.False(t, done)

		update(t, st, "flow-a", func(tx StateTx) error {
			first, err := tx.MarkProcessed(ctx, "decision:ref-0001:accepted")
			require.NoError(t, err)
			assert.True(t, first, "first mark")
			first, err = tx.MarkProcessed(ctx, "decision:ref-0001:accepted")
			require.NoError(t, err)
			assert.False(t, first, "second mark in the same transaction")
			done, err := tx.Processed(ctx, "decision:ref-0001:accepted")
			require.NoError(t, err)
			assert.True(t, done)
			return nil
		})
		update(t, st, "flow-a", func(tx StateTx) error {
			first, err := tx.MarkProcessed(ctx, "decision:ref-0001:accepted")
			require.NoError(t, err)
			assert.False(t, first, "second mark in a later transaction")
			first, err = tx.MarkProcessed(ctx, "decision:ref-0001:rejected")
			require.NoError(t, err)
			assert.True(t, first, "another key is new")
			return nil
		})
		update(t, st, "flow-b", func(tx StateTx) error {
			first, err := tx.MarkProcessed(ctx, "decision:ref-0001:accepted")
			require.NoError(t, err)
			assert.True(t, first, "processed keys are per flow")
			return nil
		})
		done, err = st.Processed(ctx, "flow-a", "decision:ref-0001:accepted")
		require.NoError(t, err)
		assert.True(t, done)
	})
}

func TestStateProcessedConcurrentMarksHaveOneFirst(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			firsts int
			errs   []error
		)
		for range 8 {
			wg.Go(func() {
				err := st.Update(ctx, "flow-a", func(tx StateTx) error {
					first, err := tx.MarkProcessed(ctx, "referral:ref-0001")
					if first {
						mu.Lock()
						firsts++
						mu.Unlock()
					}
					return err
				})
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			})
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
		assert.Equal(t, 1, firsts, "exactly one of the concurrent runs processes the key")
	})
}

func TestStateLinksBothDirections(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		update(t, st, "flow-a", func(tx StateTx) error {
			require.NoError(t, tx.PutLink(ctx, caseLink))
			id, ok, err := tx.LinkTo(ctx, "case", progresRef, "primero")
			require.NoError(t, err)
			assert.True(t, ok, "the transaction sees its own link")
			assert.Equal(t, "case-0001", id)
			return nil
		})

		id, ok, err := st.LinkTo(ctx, "case", progresRef, "primero")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "case-0001", id, "forward lookup")

		id, ok, err = st.LinkFrom(ctx, "case", primeroCase, "progres")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "ref-0001", id, "reverse lookup")

		// A flow in the other direction reads the same link.
		update(t, st, "flow-b", func(tx StateTx) error {
			id, ok, err := tx.LinkFrom(ctx, "case", primeroCase, "progres")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "ref-0001", id)
			return nil
		})

		for _, miss := range []struct {
			kind   string
			ref    consent.RecordRef
			system string
		}{
			{"referral", progresRef, "primero"},             // other kind
			{"case", progresRef, "oscar"},                   // other target system
			{"case", ref("progres", "ref-0002"), "primero"}, // other record
		} {
			_, ok, err := st.LinkTo(ctx, miss.kind, miss.ref, miss.system)
			require.NoError(t, err)
			assert.False(t, ok, "%+v", miss)
		}
		_, ok, err = st.LinkTo(ctx, "case", primeroCase, "progres")
		require.NoError(t, err)
		assert.False(t, ok, "links are directed: LinkTo does not read them backwards")

		update(t, st, "flow-a", func(tx StateTx) error { return tx.PutLink(ctx, caseLink) }) // repeat: no-op

		// One record never maps to two.
		err = st.Update(ctx, "flow-a", func(tx StateTx) error {
			return tx.PutLink(ctx, Link{Kind: "case", From: progresRef, To: ref("primero", "case-0002")})
		})
		var conflict *LinkConflictError
		require.ErrorAs(t, err, &conflict)
		assert.ErrorIs(t, err, ErrLinkConflict)
		assert.Equal(t, caseLink, conflict.Existing, "from side already linked")

		err = st.Update(ctx, "flow-a", func(tx StateTx) error {
			return tx.PutLink(ctx, Link{Kind: "case", From: ref("progres", "ref-0002"), To: primeroCase})
		})
		require.ErrorAs(t, err, &conflict)
		assert.Equal(t, caseLink, conflict.Existing, "to side already linked")

		// The same ids under another kind are another link.
		update(t, st, "flow-a", func(tx StateTx) error {
			return tx.PutLink(ctx, Link{Kind: "referral", From: progresRef, To: ref("primero", "referral-0009")})
		})

		update(t, st, "flow-a", func(tx StateTx) error {
			// Deleting a link that is not stored exactly so does nothing.
			require.NoError(t, tx.DeleteLink(ctx, Link{Kind: "case", From: progresRef, To: ref("primero", "case-0002")}))
			return nil
		})
		_, ok, err = st.LinkTo(ctx, "case", progresRef, "primero")
		require.NoError(t, err)
		assert.True(t, ok)

		update(t, st, "flow-a", func(tx StateTx) error { return tx.DeleteLink(ctx, caseLink) })
		_, ok, err = st.LinkTo(ctx, "case", progresRef, "primero")
		require.NoError(t, err)
		assert.False(t, ok, "deleted forward")
		_, ok, err = st.LinkFrom(ctx, "case", primeroCase, "progres")
		require.NoError(t, err)
		assert.False(t, ok, "deleted reverse")
		id, ok, err = st.LinkTo(ctx, "referral", progresRef, "primero")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "referral-0009", id, "the other kind's link stays")

		// Once deleted, the record may be linked anew.
		update(t, st, "flow-a", func(tx StateTx) error {
			return tx.PutLink(ctx, Link{Kind: "case", From: progresRef, To: ref("primero", "case-0002")})
		})
	})
}

// errStop is a flow's own error that makes Update roll back.
var errStop = errors.New("delivery failed")

func TestStateUpdateRollsBackOnError(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		update(t, st, "flow-a", func(tx StateTx) error { return tx.SetCursor(ctx, "cursor-1") })

		err := st.Update(ctx, "flow-a", func(tx StateTx) error {
			require.NoError(t, tx.SetCursor(ctx, "cursor-2"))
			first, err := tx.MarkProcessed(ctx, "referral:ref-0001")
			require.NoError(t, err)
			require.True(t, first)
			require.NoError(t, tx.PutLink(ctx, caseLink))
			return errStop
		})
		assert.ErrorIs(t, err, errStop, "Update returns the flow's error")
		assertUntouched(t, st)

		// A panic rolls back too, and goes on panicking.
		assert.PanicsWithValue(t, "flow bug", func() {
			_ = st.Update(ctx, "flow-a", func(tx StateTx) error {
				require.NoError(t, tx.SetCursor(ctx, "cursor-3"))
				_, err := tx.MarkProcessed(ctx, "referral:ref-0001")
				require.NoError(t, err)
				require.NoError(t, tx.PutLink(ctx, caseLink))
				panic("flow bug")
			})
		})
		assertUntouched(t, st)

		// A failed write (a conflicting link) returned by fn undoes the
		// writes before it.
		update(t, st, "flow-b", func(tx StateTx) error {
			return tx.PutLink(ctx, Link{Kind: "case", From: ref("progres", "ref-0002"), To: primeroCase})
		})
		err = st.Update(ctx, "flow-a", func(tx StateTx) error {
			require.NoError(t, tx.SetCursor(ctx, "cursor-4"))
			_, err := tx.MarkProcessed(ctx, "referral:ref-0001")
			require.NoError(t, err)
			return tx.PutLink(ctx, caseLink)
		})
		assert.ErrorIs(t, err, ErrLinkConflict)
		assertUntouched(t, st)

		// An ended context keeps nothing either.
		cctx, cancel := context.WithCancel(ctx)
		err = st.Update(cctx, "flow-a", func(tx StateTx) error {
			require.NoError(t, tx.SetCursor(cctx, "cursor-5"))
			cancel()
			return nil
		})
		assert.ErrorIs(t, err, context.Canceled)
		c, _, err := st.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.Equal(t, "cursor-1", c)
	})
}

// assertUntouched checks that only the first committed cursor of flow-a
// is stored: no processed key, and no link from progresRef.
func assertUntouched(t *testing.T, st State) {
	t.Helper()
	ctx := context.Background()
	c, ok, err := st.Cursor(ctx, "flow-a")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "cursor-1", c, "cursor rolled back")
	done, err := st.Processed(ctx, "flow-a", "referral:ref-0001")
	require.NoError(t, err)
	assert.False(t, done, "processed key rolled back")
	_, ok, err = st.LinkTo(ctx, "case", progresRef, "primero")
	require.NoError(t, err)
	assert.False(t, ok, "link rolled back")
}

func TestStateTxUnusableAfterUpdate(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		var kept StateTx
		update(t, st, "flow-a", func(tx StateTx) error { kept = tx; return nil })
		assert.Error(t, kept.SetCursor(ctx, "cursor-1"))
		_, err := kept.MarkProcessed(ctx, "key-1")
		assert.Error(t, err)
		assert.Error(t, kept.PutLink(ctx, caseLink))
		_, ok, err := st.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.False(t, ok)
	})
}

// auditEvents appends n synthetic events through trail and returns them
// as stored.
func auditEvents(t *testing.T, trail *consent.Trail, from, n int) []consent.Event {
	t.Helper()
	var out []consent.Event
	for i := from; i < from+n; i++ {
		ref := consent.RecordRef{System: "primero", ID: fmt.Sprintf("case-%04d", i)}
		var e consent.Event
		if i%2 == 0 {
			e = consent.DeliveryEvent("flow-a", ref, consent.Party{System: "progres", Agency: "unhcr"}, nil, "sha256:0001", consent.OutcomeDelivered)
		} else {
			e = consent.Event{Kind: consent.KindDecision, Flow: "flow-a", Record: ref, Recipient: "progres/unhcr",
				Decision: consent.DecisionAllow, Reasons: []string{"consent_given", "purpose_case_management"}}
		}
		got, err := trail.Append(context.Background(), e)
		require.NoError(t, err)
		out = append(out, got)
	}
	return out
}

// readAudit reads every event of log.
func readAudit(t *testing.T, log AuditLog) []consent.Event {
	t.Helper()
	var out []consent.Event
	for e, err := range log.Events(context.Background()) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

func TestStateAuditLog(t *testing.T) {
	clock := func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) }
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		log := st.AuditLog("flow-a")
		last, err := log.Last(ctx)
		require.NoError(t, err)
		assert.Zero(t, last, "empty trail")

		trail := consent.NewTrail(log, consent.WithClock(clock))
		want := auditEvents(t, trail, 1, 3)
		assert.Equal(t, want, readAudit(t, log), "read back in order, unchanged")

		s, err := VerifyAudit(ctx, log)
		require.NoError(t, err, "consent's verifier accepts the stored trail")
		assert.Equal(t, consent.Summary{Events: 3, LastSeq: 3, LastHash: want[2].Hash}, s)
		var v consent.Verifier
		for _, e := range readAudit(t, log) {
			require.NoError(t, v.Next(e))
		}

		last, err = log.Last(ctx)
		require.NoError(t, err)
		assert.Equal(t, want[2], last)

		// Re-appending the last event (a Trail retrying after a failed
		// multi-sink append) is a no-op.
		require.NoError(t, log.Append(ctx, want[2]))
		assert.Len(t, readAudit(t, log), 3)

		// Out of order, unchained or altered events are refused.
		skip := want[2]
		skip.Seq, skip.PrevHash = 5, want[2].Hash
		skip.Hash = consent.HashEvent(skip)
		again := want[1] // an earlier event again
		unchained := want[2]
		unchained.Seq, unchained.PrevHash = 4, want[1].Hash
		unchained.Hash = consent.HashEvent(unchained)
		altered := want[2]
		altered.Seq, altered.PrevHash, altered.Outcome = 4, want[2].Hash, "failed"
		altered.Hash = want[2].Hash // stale hash
		for name, e := range map[string]consent.Event{"gap": skip, "earlier": again, "unchained": unchained, "altered": altered} {
			err := log.Append(ctx, e)
			assert.ErrorIs(t, err, consent.ErrBrokenChain, name)
		}
		assert.Equal(t, want, readAudit(t, log), "refused events are not stored")

		// A Trail resumed from the log continues the chain.
		resumed, err := ResumeTrail(ctx, log, consent.WithClock(clock))
		require.NoError(t, err)
		more := auditEvents(t, resumed, 4, 2)
		assert.Equal(t, int64(4), more[0].Seq)
		assert.Equal(t, want[2].Hash, more[0].PrevHash)
		s, err = VerifyAudit(ctx, log)
		require.NoError(t, err)
		assert.Equal(t, 5, s.Events)

		// Trails are independent.
		other := st.AuditLog("flow-b")
		assert.Empty(t, readAudit(t, other))
		auditEvents(t, consent.NewTrail(other, consent.WithClock(clock)), 1, 1)
		assert.Len(t, readAudit(t, log), 5)
		assert.Len(t, readAudit(t, other), 1)
	})
}

func TestStateAuditLogStopsEarly(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		log := st.AuditLog("flow-a")
		auditEvents(t, consent.NewTrail(log), 1, 3)
		n := 0
		for _, err := range log.Events(context.Background()) {
			require.NoError(t, err)
			n++
			if n == 2 {
				break
			}
		}
		assert.Equal(t, 2, n, "the iterator stops on break")
	})
}

func TestStateLock(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		l, err := lockFor(t, st, "flow-a")
		require.NoError(t, err)
		assert.Equal(t, "flow-a", l.Flow())

		_, err = lockFor(t, st, "flow-a")
		var held *LockHeldError
		require.ErrorAs(t, err, &held)
		assert.ErrorIs(t, err, ErrLockHeld)
		assert.Equal(t, "flow-a", held.Flow)
		assert.Contains(t, err.Error(), "flow-a", "the error names the flow")

		lb, err := lockFor(t, st, "flow-b")
		require.NoError(t, err, "locks are per flow")

		require.NoError(t, l.Release())
		require.NoError(t, l.Release(), "Release is idempotent")
		select {
		case <-l.Lost():
			t.Fatal("a released lock is not lost")
		default:
		}

		l2, err := lockFor(t, st, "flow-a")
		require.NoError(t, err, "free again after release")
		require.NoError(t, l2.Release())
		require.NoError(t, lb.Release())
	})
}

func TestStateRefusesNonIdentifiers(t *testing.T) {
	// Values that look like personal data or prose must not be stored, and
	// the errors must not repeat them.
	const name = "Test Name 1"
	person := consent.RecordRef{System: "primero", ID: name}
	refused := func(t *testing.T, what string, err error) {
		t.Helper()
		if assert.Error(t, err, what) {
			assert.NotContains(t, err.Error(), name, what)
		}
	}
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		_, _, err := st.Cursor(ctx, name)
		refused(t, "Cursor flow", err)
		_, err = st.Processed(ctx, "flow-a", name)
		refused(t, "Processed key", err)
		_, _, err = st.LinkTo(ctx, "case", person, "progres")
		refused(t, "LinkTo id", err)
		_, err = lockFor(t, st, name)
		refused(t, "Lock flow", err)
		refused(t, "Append trail", st.AuditLog(name).Append(ctx, consent.Event{Seq: 1}))
		refused(t, "Update flow", st.Update(ctx, name, func(StateTx) error { return nil }))

		update(t, st, "flow-a", func(tx StateTx) error {
			_, err := tx.MarkProcessed(ctx, name)
			refused(t, "MarkProcessed key", err)
			refused(t, "PutLink id", tx.PutLink(ctx, Link{Kind: "case", From: person, To: primeroCase}))
			refused(t, "PutLink empty id", tx.PutLink(ctx, Link{Kind: "case", From: progresRef, To: consent.RecordRef{System: "primero"}}))
			refused(t, "SetCursor control character", tx.SetCursor(ctx, "line\nbreak"))
			refused(t, "SetCursor empty", tx.SetCursor(ctx, ""))
			return nil
		})
		_, ok, err := st.LinkFrom(ctx, "case", primeroCase, "primero")
		require.NoError(t, err)
		assert.False(t, ok, "no link was stored")
		_, ok, err = st.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.False(t, ok, "no cursor was stored")
	})
}

// ref returns a record reference.
func ref(system, id string) consent.RecordRef { return consent.RecordRef{System: system, ID: id} }

// lockFor takes st's lock of flow and, if it is granted, releases it when
// t ends (a failing test must not leave a lock holding a connection, or
// closing the DB would wait for it).
func lockFor(t testing.TB, st State, flow string) (*Lock, error) {
	t.Helper()
	l, err := st.Lock(context.Background(), flow)
	if l != nil {
		t.Cleanup(func() { _ = l.Release() })
	}
	return l, err
}

// The state store follows the audit trail's identifier rule: a composite
// referral key ("<case id>#<12 hex>") is an identifier, a name joined
// without spaces or an email is not.
func TestStateKeysFollowTheAuditIdentifierRule(t *testing.T) {
	forEachState(t, func(t *testing.T, st State) {
		ctx := context.Background()
		const composite = "3f2a9c1e-5b7d-4e8a-9c0f-7e6d5c4b3a21#1a2b3c4d5e6f"
		update(t, st, "flow-a", func(tx StateTx) error {
			first, err := tx.MarkProcessed(ctx, "referral:"+composite)
			require.NoError(t, err, "a composite key is an identifier")
			assert.True(t, first)
			for _, v := range []string{"Firstname_Lastname", "cw1@example.org", "0005550001"} {
				_, err := tx.MarkProcessed(ctx, v)
				if assert.Error(t, err, "%s is not an identifier", v) {
					assert.NotContains(t, err.Error(), v)
				}
			}
			return nil
		})
		done, err := st.Processed(ctx, "flow-a", "referral:"+composite)
		require.NoError(t, err)
		assert.True(t, done)
	})
}
