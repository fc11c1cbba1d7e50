package sqlsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect is the SQL database a [DB] talks to.
type Dialect int

// The supported dialects.
const (
	// SQLite is the embedded default (modernc.org/sqlite, pure Go).
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL through jackc/pgx v5.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// sqliteBusyTimeoutMS is how long a SQLite connection waits for a lock
// held by another connection before failing with SQLITE_BUSY.
const sqliteBusyTimeoutMS = 10000

// memCounter names in-memory SQLite databases uniquely within the process.
var memCounter atomic.Int64

// DB is a connection pool to PostgreSQL or SQLite. It is safe for
// concurrent use. Close it when done.
type DB struct {
	dialect Dialect
	pool    *pgxpool.Pool // Postgres only
	sql     *sql.DB       // both dialects
	pin     *sql.Conn     // in-memory SQLite: keeps the database alive
	where   string        // Location's answer, without any password

	// copied holds, per table name (PostgreSQL) this DB has committed rows
	// to, whether the last upsert into it COPYed every batch straight in:
	// its keys were all new, as the next ones of a load written chunk by
	// chunk likely are too (see newPGWriter). A hint only: a key that
	// exists turns the COPY back into a merge.
	copied sync.Map
}

// Open connects to the database named by dsn, and checks that it answers.
//
//   - "postgres://…" or "postgresql://…": PostgreSQL through a pgx pool
//     (any pgx connection parameter may be given in the URL).
//   - a libpq keyword/value string ("host=db port=5432 dbname=x …"):
//     PostgreSQL too.
//   - ":memory:" or "sqlite::memory:": a new in-memory SQLite database,
//     private to this DB and gone when it is closed.
//   - "sqlite:PATH", "sqlite://PATH", "file:PATH" or a plain file path:
//     a SQLite database file, created if missing. A query string is passed
//     to the driver (e.g. "file:x.db?mode=ro").
//
// SQLite connections wait up to 10 seconds on a lock held by another
// connection, enforce foreign keys, and use write-ahead logging for files;
// transactions begin IMMEDIATE so that two writers queue rather than fail.
// Any other "scheme://" (mysql://, sqlserver://) is an error, never a
// SQLite file of that name. Errors never repeat a PostgreSQL DSN, which may
// hold a password; SQLite errors name the file and the cause.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch dialect, err := dsnDialect(dsn); {
	case err != nil:
		return nil, err
	case dialect == Postgres:
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// urlScheme matches the "scheme://" that starts a URL.
var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// libpqKeyword matches the first "keyword=" of a libpq connection string.
var libpqKeyword = regexp.MustCompile(`^\s*(host|hostaddr|port|dbname|user|password|passfile|sslmode|sslrootcert|sslcert|sslkey|connect_timeout|application_name|options|service|target_session_attrs|channel_binding)\s*=`)

// dsnDialect tells which database a DSN names.
func dsnDialect(dsn string) (Dialect, error) {
	if m := urlScheme.FindStringSubmatch(dsn); m != nil {
		switch strings.ToLower(m[1]) {
		case "postgres", "postgresql":
			return Postgres, nil
		case "sqlite", "file":
			return SQLite, nil
		}
		return 0, fmt.Errorf("sqlsink: unsupported DSN scheme %q: want postgres://, postgresql://, "+
			"a libpq keyword string, sqlite:PATH, file:PATH or a file path", m[1])
	}
	if libpqKeyword.MatchString(dsn) {
		return Postgres, nil
	}
	return SQLite, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("sqlsink: invalid PostgreSQL DSN")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlsink: open PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlsink: connect to PostgreSQL: %w", err)
	}
	where := fmt.Sprintf("PostgreSQL database %s on %s:%d", cfg.ConnConfig.Database, cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	return &DB{dialect: Postgres, pool: pool, sql: stdlib.OpenDBFromPool(pool), where: where}, nil
}

func openSQLite(ctx context.Context, dsn string) (*DB, error) {
	driverDSN, path, memory, err := sqliteDSN(dsn)
	if err != nil {
		return nil, err
	}
	sdb, err := sql.Open("sqlite", driverDSN)
	if err != nil {
		return nil, sqliteOpenError(path, err)
	}
	db := &DB{dialect: SQLite, sql: sdb, where: "an in-memory SQLite database"}
	if !memory {
		if abs, absErr := filepath.Abs(path); absErr == nil {
			path = abs
		}
		db.where = "SQLite file " + path
	}
	if memory {
		// An in-memory database lives as long as one connection to it is
		// open; pin one so the pool may close the others freely.
		db.pin, err = sdb.Conn(ctx)
	} else {
		err = sdb.PingContext(ctx)
	}
	if err != nil {
		_ = sdb.Close()
		return nil, sqliteOpenError(path, err)
	}
	return db, nil
}

// Location says where the database is, for a person: "SQLite file
// /abs/path.db", "an in-memory SQLite database" or "PostgreSQL database
// NAME on HOST:PORT". It never holds a password or any other connection
// parameter.
func (db *DB) Location() string { return db.where }

// sqliteOpenError names the file and why it could not be opened: the
// driver says only "unable to open database file", so a missing or
// unusable directory is looked at here.
func sqliteOpenError(path string, err error) error {
	if path != "" {
		dir := filepath.Dir(path)
		if fi, statErr := os.Stat(dir); statErr != nil {
			return fmt.Errorf("sqlsink: open SQLite database %q: directory %q: %w", path, dir, statErr)
		} else if !fi.IsDir() {
			return fmt.Errorf("sqlsink: open SQLite database %q: %q is not a directory", path, dir)
		}
	}
	return fmt.Errorf("sqlsink: open SQLite database %q: %w", path, err)
}

// sqliteDSN turns a user DSN into the modernc.org/sqlite driver's, and says
// which file it names ("" for an in-memory database, then memory is true).
func sqliteDSN(dsn string) (driverDSN, file string, memory bool, err error) {
	rest := dsn
	switch {
	case strings.HasPrefix(rest, "sqlite://"):
		rest = strings.TrimPrefix(rest, "sqlite://")
	case strings.HasPrefix(rest, "sqlite:"):
		rest = strings.TrimPrefix(rest, "sqlite:")
	case strings.HasPrefix(rest, "file:"):
		rest = strings.TrimPrefix(rest, "file:")
	}
	path, query, _ := strings.Cut(rest, "?")
	params := []string{
		"_pragma=busy_timeout(" + strconv.Itoa(sqliteBusyTimeoutMS) + ")",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}
	switch path {
	case "":
		return "", "", false, errors.New("sqlsink: empty SQLite path in DSN")
	case ":memory:":
		// The memdb VFS shares one database among the pool's connections
		// when its name starts with "/"; the counter keeps it private.
		name := fmt.Sprintf("/casebridge-mem-%d", memCounter.Add(1))
		params = append([]string{"vfs=memdb"}, params...)
		memory = true
		path = name
	default:
		params = append(params, "_pragma=journal_mode(WAL)")
		file = path
		path = (&url.URL{Path: path}).EscapedPath()
	}
	if query != "" {
		params = append([]string{query}, params...)
	}
	return "file:" + path + "?" + strings.Join(params, "&"), file, memory, nil
}

// Dialect reports which database db talks to.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL returns the database/sql handle, for either dialect. Statements on it
// use the dialect's placeholders ($1 for PostgreSQL, ? for SQLite).
func (db *DB) SQL() *sql.DB { return db.sql }

// Close closes every connection. It is safe to call once.
func (db *DB) Close() error {
	var errs []error
	if db.pin != nil {
		errs = append(errs, db.pin.Close())
	}
	errs = append(errs, db.sql.Close())
	if db.pool != nil {
		db.pool.Close()
	}
	return errors.Join(errs...)
}

// quoteIdent quotes an SQL identifier for both dialects: double quotes
// around it, embedded double quotes doubled.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// placeholder returns the n-th (1-based) bind parameter marker.
func (db *DB) placeholder(n int) string {
	if db.dialect == Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}
