package sqlsink

import (
	"context"
	"testing"

	"github.com/casebridge/casebridge/internal/pgtest"
	"github.com/stretchr/testify/require"
)

// TestMain stops the throwaway PostgreSQL cluster after the package's tests.
// It is the package's only TestMain (internal and external tests share it).
func TestMain(m *testing.M) { pgtest.Main(m) }

// testSQLite opens a private in-memory SQLite database closed after t.
func testSQLite(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// testPostgres opens a fresh PostgreSQL database of t's own (skipping t
// when no PostgreSQL is available, see internal/pgtest).
func testPostgres(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.DSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// forEachDialect runs fn as two subtests, "sqlite" and "postgres", each on
// a fresh, empty database.
func forEachDialect(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, testSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, testPostgres(t)) })
}
