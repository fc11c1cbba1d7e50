package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/casebridge/casebridge/sqlsink"
)

// staleBatch bounds the bind parameters of one DELETE on SQLite.
const staleBatch = 500

// deleteStale deletes the service rows of the given cases that were not
// written from the case's current version.
func (s *syncer) deleteStale(ctx context.Context, keys []string) (int64, error) {
	if s.db.Dialect() == sqlsink.Postgres {
		// One statement per chunk, the keys as one array parameter,
		// planned for its keys each time (QueryExecModeExec): a cached
		// statement turns, after five runs, into a generic plan that
		// cannot see how few keys the array holds and scans both tables,
		// which made every chunk's delete cost grow with the tables.
		return s.execRows(ctx, `DELETE FROM services s USING cases c`+
			` WHERE s.source = $1 AND s.case_key = ANY($2) AND c.source = s.source`+
			` AND c.case_key = s.case_key AND s.case_updated_at <> c.primero_updated_at`,
			pgx.QueryExecModeExec, s.source, keys)
	}
	var removed int64
	for len(keys) > 0 {
		part := keys[:min(len(keys), staleBatch)]
		keys = keys[len(part):]
		args := make([]any, 0, len(part)+1)
		args = append(args, s.source)
		for _, k := range part {
			args = append(args, k)
		}
		n, err := s.execRows(ctx, `DELETE FROM services WHERE source = ?`+
			` AND case_key IN (?`+strings.Repeat(", ?", len(part)-1)+`)`+
			` AND case_updated_at <> (SELECT c.primero_updated_at FROM cases c`+
			` WHERE c.source = services.source AND c.case_key = services.case_key)`, args...)
		removed += n
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// execRows runs a statement and returns the number of rows it changed.
func (s *syncer) execRows(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.db.SQL().ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("deleting stale services: %w", err)
	}
	return res.RowsAffected()
}
