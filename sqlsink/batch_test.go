package sqlsink

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/mapping"
)

// A batch filled and written chunk after chunk leaves what one Upsert of
// the same records leaves, with each write's counts, and is empty after
// each write.
func TestBatchWritesLikeUpsert(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		tbl := casesTable()
		b := batchFor(t, db, tbl)

		for _, r := range seq(0, 10) {
			require.NoError(t, b.Add(r))
		}
		require.NoError(t, b.Add(caseRecord(3))) // a repeated key: one row
		assert.Equal(t, 10, b.Len())
		assert.EqualValues(t, 11, b.Records())
		st, err := b.Write(ctx)
		require.NoError(t, err)
		assert.Equal(t, Stats{Rows: 11, Inserted: 10, Duplicates: 1, Batches: 1, Duration: st.Duration}, st)
		assert.Zero(t, b.Len(), "empty after a write")

		var want []mapping.Record
		for i := range 15 { // 0-4 change, 5-9 as they are, 10-14 new
			r := caseRecord(i)
			if i < 5 {
				r["score"] = 99.5
			}
			want = append(want, r)
			require.NoError(t, b.Add(r))
		}
		st, err = b.Write(ctx)
		require.NoError(t, err)
		assert.Equal(t, Stats{Rows: 15, Inserted: 5, Updated: 5, Skipped: 5, Batches: 1, Duration: st.Duration}, st)
		assert.Equal(t, want, dump(t, db, tbl))

		st, err = b.Write(ctx)
		require.NoError(t, err)
		assert.Equal(t, Stats{}, st, "an empty batch writes nothing")
	})
}

// A record the table cannot take is refused by Add, naming the column and
// the record's place since the last write, and leaves the batch as it was.
func TestBatchAddRefusesABadRecordAndKeepsTheOthers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		tbl := casesTable()
		b := batchFor(t, db, tbl)
		require.NoError(t, b.Add(caseRecord(0)))

		bad := caseRecord(1)
		bad["age"] = "not a number"
		err := b.Add(bad)
		var re *RowError
		require.ErrorAs(t, err, &re)
		assert.ErrorIs(t, err, ErrInvalidValue)
		assert.Equal(t, "age", re.Column)
		assert.EqualValues(t, 2, re.Row)
		assert.NotContains(t, err.Error(), "not a number", "never the value")

		unknown := caseRecord(2)
		unknown["nickname"] = "x"
		require.ErrorAs(t, b.Add(unknown), &re)
		assert.Equal(t, "nickname", re.Column)

		assert.Equal(t, 1, b.Len())
		_, err = b.Write(ctx)
		require.NoError(t, err)
		assert.Equal(t, []mapping.Record{caseRecord(0)}, dump(t, db, tbl))
	})
}

// A write that fails writes nothing and keeps the rows, so that they can
// be written again; Reset drops them.
func TestBatchWriteFailureKeepsTheRows(t *testing.T) {
	ctx := context.Background()
	db := testPostgres(t)
	tbl := casesTable()
	b := batchFor(t, db, tbl)
	for _, r := range seq(0, 5) {
		require.NoError(t, b.Add(r))
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := b.Write(cancelled)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Empty(t, dump(t, db, tbl))
	assert.Equal(t, 5, b.Len())

	st, err := b.Write(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 5, st.Inserted)
	assert.Len(t, dump(t, db, tbl), 5)

	require.NoError(t, b.Add(caseRecord(9)))
	b.Reset()
	assert.Zero(t, b.Len())
	st, err = b.Write(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Rows)
}

// NewBatch checks the table as Upsert does.
func TestNewBatchChecksTheTable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		_, err := db.NewBatch(context.Background(), casesTable())
		assert.ErrorIs(t, err, ErrNoTable)
	})
}

// Rollback takes back what was added since the savepoint, a replaced row
// included, and the batch writes as if those records had never come.
func TestBatchRollbackReturnsToTheSavepoint(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		tbl := casesTable()
		b := batchFor(t, db, tbl)
		assert.False(t, b.Rollback(), "no savepoint yet")
		for _, r := range seq(0, 3) {
			require.NoError(t, b.Add(r))
		}
		b.Savepoint()
		changed := caseRecord(1)
		changed["score"] = 99.5
		require.NoError(t, b.Add(caseRecord(7))) // a new key
		require.NoError(t, b.Add(changed))       // replaces row 1
		require.NoError(t, b.Add(caseRecord(8)))
		bad := caseRecord(9)
		bad["age"] = "not a number"
		require.Error(t, b.Add(bad))
		require.True(t, b.Rollback())
		assert.Equal(t, 3, b.Len())
		assert.EqualValues(t, 3, b.Records())

		require.NoError(t, b.Add(caseRecord(4))) // after the rollback, adds go on
		st, err := b.Write(ctx)
		require.NoError(t, err)
		assert.Equal(t, Stats{Rows: 4, Inserted: 4, Batches: 1, Duration: st.Duration}, st)
		assert.Equal(t, []mapping.Record{caseRecord(0), caseRecord(1), caseRecord(2), caseRecord(4)}, dump(t, db, tbl),
			"row 1 as it was before the savepoint")
		assert.False(t, b.Rollback(), "a write drops the savepoint")
	})
}
