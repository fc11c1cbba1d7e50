package pgtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// Each DSN call reaches a server and names a database of its own, empty,
// and isolated from the other.
func TestDSNGivesDistinctEmptyDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := connect(t, DSN(t)), connect(t, DSN(t))

	var nameA, nameB string
	require.NoError(t, a.QueryRow(ctx, "SELECT current_database()").Scan(&nameA))
	require.NoError(t, b.QueryRow(ctx, "SELECT current_database()").Scan(&nameB))
	assert.NotEqual(t, nameA, nameB)

	countTables := func(c *pgx.Conn) int {
		var n int
		require.NoError(t, c.QueryRow(ctx,
			"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&n))
		return n
	}
	assert.Zero(t, countTables(a), "a new database has no tables")
	assert.Zero(t, countTables(b), "a new database has no tables")

	_, err := a.Exec(ctx, "CREATE TABLE only_in_a (id int)")
	require.NoError(t, err)
	assert.Equal(t, 1, countTables(a))
	assert.Zero(t, countTables(b), "a table made in one database is not visible in the other")
}

// The database a test got is dropped when the test ends.
func TestDSNDropsDatabaseAfterTest(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		c := connect(t, DSN(t))
		require.NoError(t, c.QueryRow(context.Background(), "SELECT current_database()").Scan(&name))
		require.NoError(t, c.Close(context.Background()))
	})
	if name == "" {
		t.Skip("inner test skipped: no PostgreSQL")
	}
	admin, err := ensureServer()
	require.NoError(t, err)
	c := connect(t, admin)
	var exists bool
	require.NoError(t, c.QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	assert.False(t, exists, "database %s should be dropped after its test", name)
}

// recorder captures Skip/Fatal instead of ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

// Without PostgreSQL a test is skipped with the reason, unless
// CASEBRIDGE_REQUIRE_POSTGRES=1 makes it a failure.
func TestUnavailableSkipsOrFails(t *testing.T) {
	why := errors.New("PostgreSQL binaries initdb and pg_ctl not found")

	r := &recorder{TB: t}
	unavailable(r, "", why)
	assert.Empty(t, r.failed)
	assert.Contains(t, r.skipped, "initdb and pg_ctl not found")
	assert.Contains(t, r.skipped, EnvDSN)

	r = &recorder{TB: t}
	unavailable(r, "1", why)
	assert.Empty(t, r.skipped)
	assert.Contains(t, r.failed, "initdb and pg_ctl not found")
	assert.Contains(t, r.failed, EnvRequire)
}

func TestWithDatabase(t *testing.T) {
	got, err := withDatabase("postgres://u:p@h:5/postgres?sslmode=disable", "casebridge_test_1_2")
	require.NoError(t, err)
	assert.Equal(t, "postgres://u:p@h:5/casebridge_test_1_2?sslmode=disable", got)

	got, err = withDatabase("postgres://postgres@/postgres?host=%2Ftmp%2Fpgtest-1", "db")
	require.NoError(t, err)
	assert.Equal(t, "postgres://postgres@/db?host=%2Ftmp%2Fpgtest-1", got)
}

// Main's summary line says how many tests were skipped and why, and is
// absent when none was.
func TestSkipSummary(t *testing.T) {
	assert.Empty(t, skipSummary(0, errors.New("x")))
	line := skipSummary(3, errors.New("initdb not found"))
	assert.Contains(t, line, "3 PostgreSQL test(s) SKIPPED")
	assert.Contains(t, line, "initdb not found")
	assert.Contains(t, line, EnvRequire+"=1")
	assert.True(t, strings.HasSuffix(line, "\n"))
}
