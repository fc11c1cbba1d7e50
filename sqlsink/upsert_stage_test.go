package sqlsink

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/mapping"
)

// On PostgreSQL the staging table of a merge stays with its connection,
// empty (ON COMMIT DELETE ROWS), and the next upsert of the same shape on
// that connection uses it again: a stream written as many small upserts
// (one per committed chunk) does not create and drop a table each time.
func TestUpsertKeepsTheStagingTableWithItsConnection(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.DSN(t)+"&pool_max_conns=1") // every upsert on the same session
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	tbl := casesTable()
	ensure(t, db, tbl)
	stages := func() []mapping.Record {
		return queryAll(t, db, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname LIKE 'pg_temp%' AND c.relname LIKE 'casebridge_stage_%'`)
	}
	upsert(t, db, tbl, seq(0, 10)) // straight COPY: the table was empty
	assert.Empty(t, stages(), "a load COPYed straight in creates no staging table")
	for round := range 3 {
		var recs []mapping.Record
		for i := range 15 { // 10 exist (updated in round 0), 5 new in round 0
			r := caseRecord(i)
			r["score"] = float64(1000 + round)
			recs = append(recs, r)
		}
		st := upsert(t, db, tbl, recs)
		if round == 0 {
			assert.Equal(t, Stats{Rows: 15, Inserted: 5, Updated: 10, Batches: 1, Duration: st.Duration}, st)
		} else {
			assert.Equal(t, Stats{Rows: 15, Updated: 15, Batches: 1, Duration: st.Duration}, st, "round %d", round)
		}
		got := stages()
		require.Len(t, got, 1, "round %d: one staging table, kept for the next upsert", round)
		n := queryAll(t, db, `SELECT count(*) AS n FROM pg_temp.`+quoteIdent(got[0]["relname"].(string)))
		assert.EqualValues(t, 0, n[0]["n"], "the staging table is left empty")
	}
	rows := dump(t, db, tbl)
	require.Len(t, rows, 15)
	assert.EqualValues(t, 1002, rows[14]["score"])
}

// A load written as several upserts (a stream committed chunk by chunk)
// COPYs each chunk straight into the table while every key it has written
// was new, not only the first chunk into the empty table; once a key meets
// an existing row, the next upserts merge again.
func TestUpsertKeepsCopyingStraightInWhileTheKeysAreNew(t *testing.T) {
	ctx := context.Background()
	db := testPostgres(t)
	tbl := casesTable()
	ensure(t, db, tbl)
	for _, q := range []string{
		`CREATE TABLE how (q text)`,
		`CREATE FUNCTION log_how() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN INSERT INTO how VALUES (CASE WHEN current_query() LIKE 'COPY%' THEN 'copy' ELSE 'merge' END); RETURN NEW; END $$`,
		`CREATE TRIGGER log_how BEFORE INSERT ON ` + quoteIdent(tbl.Name) + ` FOR EACH STATEMENT EXECUTE FUNCTION log_how()`,
	} {
		_, err := db.SQL().ExecContext(ctx, q)
		require.NoError(t, err)
	}
	how := func() []string {
		var out []string
		for _, r := range queryAll(t, db, `SELECT q FROM how`) {
			out = append(out, r["q"].(string))
		}
		_, err := db.SQL().ExecContext(ctx, `DELETE FROM how`)
		require.NoError(t, err)
		return out
	}
	upsert(t, db, tbl, seq(0, 10))
	assert.Equal(t, []string{"copy"}, how(), "into the empty table")
	st := upsert(t, db, tbl, seq(10, 20))
	assert.Equal(t, int64(10), st.Inserted)
	assert.Equal(t, []string{"copy"}, how(), "new keys into a table the previous upsert loaded")
	st = upsert(t, db, tbl, seq(15, 25)) // 15-19 exist
	assert.Equal(t, Stats{Rows: 10, Inserted: 5, Skipped: 5, Batches: 1, Duration: st.Duration}, st)
	assert.Equal(t, []string{"merge"}, how(), "an existing key: merged (the COPY attempt rolled back)")
	upsert(t, db, tbl, seq(25, 30))
	assert.Equal(t, []string{"merge"}, how(), "after a merge, merged again")
	assert.Len(t, dump(t, db, tbl), 30)
}
