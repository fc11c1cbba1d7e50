package sqlsink

import (
	"context"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPostgresOneConn opens a PostgreSQL database whose pool holds a single
// connection, so that every statement shares that connection's caches.
func testPostgresOneConn(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.DSN(t)+"&pool_max_conns=1")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// execAll runs raw DDL, as another tool would have created a table.
func execAll(t *testing.T, db *DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		_, err := db.SQL().ExecContext(context.Background(), s)
		require.NoError(t, err, s)
	}
}

// Two tables whose columns share names but not types, upserted in turn on
// one connection: each keeps its own values. (The staging table and the
// COPY description once were shared by name, and B's integer ages were
// written as the bit pattern of A's floats.)
func TestUpsertPostgresTablesOfDifferentShapeOnOneConnection(t *testing.T) {
	db := testPostgresOneConn(t)
	a := Table{Name: "shape_a", Columns: []Column{{Name: "id", Type: Text}, {Name: "age", Type: Float}}, Key: []string{"id"}}
	b := Table{Name: "shape_b", Columns: []Column{{Name: "id", Type: Text}, {Name: "age", Type: Integer}}, Key: []string{"id"}}
	c := Table{Name: "shape_c", Columns: []Column{{Name: "id", Type: Text}, {Name: "age", Type: Date}}, Key: []string{"id"}}
	ensure(t, db, a)
	ensure(t, db, b)
	ensure(t, db, c)
	for round := range 2 { // the second round merges through the staging tables
		upsert(t, db, a, []mapping.Record{{"id": "r1", "age": 12.5 + float64(round)}})
		upsert(t, db, b, []mapping.Record{{"id": "r1", "age": 12 + round}})
		upsert(t, db, c, []mapping.Record{{"id": "r1", "age": "2024-01-0" + string(rune('1'+round))}})
	}
	assert.Equal(t, 13.5, dump(t, db, a)[0]["age"])
	assert.Equal(t, int64(13), dump(t, db, b)[0]["age"])
	assert.Equal(t, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), dump(t, db, c)[0]["age"])
}

// A table created by another tool with narrower integer and text types is
// accepted by EnsureTable as it is: Integer over smallint/integer/bigint,
// Text over varchar. Nothing is changed.
func TestEnsureTableAcceptsCompatibleExistingTable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		if db.Dialect() == Postgres {
			execAll(t, db, `CREATE TABLE legacy (id varchar(40) PRIMARY KEY, n smallint, i integer, b bigint, note character varying)`)
		} else {
			execAll(t, db, `CREATE TABLE legacy (id VARCHAR(40) NOT NULL PRIMARY KEY, n SMALLINT, i INT, b BIGINT, note VARCHAR)`)
		}
		tbl := Table{Name: "legacy", Columns: []Column{
			{Name: "id", Type: Text}, {Name: "n", Type: Integer}, {Name: "i", Type: Integer},
			{Name: "b", Type: Integer}, {Name: "note", Type: Text},
		}, Key: []string{"id"}}
		m, err := db.EnsureTable(context.Background(), tbl)
		require.NoError(t, err)
		assert.Equal(t, Migration{}, m)
		rec := mapping.Record{"id": "r-1", "n": 7, "i": 70000, "b": int64(1) << 40, "note": "x"}
		upsert(t, db, tbl, []mapping.Record{rec})
		rec["n"] = 8
		st := upsert(t, db, tbl, []mapping.Record{rec})
		assert.Equal(t, int64(1), st.Updated)
		assert.Equal(t, []mapping.Record{{"id": "r-1", "n": int64(8), "i": int64(70000), "b": int64(1) << 40, "note": "x"}}, dump(t, db, tbl))
	})
}

// Upsert checks the declaration against the table before writing: a
// column of another type, a missing column or another key is refused,
// naming table and column, and nothing is written.
func TestUpsertChecksDeclarationAgainstTable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		tbl := casesTable()
		stored := casesTable()
		stored.Columns[2].Type = Text // age is text in the database
		ensure(t, db, stored)
		_, err := db.Upsert(ctx, tbl, records(caseRecord(1)))
		require.ErrorIs(t, err, ErrDestructiveChange)
		assert.Contains(t, err.Error(), `"age"`)
		assert.Contains(t, err.Error(), "EnsureTable")
		assert.Empty(t, dump(t, db, stored))

		wider := casesTable()
		wider.Columns = append(wider.Columns, Column{Name: "region", Type: Text})
		_, err = db.Upsert(ctx, wider, records(caseRecord(1)))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"region"`)
		assert.Contains(t, err.Error(), "EnsureTable")
		assert.Empty(t, dump(t, db, stored))
	})
}

// Upsert into a table that does not exist says to call EnsureTable.
func TestUpsertMissingTableSaysEnsureTable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		_, err := db.Upsert(context.Background(), casesTable(), records(caseRecord(1)))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"cases"`)
		assert.Contains(t, err.Error(), "does not exist")
		assert.Contains(t, err.Error(), "EnsureTable")
	})
}

// A value the column's real type cannot hold (an Integer too large for a
// smallint column) is a *RowError naming row, column and type, never the
// value, and nothing of the batch is written.
func TestUpsertEncodeErrorNamesRowColumnTypeNotValue(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		if db.Dialect() == Postgres {
			execAll(t, db, `CREATE TABLE narrow (id text PRIMARY KEY, n smallint)`)
		} else {
			t.Skip("SQLite integers are 64-bit whatever the declared type")
		}
		tbl := Table{Name: "narrow", Columns: []Column{{Name: "id", Type: Text}, {Name: "n", Type: Integer}}, Key: []string{"id"}}
		var want []mapping.Record
		for _, load := range []string{"first load", "merge"} {
			_, err := db.Upsert(context.Background(), tbl, records(
				mapping.Record{"id": "r-1", "n": 1}, mapping.Record{"id": "r-2", "n": 42424}))
			require.ErrorIs(t, err, ErrInvalidValue, load)
			var re *RowError
			require.ErrorAs(t, err, &re, load)
			assert.Equal(t, int64(2), re.Row, load)
			assert.Equal(t, "n", re.Column, load)
			assert.Contains(t, err.Error(), "smallint", load)
			assert.NotContains(t, err.Error(), "42424", load)
			assert.Equal(t, want, dump(t, db, tbl), load)
			// A row already there: the next round merges through the stage.
			upsert(t, db, tbl, []mapping.Record{{"id": "keep", "n": 0}})
			want = []mapping.Record{{"id": "keep", "n": int64(0)}}
		}
	})
}

// Keys that are equal as the column's type (numeric 1 and 1.0) collapse
// to the last record in a batch instead of failing it.
func TestUpsertCollapsesKeysEqualAsColumnType(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := Table{Name: "nkeys", Columns: []Column{{Name: "k", Type: Numeric}, {Name: "v", Type: Text}}, Key: []string{"k"}}
		ensure(t, db, tbl)
		st := upsert(t, db, tbl, []mapping.Record{
			{"k": "1", "v": "a"}, {"k": "1.0", "v": "b"}, {"k": "01.00", "v": "c"}, {"k": "1e0", "v": "d"}, {"k": "2", "v": "e"},
		})
		assert.Equal(t, Stats{Rows: 5, Inserted: 2, Duplicates: 3, Batches: 1, Duration: st.Duration}, st)
		rows := dump(t, db, tbl)
		require.Len(t, rows, 2)
		assert.Equal(t, "d", rows[0]["v"])

		ftbl := Table{Name: "fkeys", Columns: []Column{{Name: "k", Type: Float}, {Name: "v", Type: Text}}, Key: []string{"k"}}
		ensure(t, db, ftbl)
		st = upsert(t, db, ftbl, []mapping.Record{{"k": 0.0, "v": "a"}, {"k": "-0", "v": "b"}})
		assert.Equal(t, int64(1), st.Duplicates, "0 and -0 are one float key")
	})
}

// A key value is shown in an error only when the column is declared an
// identifier: a key may be a name.
func TestRowErrorShowsKeyOnlyForIdentifiers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := Table{Name: "people", Columns: []Column{{Name: "full_name", Type: Text}, {Name: "age", Type: Integer}}, Key: []string{"full_name"}}
		ensure(t, db, tbl)
		_, err := db.Upsert(context.Background(), tbl, records(mapping.Record{"full_name": "Test Child 1", "age": "x"}))
		var re *RowError
		require.ErrorAs(t, err, &re)
		assert.Empty(t, re.Key)
		assert.NotContains(t, err.Error(), "Test Child 1")
		assert.Contains(t, err.Error(), "row 1")
		assert.Contains(t, err.Error(), `column "age"`)
		assert.Contains(t, err.Error(), "Integer")
	})
}

// A dashboard table keyed by uuid, created by another tool with the types
// reporting tables use, is accepted by EnsureTable as it is and re-synced:
// the first load COPYs straight in, every later one merges, and an
// unchanged reload is skipped.
func TestUpsertResyncIntoRealWorldTable(t *testing.T) {
	db := testPostgres(t)
	execAll(t, db, `CREATE TABLE dash (
		id uuid PRIMARY KEY, n smallint, i integer, b bigint, amount numeric(10,2), d date,
		ts timestamptz, doc jsonb, tags text[], code varchar(12))`)
	tbl := Table{Name: "dash", Columns: []Column{
		{Name: "id", Type: UUID, Identifier: true}, {Name: "n", Type: Integer}, {Name: "i", Type: Integer},
		{Name: "b", Type: Integer}, {Name: "amount", Type: Numeric}, {Name: "d", Type: Date},
		{Name: "ts", Type: Timestamp}, {Name: "doc", Type: JSON}, {Name: "tags", Type: TextArray},
		{Name: "code", Type: Text},
	}, Key: []string{"id"}}
	m := ensure(t, db, tbl)
	assert.Equal(t, Migration{}, m, "a compatible table is left as it is")

	rec := func(n int) mapping.Record {
		return mapping.Record{
			"id": "0B7C5A4E-2F1D-4C3B-9A8E-1D2C3B4A5F6" + string(rune('0'+n)), "n": n, "i": 70000 + n, "b": int64(1)<<40 + int64(n),
			"amount": "12.5", "d": "2024-02-29", "ts": "2024-03-01 10:11:12.123456+07",
			"doc": map[string]any{"k": n}, "tags": []any{"a", "b"}, "code": "c-1",
		}
	}
	st := upsert(t, db, tbl, []mapping.Record{rec(1), rec(2)})
	assert.Equal(t, int64(2), st.Inserted)
	st = upsert(t, db, tbl, []mapping.Record{rec(1), rec(2)})
	assert.Equal(t, int64(2), st.Skipped, "an unchanged reload is skipped")
	changed := rec(2)
	changed["n"] = 9
	st = upsert(t, db, tbl, []mapping.Record{rec(1), changed, rec(3)})
	assert.Equal(t, Stats{Rows: 3, Inserted: 1, Updated: 1, Skipped: 1, Batches: 1, Duration: st.Duration}, st)

	rows := dump(t, db, tbl)
	require.Len(t, rows, 3)
	assert.Equal(t, mapping.Record{
		"id": "0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f62", "n": int64(9), "i": int64(70002), "b": int64(1)<<40 + 2,
		"amount": 12.5, "d": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"ts":  time.Date(2024, 3, 1, 3, 11, 12, 123456000, time.UTC),
		"doc": map[string]any{"k": 2.0}, "tags": []any{"a", "b"}, "code": "c-1",
	}, rows[1])
}

// The key is read in its own order, which may differ from the columns'.
func TestInspectReadsKeyInKeyOrder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		execAll(t, db, `CREATE TABLE k2 (a text NOT NULL, b text NOT NULL, v text, PRIMARY KEY (b, a))`)
		_, key := columnsOf(t, db, "k2")
		assert.Equal(t, []string{"b", "a"}, key)
		tbl := Table{Name: "k2", Columns: []Column{{Name: "a", Type: Text}, {Name: "b", Type: Text}, {Name: "v", Type: Text}}, Key: []string{"b", "a"}}
		ensure(t, db, tbl)
		upsert(t, db, tbl, []mapping.Record{{"a": "1", "b": "2", "v": "x"}})
		tbl.Key = []string{"a", "b"}
		_, err := db.Upsert(context.Background(), tbl, records(mapping.Record{"a": "1", "b": "2"}))
		assert.ErrorIs(t, err, ErrDestructiveChange)
	})
}

// Records repeating one key keep one row in memory, not one per record,
// and the last one wins, whatever the interleaving with other keys.
func TestUpsertRepeatedKeyKeepsBatchSmall(t *testing.T) {
	tbl := casesTable()
	cols := make([]existingColumn, len(tbl.Columns))
	for i, c := range tbl.Columns {
		cols[i] = existingColumn{name: c.Name, typ: sqlType(Postgres, c.Type), oid: map[Type]uint32{Text: 25, Integer: 20, Float: 701}[c.Type]}
	}
	b, err := newBatch(tbl, Postgres, upsertConfig{batchSize: DefaultBatchSize}, cols)
	require.NoError(t, err)
	for i := range 100_000 {
		rec := caseRecord(i % 3)
		rec["age"] = i
		require.NoError(t, b.add(rec, int64(i+1)))
	}
	assert.Equal(t, 3, b.len())
	assert.Less(t, len(b.copyBuf), 3*maxStale, "replaced rows are compacted away")

	// The same under a savepoint set before every record (a caller that
	// may roll each one back): compaction waits for the next savepoint,
	// and a rollback still finds the row as it was.
	b.reset()
	for i := range 100_000 {
		b.setSavepoint()
		rec := caseRecord(i % 3)
		rec["age"] = i
		require.NoError(t, b.add(rec, int64(i+1)))
	}
	assert.Less(t, len(b.copyBuf), 3*maxStale, "compacted at the savepoints")
	b.setSavepoint()
	require.NoError(t, b.add(caseRecord(0), 100_001))
	require.True(t, b.rollback())
	assert.Equal(t, int64(100_000), b.rowNums[b.byKey["child-0000"]],
		"key 0's row is record 100,000's again, not 100,001's")
	assert.Equal(t, 3, b.len())

	forEachDialect(t, func(t *testing.T, db *DB) {
		ensure(t, db, tbl)
		var recs []mapping.Record
		for i := range 30_000 {
			rec := caseRecord(i % 3)
			rec["age"] = i
			recs = append(recs, rec)
		}
		st := upsert(t, db, tbl, recs)
		assert.Equal(t, int64(3), st.Inserted)
		rows := dump(t, db, tbl)
		require.Len(t, rows, 3)
		for k, row := range rows {
			want := caseRecord(k)
			want["age"] = int64(30_000 - 3 + k)
			assert.Equal(t, want, row)
		}
	})
}
