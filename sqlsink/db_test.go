package sqlsink

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/internal/pgtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDialectString(t *testing.T) {
	assert.Equal(t, "sqlite", SQLite.String())
	assert.Equal(t, "postgres", Postgres.String())
	assert.Equal(t, "Dialect(9)", Dialect(9).String())
}

func TestQuoteIdent(t *testing.T) {
	assert.Equal(t, `"plain"`, quoteIdent("plain"))
	assert.Equal(t, `"a ""b"" c"`, quoteIdent(`a "b" c`))
}

func TestPlaceholder(t *testing.T) {
	assert.Equal(t, "?", (&DB{dialect: SQLite}).placeholder(3))
	assert.Equal(t, "$3", (&DB{dialect: Postgres}).placeholder(3))
}

// Open picks the dialect from the DSN and the connection works.
func TestOpenDialects(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *DB) {
		var one int
		require.NoError(t, db.SQL().QueryRowContext(context.Background(), "SELECT 1").Scan(&one))
		assert.Equal(t, 1, one)
	})
	assert.Equal(t, SQLite, testSQLite(t).Dialect())
}

// An in-memory database is one database across the pool's connections, and
// two in-memory DBs are distinct.
func TestOpenSQLiteMemorySharedAcrossConnections(t *testing.T) {
	ctx := context.Background()
	db := testSQLite(t)
	other := testSQLite(t)
	_, err := db.SQL().ExecContext(ctx, `CREATE TABLE t (x INTEGER)`)
	require.NoError(t, err)

	// Hold two connections at once: both must see the table.
	c1, err := db.SQL().Conn(ctx)
	require.NoError(t, err)
	defer func() { _ = c1.Close() }()
	c2, err := db.SQL().Conn(ctx)
	require.NoError(t, err)
	defer func() { _ = c2.Close() }()
	_, err = c1.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
	require.NoError(t, err)
	var n int
	require.NoError(t, c2.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n))
	assert.Equal(t, 1, n)

	_, err = other.SQL().ExecContext(ctx, `SELECT count(*) FROM t`)
	assert.Error(t, err, "a second in-memory DB must not see the first one's tables")
}

// Every SQLite DSN form opens the same file; data written through one is
// read through another.
func TestOpenSQLiteFileForms(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with space", "cb.db")
	require.NoError(t, mkdirAll(filepath.Dir(path)))

	first, err := Open(ctx, path)
	require.NoError(t, err)
	_, err = first.SQL().ExecContext(ctx, `CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (42)`)
	require.NoError(t, err)
	require.NoError(t, first.Close())

	for _, dsn := range []string{"sqlite:" + path, "sqlite://" + path, "file:" + path} {
		db, err := Open(ctx, dsn)
		require.NoError(t, err, dsn)
		var x int
		require.NoError(t, db.SQL().QueryRowContext(ctx, `SELECT x FROM t`).Scan(&x), dsn)
		assert.Equal(t, 42, x, dsn)
		var mode string
		require.NoError(t, db.SQL().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode))
		assert.Equal(t, "wal", mode, dsn)
		var fk int
		require.NoError(t, db.SQL().QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk))
		assert.Equal(t, 1, fk, dsn)
		require.NoError(t, db.Close())
	}
}

func TestOpenErrorsHideDSN(t *testing.T) {
	_, err := Open(context.Background(), "postgres://user:s3cret@127.0.0.1:1/db?connect_timeout=1")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")

	_, err = Open(context.Background(), "sqlite:")
	assert.Error(t, err)
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// Open recognises what it is given: a libpq keyword DSN and a
// postgresql:// URL are PostgreSQL, an unknown scheme is an error, and
// none of them is ever opened as a SQLite file of that name.
func TestOpenRecognisesDSNForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	for _, dsn := range []string{
		"host=127.0.0.1 port=1 user=u password=s3cret dbname=x connect_timeout=1",
		"postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=1",
		"mysql://u:s3cret@127.0.0.1:1/x",
		"sqlserver://127.0.0.1:1",
	} {
		db, err := Open(ctx, dsn)
		if !assert.Error(t, err, dsn) {
			_ = db.Close()
			continue
		}
		assert.NotContains(t, err.Error(), "s3cret", dsn)
		assert.NotContains(t, err.Error(), "SQLite", dsn)
	}
	_, err := Open(ctx, "mysql://u@h/x")
	assert.ErrorContains(t, err, `"mysql"`)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no SQLite file was created")

	// The keyword form really reaches PostgreSQL.
	u, err := url.Parse(pgtest.DSN(t))
	require.NoError(t, err)
	kw := "host=" + u.Query().Get("host") + " user=postgres dbname=" + strings.TrimPrefix(u.Path, "/") + " sslmode=disable"
	db, err := Open(ctx, kw)
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	assert.Equal(t, Postgres, db.Dialect())
}

// A SQLite file that cannot be opened is reported with its path and why.
func TestOpenSQLiteErrorNamesPathAndCause(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "cb.db")
	_, err := Open(context.Background(), path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "no-such-dir")
	assert.Regexp(t, "directory|unable to open|no such", err.Error())
}

// Location says where the database is, for a person, and never carries
// a password.
func TestLocationNamesTheDatabaseWithoutSecrets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	db, err := Open(ctx, "sqlite:state.db")
	require.NoError(t, err)
	assert.Equal(t, "SQLite file "+filepath.Join(dir, "state.db"), db.Location(), "a relative path is made absolute")
	require.NoError(t, db.Close())

	mem, err := Open(ctx, ":memory:")
	require.NoError(t, err)
	assert.Equal(t, "an in-memory SQLite database", mem.Location())
	require.NoError(t, mem.Close())

	u, err := url.Parse(pgtest.DSN(t))
	require.NoError(t, err)
	u.User = url.UserPassword("postgres", "s3cret") // the socket trusts the user; the password is ignored
	pg, err := Open(ctx, u.String())
	require.NoError(t, err)
	defer func() { _ = pg.Close() }()
	loc := pg.Location()
	assert.Contains(t, loc, "PostgreSQL database "+strings.TrimPrefix(u.Path, "/"))
	assert.NotContains(t, loc, "s3cret")
	assert.NotContains(t, loc, "postgres:")
}
