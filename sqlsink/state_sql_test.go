package sqlsink

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/consent/consenttest"
	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forEachStateDSN runs fn as two subtests, "sqlite" and "postgres", each
// with the DSN of a fresh database that fn may open more than once.
func forEachStateDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.DSN(t)) })
}

// fakeClock is a clock tests move by hand.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) now() time.Time            { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) advance(d time.Duration)   { c.ms.Add(d.Milliseconds()) }
func newFakeClock() *fakeClock                 { c := &fakeClock{}; c.ms.Store(1714557600000); return c }
func (c *fakeClock) store(s *DBState) *DBState { s.now = c.now; return s }

func TestDBStateAuditResumesAfterReopen(t *testing.T) {
	forEachStateDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db1, err := Open(ctx, dsn)
		require.NoError(t, err)
		log1 := testDBState(t, db1).AuditLog("flow-a")
		trail1, err := ResumeTrail(ctx, log1)
		require.NoError(t, err)
		first := auditEvents(t, trail1, 1, 2)
		require.NoError(t, db1.Close())

		// A new process: a new handle, a Trail resumed from what is stored.
		log2 := testDBState(t, openStateDB(t, dsn)).AuditLog("flow-a")
		last, err := log2.Last(ctx)
		require.NoError(t, err)
		assert.Equal(t, first[1], last)
		trail2, err := ResumeTrail(ctx, log2)
		require.NoError(t, err)
		next := auditEvents(t, trail2, 3, 1)
		assert.Equal(t, int64(3), next[0].Seq)
		assert.Equal(t, first[1].Hash, next[0].PrevHash)

		// A Trail started from scratch against the stored trail is refused.
		_, err = consent.NewTrail(log2).Append(ctx, consent.Event{Kind: consent.KindDecision, Decision: consent.DecisionDeny})
		assert.ErrorIs(t, err, consent.ErrBrokenChain)

		s, err := VerifyAudit(ctx, log2)
		require.NoError(t, err)
		assert.Equal(t, consent.Summary{Events: 3, LastSeq: 3, LastHash: next[0].Hash}, s)
		assert.Equal(t, append(first, next...), readAudit(t, log2))
	})
}

func TestDBStateAuditPagesThroughLongTrails(t *testing.T) {
	if testing.Short() {
		t.Skip("appends several pages of events")
	}
	forEachDialect(t, func(t *testing.T, db *DB) {
		log := testDBState(t, db).AuditLog("flow-a")
		want := auditEvents(t, consent.NewTrail(log), 1, 2*auditPageSize+3)
		assert.Equal(t, want, readAudit(t, log))
		s, err := VerifyAudit(context.Background(), log)
		require.NoError(t, err)
		assert.Equal(t, len(want), s.Events)
	})
}

func TestDBStateAuditDetectsTamperedRows(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		st := testDBState(t, db)
		log := st.AuditLog("flow-a")
		auditEvents(t, consent.NewTrail(log), 1, 3)
		table := quoteIdent("casebridge_audit")
		exec := func(q string) {
			t.Helper()
			_, err := db.SQL().ExecContext(ctx, q)
			require.NoError(t, err)
		}

		// An event rewritten in place.
		exec(`UPDATE ` + table + ` SET "event" = REPLACE("event", 'case-0002', 'case-0009') WHERE "seq" = 2`)
		_, err := VerifyAudit(ctx, log)
		var te *consent.TamperError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, consent.TamperHashMismatch, te.Reason)
		assert.Equal(t, 2, te.Line)
		_, err = ResumeTrail(ctx, log)
		assert.ErrorAs(t, err, &te, "a tampered trail is not resumed")

		// An event removed.
		exec(`DELETE FROM ` + table + ` WHERE "seq" = 2`)
		_, err = VerifyAudit(ctx, log)
		require.ErrorAs(t, err, &te)
		assert.Equal(t, consent.TamperSeqMismatch, te.Reason)

		// A row whose columns disagree with its event, and one that is not
		// an event at all.
		exec(`UPDATE ` + table + ` SET "seq" = 7 WHERE "seq" = 3`)
		_, err = VerifyAudit(ctx, log)
		require.ErrorAs(t, err, &te)
		assert.Equal(t, consent.TamperSeqMismatch, te.Reason)
		exec(`UPDATE ` + table + ` SET "event" = 'not json' WHERE "seq" = 1`)
		_, err = VerifyAudit(ctx, log)
		require.ErrorAs(t, err, &te)
		assert.Equal(t, consent.TamperMalformed, te.Reason)
	})
}

func TestDBStateAuditConcurrentWritersOneWins(t *testing.T) {
	forEachStateDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		logs := []AuditLog{
			testDBState(t, openStateDB(t, dsn)).AuditLog("flow-a"),
			testDBState(t, openStateDB(t, dsn)).AuditLog("flow-a"),
		}
		auditEvents(t, consent.NewTrail(logs[0]), 1, 1)
		var (
			wg   sync.WaitGroup
			errs [8]error
		)
		for i := range errs {
			wg.Go(func() {
				trail, err := ResumeTrail(ctx, logs[i%2])
				if err != nil {
					errs[i] = err
					return
				}
				_, errs[i] = trail.Append(ctx, consent.Event{
					Kind: consent.KindDelivery, Record: ref("primero", fmt.Sprintf("case-%04d", i)), Outcome: consent.OutcomeDelivered,
				})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			assert.ErrorIs(t, err, consent.ErrBrokenChain)
		}
		assert.GreaterOrEqual(t, ok, 1)
		s, err := VerifyAudit(ctx, logs[1])
		require.NoError(t, err, "concurrent writers never fork or break the trail")
		assert.Equal(t, 1+ok, s.Events, "every successful append is stored, and only those")
	})
}

func TestDBStateLockAcrossHandles(t *testing.T) {
	forEachStateDSN(t, func(t *testing.T, dsn string) {
		stores := []*DBState{
			testDBState(t, openStateDB(t, dsn)),
			testDBState(t, openStateDB(t, dsn)),
		}
		var (
			wg    sync.WaitGroup
			locks [8]*Lock
			errs  [8]error
		)
		for i := range locks {
			wg.Go(func() { locks[i], errs[i] = lockFor(t, stores[i%2], "flow-a") })
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two holders of one flow's lock: %d and %d", winner, i)
				winner = i
				continue
			}
			var held *LockHeldError
			require.ErrorAs(t, err, &held)
			assert.ErrorIs(t, err, ErrLockHeld)
			assert.Equal(t, "flow-a", held.Flow)
			assert.Contains(t, err.Error(), "flow-a")
		}
		require.NotEqual(t, -1, winner, "someone gets the lock")

		other := stores[(winner+1)%2]
		_, err := lockFor(t, other, "flow-a")
		require.ErrorIs(t, err, ErrLockHeld, "the other handle is refused")
		lb, err := lockFor(t, other, "flow-b")
		require.NoError(t, err, "another flow is free")

		require.NoError(t, locks[winner].Release())
		l, err := lockFor(t, other, "flow-a")
		require.NoError(t, err, "free after release")
		require.NoError(t, l.Release())
		require.NoError(t, lb.Release())
	})
}

func TestDBStateSQLiteLeaseRenewalAndExpiry(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	clock := newFakeClock()
	// An hour's lease: the keeper goroutines stay idle, the test keeps by hand.
	a := clock.store(testDBState(t, openStateDB(t, dsn), WithLockLease(time.Hour)))
	b := clock.store(testDBState(t, openStateDB(t, dsn), WithLockLease(time.Hour)))

	la, err := lockFor(t, a, "flow-a")
	require.NoError(t, err)
	_, err = lockFor(t, b, "flow-a")
	var held *LockHeldError
	require.ErrorAs(t, err, &held)
	assert.Equal(t, "flow-a", held.Flow)
	assert.True(t, strings.HasPrefix(held.Holder, "pid-"), "the holder is named")

	clock.advance(50 * time.Minute)
	require.False(t, la.keepOnce(), "renewed")
	clock.advance(50 * time.Minute) // past the first lease, within the renewed one
	_, err = lockFor(t, b, "flow-a")
	require.ErrorIs(t, err, ErrLockHeld, "a renewed lease still holds")

	clock.advance(2 * time.Hour) // the holder stopped renewing (hung or crashed)
	lb, err := lockFor(t, b, "flow-a")
	require.NoError(t, err, "an expired lease is taken over")

	assert.True(t, la.keepOnce(), "the old holder finds out")
	select {
	case <-la.Lost():
	default:
		t.Fatal("Lost not closed")
	}
	assert.ErrorIs(t, la.Release(), ErrLockLost)
	_, err = lockFor(t, a, "flow-a")
	require.ErrorIs(t, err, ErrLockHeld, "releasing a lost lock does not free the new holder's")

	require.NoError(t, lb.Release())
	l, err := lockFor(t, a, "flow-a")
	require.NoError(t, err)
	require.NoError(t, l.Release())
}

func TestDBStatePostgresLockLostWithItsSession(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a := testDBState(t, openStateDB(t, dsn), WithLockLease(time.Hour))
	bdb := openStateDB(t, dsn)
	b := testDBState(t, bdb, WithLockLease(time.Hour))

	la, err := lockFor(t, a, "flow-a")
	require.NoError(t, err)
	require.False(t, la.keepOnce(), "a live session keeps the lock")

	var pid int
	require.NoError(t, bdb.SQL().QueryRowContext(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&pid))
	var terminated bool
	require.NoError(t, bdb.SQL().QueryRowContext(ctx, "SELECT pg_terminate_backend($1, 10000)", pid).Scan(&terminated))
	require.True(t, terminated)

	assert.True(t, la.keepOnce(), "the holder notices its session is gone")
	select {
	case <-la.Lost():
	default:
		t.Fatal("Lost not closed")
	}
	lb, err := lockFor(t, b, "flow-a")
	require.NoError(t, err, "the server released the lock with the session")
	assert.ErrorIs(t, la.Release(), ErrLockLost)
	require.NoError(t, lb.Release())
}

func TestDBStateLockReleaseReturnsConnection(t *testing.T) {
	ctx := context.Background()
	db := testPostgres(t)
	st := testDBState(t, db)
	// More lock/release cycles than the pool has connections: each
	// Release must give its connection back, without the lock.
	for range 3 * int(db.pool.Config().MaxConns) {
		l, err := lockFor(t, st, "flow-a")
		require.NoError(t, err)
		require.NoError(t, l.Release())
	}
	var n int
	require.NoError(t, db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n))
	assert.Zero(t, n, "no advisory lock left behind on a pooled connection")
}

func TestAdvisoryKeyIsStable(t *testing.T) {
	// The key is part of the contract between versions: if it changed, an
	// old and a new process could run the same flow at once. Pinned here.
	assert.Equal(t, int64(2444028766687130650), advisoryKey("casebridge_", "flow-a"))
	assert.NotEqual(t, advisoryKey("casebridge_", "flow-a"), advisoryKey("casebridge_", "flow-b"))
	assert.NotEqual(t, advisoryKey("casebridge_", "flow-a"), advisoryKey("other_", "flow-a"), "prefixes separate stores")
	assert.NotEqual(t, advisoryKey("a", "bc"), advisoryKey("ab", "c"), "prefix and flow are delimited")
}

func TestDBStateTablePrefix(t *testing.T) {
	for _, bad := range []string{`x"; DROP TABLE t; --`, "1abc", "has space", strings.Repeat("p", 41)} {
		_, err := NewDBState(testSQLite(t), WithTablePrefix(bad))
		assert.Error(t, err, "prefix %q", bad)
	}
	_, err := NewDBState(testSQLite(t), WithLockLease(time.Millisecond))
	assert.Error(t, err)
	_, err = NewDBState(nil)
	assert.Error(t, err)

	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		def := testDBState(t, db)
		other := testDBState(t, db, WithTablePrefix("Other_"))
		none := testDBState(t, db, WithTablePrefix(""))
		update(t, def, "flow-a", func(tx StateTx) error { return tx.SetCursor(ctx, "cursor-1") })
		update(t, other, "flow-a", func(tx StateTx) error { return tx.SetCursor(ctx, "cursor-2") })
		_, ok, err := none.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.False(t, ok)
		c, _, err := def.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.Equal(t, "cursor-1", c)
		c, _, err = other.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.Equal(t, "cursor-2", c)

		tables := stateTables(t, db)
		assert.Contains(t, tables, "casebridge_cursors")
		assert.Contains(t, tables, "Other_cursors", "the quoted prefix keeps its case")
		assert.Contains(t, tables, "cursors")

		l, err := lockFor(t, def, "flow-a")
		require.NoError(t, err)
		lo, err := lockFor(t, other, "flow-a")
		require.NoError(t, err, "stores with different prefixes have separate locks")
		require.NoError(t, l.Release())
		require.NoError(t, lo.Release())
	})
}

// stateTables lists the tables of db's current schema.
func stateTables(t *testing.T, db *DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Dialect() == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := db.SQL().QueryContext(context.Background(), q)
	require.NoError(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	sort.Strings(names)
	return names
}

// dumpTable returns the column names of table and its rows as text.
func dumpTable(t *testing.T, db *DB, table string) ([]string, string) {
	t.Helper()
	rows, err := db.SQL().QueryContext(context.Background(), "SELECT * FROM "+quoteIdent(table))
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v\t", cols[i], v)
		}
		b.WriteString("\n")
	}
	require.NoError(t, rows.Err())
	return cols, b.String()
}

func TestDBStateStoresOnlyIDs(t *testing.T) {
	// A synthetic case as a flow would hold it in memory.
	rec := mapping.Record{
		"case_id":             "case-0001",
		"name_first":          "Testfirstname",
		"name_last":           "Testlastname",
		"date_of_birth":       "2014-03-07",
		"phone":               "+000 555 0100 123",
		"location_current":    "Testvillage",
		"protection_concerns": []any{"test_concern_alpha"},
		"caregiver":           map[string]any{"name": "Test Caregiver 1", "relation": "test_relation_aunt"},
	}
	personal := consenttest.LeafPaths(rec, "case_id")
	wantCols := map[string][]string{
		"casebridge_cursors":   {"cursor", "flow"},
		"casebridge_processed": {"flow", "key"},
		"casebridge_links":     {"from_id", "from_system", "kind", "to_id", "to_system"},
		"casebridge_audit":     {"event", "hash", "prev_hash", "seq", "trail"},
		"casebridge_locks":     {"expires_at", "flow", "holder"},
	}
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		st := testDBState(t, db)

		// One run of a referral flow: lock, decide, deliver, remember.
		lock, err := lockFor(t, st, "progres-to-primero")
		require.NoError(t, err)
		defer func() { require.NoError(t, lock.Release()) }()
		trail, err := ResumeTrail(ctx, st.AuditLog("progres-to-primero"))
		require.NoError(t, err)
		caseRef := consent.RecordRef{System: "primero", ID: rec["case_id"].(string)}
		_, err = trail.Append(ctx, consent.Event{Kind: consent.KindDecision, Flow: "progres-to-primero", Record: caseRef,
			Recipient: "progres/unhcr", Decision: consent.DecisionAllow, Reasons: []string{"consent_given"}})
		require.NoError(t, err)
		update(t, st, "progres-to-primero", func(tx StateTx) error {
			if _, err := tx.MarkProcessed(ctx, "referral:ref-0001:pending"); err != nil {
				return err
			}
			if err := tx.PutLink(ctx, Link{Kind: "case", From: progresRef, To: caseRef}); err != nil {
				return err
			}
			return tx.SetCursor(ctx, "2024-05-01T10:00:00.000Z")
		})

		var texts []string
		for _, table := range stateTables(t, db) {
			cols, text := dumpTable(t, db, table)
			want, ok := wantCols[table]
			if db.Dialect() == Postgres && table == "casebridge_locks" {
				ok = false
			}
			if !assert.True(t, ok, "unexpected table %s", table) {
				continue
			}
			sort.Strings(cols)
			assert.Equal(t, want, cols, "table %s holds only id, key, hash and code columns", table)
			assert.NotEmpty(t, text, "table %s was written", table)
			texts = append(texts, text)
		}
		consenttest.AssertNoPersonalData(t, rec, personal, texts...)
		// The check would see a leak: the same dump plus a personal value.
		leaky := append([]string{"name=" + rec["name_first"].(string)}, texts...)
		assert.NotEmpty(t, consenttest.Scan(rec, personal, leaky...))
	})
}

// rowCount returns the number of rows of table.
func rowCount(t *testing.T, q querier, table string) int {
	t.Helper()
	var n int
	err := q.QueryRowContext(context.Background(), "SELECT count(*) FROM "+quoteIdent(table)).Scan(&n)
	if err == sql.ErrNoRows {
		return 0
	}
	require.NoError(t, err)
	return n
}

func TestDBStateRollbackLeavesNoRows(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		st := testDBState(t, db)
		err := st.Update(ctx, "flow-a", func(tx StateTx) error {
			require.NoError(t, tx.SetCursor(ctx, "cursor-1"))
			_, err := tx.MarkProcessed(ctx, "key-1")
			require.NoError(t, err)
			require.NoError(t, tx.PutLink(ctx, caseLink))
			return errStop
		})
		require.ErrorIs(t, err, errStop)
		for _, table := range []string{"casebridge_cursors", "casebridge_processed", "casebridge_links"} {
			assert.Zero(t, rowCount(t, db.SQL(), table), "table %s", table)
		}
	})
}
