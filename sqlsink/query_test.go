package sqlsink

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// typesTable has one column of each portable type.
func typesTable() Table {
	return Table{
		Name: "types",
		Columns: []Column{
			{Name: "id", Type: Text},
			{Name: "i", Type: Integer},
			{Name: "f", Type: Float},
			{Name: "n", Type: Numeric},
			{Name: "b", Type: Bool},
			{Name: "d", Type: Date},
			{Name: "ts", Type: Timestamp},
			{Name: "j", Type: JSON},
			{Name: "u", Type: UUID},
			{Name: "a", Type: TextArray},
		},
		Key: []string{"id"},
	}
}

func typesRecords() []mapping.Record {
	phnomPenh := time.FixedZone("ICT", 7*3600)
	return []mapping.Record{
		{
			"id": "t-1", "i": 42, "f": 2.5, "n": "12.50", "b": true, "d": "2024-02-29",
			"ts": "2024-03-01T10:11:12.123456789+02:00", "j": map[string]any{"a": []any{1, "x"}},
			"u": "{0B7C5A4E-2F1D-4C3B-9A8E-1D2C3B4A5F60}", "a": []string{"x", "", "ü"},
		},
		{"id": "t-2", "i": nil, "f": nil, "n": nil, "b": nil, "d": nil, "ts": nil, "j": nil, "u": nil, "a": nil},
		{
			"id": "t-3", "i": json.Number("-7"), "f": float32(0.5), "n": 0.25, "b": "f",
			"d":  time.Date(2024, 5, 31, 23, 30, 0, 0, phnomPenh), // the date as written
			"ts": time.Date(2024, 5, 31, 23, 30, 0, 0, phnomPenh), "j": "plain",
			"u": [16]byte{15: 1}, "a": []any{},
		},
	}
}

func typesWant() []mapping.Record {
	return []mapping.Record{
		{
			"id": "t-1", "i": int64(42), "f": 2.5, "n": 12.5, "b": true,
			"d":  time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
			"ts": time.Date(2024, 3, 1, 8, 11, 12, 123456000, time.UTC),
			"j":  map[string]any{"a": []any{1.0, "x"}},
			"u":  "0b7c5a4e-2f1d-4c3b-9a8e-1d2c3b4a5f60", "a": []any{"x", "", "ü"},
		},
		{"id": "t-2", "i": nil, "f": nil, "n": nil, "b": nil, "d": nil, "ts": nil, "j": nil, "u": nil, "a": nil},
		{
			"id": "t-3", "i": int64(-7), "f": 0.5, "n": 0.25, "b": false,
			"d":  time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC),
			"ts": time.Date(2024, 5, 31, 16, 30, 0, 0, time.UTC), "j": "plain",
			"u": "00000000-0000-0000-0000-000000000001", "a": []any{},
		},
	}
}

// Query yields Go types the same way on both dialects, NULL as nil, and
// aggregates usable in reports.
func TestQueryTypes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := typesTable()
		ensure(t, db, tbl)
		upsert(t, db, tbl, typesRecords())

		// Parameters: $1 on PostgreSQL, ? on SQLite.
		rows := queryAll(t, db, "SELECT * FROM types WHERE id = "+db.placeholder(1), "t-1")
		require.Len(t, rows, 1)
		assert.Equal(t, typesWant()[0], rows[0])
		for k, v := range rows[0] {
			assert.NotNil(t, v, k)
		}

		agg := queryAll(t, db, `SELECT count(*) AS n_rows, count(i) AS n_i, min(d) AS first FROM types`)
		require.Len(t, agg, 1)
		assert.Equal(t, int64(3), agg[0]["n_rows"])
		assert.Equal(t, int64(2), agg[0]["n_i"])
		if db.Dialect() == Postgres {
			assert.Equal(t, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), agg[0]["first"])
			sum := queryAll(t, db, `SELECT sum(i) AS s FROM types`)
			assert.Equal(t, 35.0, sum[0]["s"], "numeric aggregates come back as float64")
		} else {
			assert.Equal(t, "2024-02-29", agg[0]["first"], "SQLite expressions keep the stored text")
		}
	})
}

// Breaking out of the loop ends the query cleanly; the connection is
// usable afterwards.
func TestQueryBreak(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		tbl := casesTable()
		ensure(t, db, tbl)
		upsert(t, db, tbl, seq(0, 50))
		n := 0
		for _, err := range db.Query(context.Background(), "SELECT * FROM cases") {
			require.NoError(t, err)
			n++
			if n == 3 {
				break
			}
		}
		assert.Equal(t, 3, n)
		assert.Len(t, dump(t, db, tbl), 50)
	})
}

// Errors are yielded once and end the sequence.
func TestQueryErrors(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		count := 0
		for rec, err := range db.Query(context.Background(), "SELECT * FROM no_such_table") {
			count++
			assert.Nil(t, rec)
			assert.ErrorContains(t, err, "sqlsink: query")
		}
		assert.Equal(t, 1, count)

		count = 0
		for _, err := range db.Query(context.Background(), "SELECT 1 AS a, 2 AS a") {
			count++
			assert.ErrorContains(t, err, `two result columns are named "a"`)
		}
		assert.Equal(t, 1, count)
	})
}

// A PostgreSQL error that quotes the offending value ("invalid input
// syntax for type integer: …") is reported without it.
func TestQueryErrorHidesValue(t *testing.T) {
	db := testPostgres(t)
	for _, err := range db.Query(context.Background(), "SELECT $1::text::integer AS x", "Test Secret 42x") {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "Test Secret")
		assert.Contains(t, err.Error(), "22P02")
	}
}

func ExampleDB_Query() {
	ctx := context.Background()
	db, err := Open(ctx, ":memory:") // or "postgres://…"
	if err != nil {
		panic(err)
	}
	defer func() { _ = db.Close() }()
	tbl := Table{
		Name: "referrals",
		Columns: []Column{
			{Name: "id", Type: Text},
			{Name: "service", Type: Text},
			{Name: "received", Type: Date},
		},
		Key: []string{"id"},
	}
	if _, err := db.EnsureTable(ctx, tbl); err != nil {
		panic(err)
	}
	if _, err := db.Upsert(ctx, tbl, records(
		mapping.Record{"id": "ref-1", "service": "health", "received": "2024-05-02"},
		mapping.Record{"id": "ref-2", "service": "education", "received": "2024-05-03"},
		mapping.Record{"id": "ref-3", "service": "health", "received": "2024-06-01"},
	)); err != nil {
		panic(err)
	}
	for row, err := range db.Query(ctx,
		`SELECT service, count(*) AS n FROM referrals WHERE received < ? GROUP BY service ORDER BY service`,
		"2024-06-01") {
		if err != nil {
			panic(err)
		}
		fmt.Println(row["service"], row["n"])
	}
	// Output:
	// education 1
	// health 1
}
