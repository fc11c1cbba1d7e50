package sqlsink

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Query runs a query (placeholders $1, $2… on PostgreSQL, ? on SQLite) and
// yields each row as a mapping.Record keyed by column name. Rows are read
// one at a time; breaking out of the loop ends the query. An error is
// yielded once, and ends the sequence. Two result columns with the same
// name are an error: alias one of them.
//
// Values come back as Go types, the same on both dialects for the columns
// [DB.EnsureTable] declares:
//
//	NULL                              nil
//	integers                          int64
//	real, double precision            float64
//	numeric, decimal (and SUM, AVG    float64 (exact decimals beyond float64's
//	  of integers on PostgreSQL)        precision: cast to text in SQL)
//	text, varchar                     string
//	boolean                           bool
//	date, timestamp, timestamptz      time.Time (UTC; a date at midnight)
//	json, jsonb                       the decoded value (map[string]any,
//	                                    []any, string, float64, bool)
//	bytea, BLOB                       []byte
//
// On SQLite the types follow the declared column type; an expression
// (SUM, COUNT, a || b) has none, so it comes back as SQLite computed it:
// int64, float64, string or []byte (dates as their text). Cast in SQL or
// convert in Go where a report needs one type on both dialects. Other
// PostgreSQL types come back as pgx decodes them (uuid as a string).
func (db *DB) Query(ctx context.Context, query string, args ...any) iter.Seq2[mapping.Record, error] {
	if db.dialect == Postgres {
		return db.queryPostgres(ctx, query, args)
	}
	return db.querySQLite(ctx, query, args)
}

func queryErr(err error) error {
	return fmt.Errorf("sqlsink: query: %w", safeError(err))
}

func (db *DB) queryPostgres(ctx context.Context, query string, args []any) iter.Seq2[mapping.Record, error] {
	return func(yield func(mapping.Record, error) bool) {
		// Describe each time rather than cache the statement: a cached
		// "SELECT *" fails once EnsureTable has added a column.
		rows, err := db.pool.Query(ctx, query, append([]any{pgx.QueryExecModeDescribeExec}, args...)...)
		if err != nil {
			yield(nil, queryErr(err))
			return
		}
		defer rows.Close()
		fields := rows.FieldDescriptions()
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name
		}
		if err := checkDuplicateNames(names); err != nil {
			yield(nil, err)
			return
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				yield(nil, queryErr(err))
				return
			}
			rec := make(mapping.Record, len(vals))
			for i, v := range vals {
				rec[names[i]] = pgValue(v)
			}
			if !yield(rec, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, queryErr(err))
		}
	}
}

// pgValue normalizes a value as pgx decodes it.
func pgValue(v any) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case pgtype.Numeric:
		if !x.Valid {
			return nil
		}
		f, err := x.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return f.Float64
	case time.Time:
		return x.UTC()
	case [16]byte: // uuid
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	}
	return v
}

func (db *DB) querySQLite(ctx context.Context, query string, args []any) iter.Seq2[mapping.Record, error] {
	return func(yield func(mapping.Record, error) bool) {
		rows, err := db.sql.QueryContext(ctx, query, args...)
		if err != nil {
			yield(nil, queryErr(err))
			return
		}
		defer func() { _ = rows.Close() }()
		types, err := rows.ColumnTypes()
		if err != nil {
			yield(nil, queryErr(err))
			return
		}
		names := make([]string, len(types))
		decl := make([]string, len(types))
		for i, ct := range types {
			names[i] = ct.Name()
			decl[i] = strings.ToUpper(ct.DatabaseTypeName())
		}
		if err := checkDuplicateNames(names); err != nil {
			yield(nil, err)
			return
		}
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				yield(nil, queryErr(err))
				return
			}
			rec := make(mapping.Record, len(vals))
			for i, v := range vals {
				rec[names[i]], err = sqliteValue(decl[i], v)
				if err != nil {
					yield(nil, fmt.Errorf("sqlsink: query: column %q: %w", names[i], err))
					return
				}
			}
			if !yield(rec, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, queryErr(err))
		}
	}
}

// sqliteValue normalizes a value as modernc.org/sqlite returns it, using
// the column's declared type (upper case; "" for an expression).
func sqliteValue(decl string, v any) (any, error) {
	switch x := v.(type) {
	case int64:
		switch decl {
		case "BOOLEAN", "BOOL":
			return x != 0, nil
		case "NUMERIC", "DECIMAL", "REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT":
			return float64(x), nil
		}
	case string:
		if strings.Contains(decl, "JSON") {
			var out any
			if err := json.Unmarshal([]byte(x), &out); err != nil {
				return nil, errors.New("stored JSON does not decode")
			}
			return out, nil
		}
	case time.Time:
		return x.UTC(), nil
	case sql.RawBytes:
		return []byte(x), nil
	}
	return v, nil
}

// checkDuplicateNames refuses result columns that would overwrite each
// other in a record.
func checkDuplicateNames(names []string) error {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			return fmt.Errorf("sqlsink: query: two result columns are named %q: alias one of them", n)
		}
		seen[n] = true
	}
	return nil
}
