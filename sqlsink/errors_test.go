package sqlsink

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Server errors whose message may quote a value (data exceptions, and a
// COPY aborted by the client, which the server reports as 57014 quoting
// the client's reason) keep only their SQLSTATE and column; others pass
// through unchanged.
func TestSafeErrorHidesQuotingMessages(t *testing.T) {
	for _, code := range []string{"22P02", "22003", "57014"} {
		pg := &pgconn.PgError{Code: code, Message: `COPY from stdin failed: unable to encode "Test Child 1" into binary format for date`, ColumnName: "dob"}
		err := safeError(fmt.Errorf("batch 1: %w", pg))
		assert.NotContains(t, err.Error(), "Test Child 1", code)
		assert.Contains(t, err.Error(), code)
		assert.Contains(t, err.Error(), "dob")
		var got *pgconn.PgError
		require.True(t, errors.As(err, &got), "the PgError stays reachable")
	}
	other := &pgconn.PgError{Code: "23505", Message: "duplicate key value violates unique constraint"}
	assert.Equal(t, error(other), safeError(other))
}

func TestRowErrorText(t *testing.T) {
	e := &RowError{Table: "cases", Row: 3, Column: "age", Type: "Integer", Reason: "text is not an integer"}
	assert.Equal(t, `sqlsink: table "cases": row 3: column "age" (Integer): text is not an integer`, e.Error())
	e.Key = "case_id=c-7"
	assert.Equal(t, `sqlsink: table "cases": row 3 (case_id=c-7): column "age" (Integer): text is not an integer`, e.Error())
	assert.ErrorIs(t, e, ErrInvalidValue)
}
