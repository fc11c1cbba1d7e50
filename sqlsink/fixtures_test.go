package sqlsink

import (
	"context"
	"fmt"
	"iter"
	"testing"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/require"
)

// casesTable is a small synthetic table used across the tests.
func casesTable() Table {
	return Table{
		Name: "cases",
		Columns: []Column{
			{Name: "case_id", Type: Text, Identifier: true},
			{Name: "name", Type: Text},
			{Name: "age", Type: Integer},
			{Name: "score", Type: Float},
			{Name: "status", Type: Text, NotNull: true, Default: "open"},
		},
		Key: []string{"case_id"},
	}
}

// records turns records into the sequence Upsert reads.
func records(recs ...mapping.Record) iter.Seq2[mapping.Record, error] {
	return func(yield func(mapping.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// caseRecord is synthetic case i.
func caseRecord(i int) mapping.Record {
	return mapping.Record{
		"case_id": fmt.Sprintf("child-%04d", i),
		"name":    fmt.Sprintf("Test Name %d", i),
		"age":     int64(i % 18),
		"score":   float64(i) / 4,
		"status":  "open",
	}
}

// ensure creates t on db and fails the test on error.
func ensure(t *testing.T, db *DB, tbl Table, opts ...EnsureOption) Migration {
	t.Helper()
	m, err := db.EnsureTable(context.Background(), tbl, opts...)
	require.NoError(t, err)
	return m
}

// batchFor creates tbl on db and returns an empty Batch for it.
func batchFor(t *testing.T, db *DB, tbl Table) *Batch {
	t.Helper()
	ensure(t, db, tbl)
	b, err := db.NewBatch(context.Background(), tbl)
	require.NoError(t, err)
	return b
}

// upsert runs Upsert and fails the test on error.
func upsert(t *testing.T, db *DB, tbl Table, recs []mapping.Record, opts ...UpsertOption) Stats {
	t.Helper()
	st, err := db.Upsert(context.Background(), tbl, records(recs...), opts...)
	require.NoError(t, err)
	return st
}

// queryAll collects a query's rows, failing the test on error.
func queryAll(t *testing.T, db *DB, query string, args ...any) []mapping.Record {
	t.Helper()
	var out []mapping.Record
	for rec, err := range db.Query(context.Background(), query, args...) {
		require.NoError(t, err)
		out = append(out, rec)
	}
	return out
}

// dump reads a table ordered by its key: the tests compare whole tables.
func dump(t *testing.T, db *DB, tbl Table) []mapping.Record {
	t.Helper()
	return queryAll(t, db, "SELECT * FROM "+quoteIdent(tbl.Name)+" ORDER BY "+identList(tbl.Key))
}

// columnsOf lists a table's columns as the database reports them.
func columnsOf(t *testing.T, db *DB, table string) (cols []existingColumn, key []string) {
	t.Helper()
	tx, err := db.SQL().BeginTx(context.Background(), nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	cols, key, err = db.inspect(context.Background(), tx, table)
	require.NoError(t, err)
	return cols, key
}

func columnNames(cols []existingColumn) []string {
	var out []string
	for _, c := range cols {
		out = append(out, c.name)
	}
	return out
}

// seq returns caseRecord(from) … caseRecord(to-1).
func seq(from, to int) []mapping.Record {
	var out []mapping.Record
	for i := from; i < to; i++ {
		out = append(out, caseRecord(i))
	}
	return out
}
