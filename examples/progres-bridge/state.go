package main

import (
	"context"
	"fmt"

	"github.com/casebridge/casebridge/sqlsink"
)

// openState opens the state store named by dsn: a SQLite file (created
// when missing) or PostgreSQL. It holds identifiers only: cursors,
// processed keys, links between the systems' ids, run locks and the audit
// trails.
func openState(ctx context.Context, dsn string) (*sqlsink.DB, *sqlsink.DBState, error) {
	db, err := sqlsink.Open(ctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("-db: %w", err)
	}
	st, err := sqlsink.NewDBState(db)
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("-db: state store: %w", err)
	}
	return db, st, nil
}
