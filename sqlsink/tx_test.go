package sqlsink

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casebridge/casebridge/mapping"
)

// notesTable is a second synthetic table, for writes spanning two tables.
func notesTable() Table {
	return Table{
		Name:    "notes",
		Columns: []Column{{Name: "note_id", Type: Text}, {Name: "case_id", Type: Text, NotNull: true}},
		Key:     []string{"note_id"},
	}
}

// Two batches and a statement in one transaction commit together, and the
// batches are empty after it.
func TestInTxCommitsBatchesAndStatementsTogether(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		cases, notes := batchFor(t, db, casesTable()), batchFor(t, db, notesTable())
		upsert(t, db, notesTable(), []mapping.Record{{"note_id": "n-old", "case_id": "child-0009"}})
		for _, r := range seq(0, 3) {
			require.NoError(t, cases.Add(r))
		}
		require.NoError(t, notes.Add(mapping.Record{"note_id": "n-1", "case_id": "child-0001"}))

		del := `DELETE FROM notes WHERE case_id = $1`
		if db.Dialect() == SQLite {
			del = `DELETE FROM notes WHERE case_id = ?`
		}
		var deleted int64
		err := db.InTx(ctx, func(tx *Tx) error {
			st, err := tx.Write(ctx, cases)
			if err != nil {
				return err
			}
			assert.EqualValues(t, 3, st.Inserted)
			if _, err := tx.Write(ctx, notes); err != nil {
				return err
			}
			_, err = tx.Write(ctx, notes)
			assert.ErrorIs(t, err, errWrittenTwice)
			deleted, err = tx.Exec(ctx, del, "child-0009")
			return err
		})
		require.NoError(t, err)
		assert.EqualValues(t, 1, deleted)
		assert.Len(t, dump(t, db, casesTable()), 3)
		assert.Equal(t, []mapping.Record{{"note_id": "n-1", "case_id": "child-0001"}}, dump(t, db, notesTable()))
		assert.Zero(t, cases.Len()+notes.Len(), "written batches are emptied on commit")
	})
}

// An error in the transaction rolls all of it back, and the batches keep
// their rows, to be written again.
func TestInTxRollsBackEverythingOnError(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		cases, notes := batchFor(t, db, casesTable()), batchFor(t, db, notesTable())
		for _, r := range seq(0, 3) {
			require.NoError(t, cases.Add(r))
		}
		require.NoError(t, notes.Add(mapping.Record{"note_id": "n-1", "case_id": "child-0001"}))
		stop := errors.New("stop")
		err := db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.Write(ctx, cases); err != nil {
				return err
			}
			if _, err := tx.Write(ctx, notes); err != nil {
				return err
			}
			return stop
		})
		require.ErrorIs(t, err, stop)
		assert.Empty(t, dump(t, db, casesTable()))
		assert.Empty(t, dump(t, db, notesTable()))
		assert.Equal(t, 3, cases.Len(), "kept for another try")

		st, err := cases.Write(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 3, st.Inserted, "a load rolled back is loaded again whole")
		assert.Len(t, dump(t, db, casesTable()), 3)
	})
}

// A statement's error from PostgreSQL quotes no value.
func TestTxExecErrorQuotesNoValue(t *testing.T) {
	ctx := context.Background()
	db := testPostgres(t)
	ensure(t, db, casesTable())
	err := db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE cases SET age = $1::int WHERE case_id = 'x'`, "Test Name 7")
		return err
	})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "Test Name 7")
}

// A flow's state changed in a transaction commits or rolls back with the
// rows written in it: the cursor moves with the data it covers.
func TestStateUpdateInMovesTheCursorWithTheRows(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		b := batchFor(t, db, casesTable())
		st, err := NewDBState(db)
		require.NoError(t, err)
		load := func(cursor string, fail error) error {
			return db.InTx(ctx, func(tx *Tx) error {
				if _, err := tx.Write(ctx, b); err != nil {
					return err
				}
				if err := st.UpdateIn(ctx, tx, "flow-a", func(s StateTx) error { return s.SetCursor(ctx, cursor) }); err != nil {
					return err
				}
				return fail
			})
		}
		for _, r := range seq(0, 3) {
			require.NoError(t, b.Add(r))
		}
		require.NoError(t, load("c-1", nil))
		for _, r := range seq(3, 6) {
			require.NoError(t, b.Add(r))
		}
		stop := errors.New("crash after the cursor")
		require.ErrorIs(t, load("c-2", stop), stop)

		cursor, _, err := st.Cursor(ctx, "flow-a")
		require.NoError(t, err)
		assert.Equal(t, "c-1", cursor, "the rolled-back cursor did not move")
		assert.Len(t, dump(t, db, casesTable()), 3, "nor did its rows come in")

		other := testSQLite(t)
		err = other.InTx(ctx, func(tx *Tx) error {
			return st.UpdateIn(ctx, tx, "flow-a", func(s StateTx) error { return s.SetCursor(ctx, "c-3") })
		})
		assert.ErrorContains(t, err, "own DB")
	})
}
