package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables read by this package.
const (
	// EnvDSN names an existing server to use instead of a throwaway cluster.
	EnvDSN = "CASEBRIDGE_TEST_POSTGRES_DSN"
	// EnvRequire, when "1", turns "no PostgreSQL found" from a skip into a
	// test failure.
	EnvRequire = "CASEBRIDGE_REQUIRE_POSTGRES"
)

var (
	mu         sync.Mutex
	started    bool    // a start was attempted (successfully or not)
	running    *server // the cluster, nil when none was started
	adminDSN   string  // DSN of the maintenance database ("postgres")
	startErr   error   // why no server is available
	dbCounter  atomic.Int64
	mainCalled atomic.Bool
	skipped    atomic.Int64 // tests DSN skipped for want of a server
)

// DSN returns a postgres:// connection string for a new, empty database
// that only the calling test uses; the database is dropped when the test
// ends. It skips the test (or fails it when CASEBRIDGE_REQUIRE_POSTGRES=1)
// if no PostgreSQL server can be found or started.
func DSN(t testing.TB) string {
	t.Helper()
	admin, err := ensureServer()
	if err != nil {
		if os.Getenv(EnvRequire) != "1" {
			skipped.Add(1)
		}
		unavailable(t, os.Getenv(EnvRequire), err)
		return ""
	}
	name := fmt.Sprintf("casebridge_test_%d_%d", os.Getpid(), dbCounter.Add(1))
	if err := adminExec(admin, "CREATE DATABASE "+quote(name)); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// WITH (FORCE) ends sessions a test forgot to close (PostgreSQL 13+).
		err := adminExec(admin, "DROP DATABASE IF EXISTS "+quote(name)+" WITH (FORCE)")
		if err != nil {
			err = adminExec(admin, "DROP DATABASE IF EXISTS "+quote(name))
		}
		if err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// Main runs the package's tests and then stops the throwaway cluster (if one
// was started) before exiting with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if line := skipSummary(skipped.Load(), startErr); line != "" {
		notice(line)
	}
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stop cluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// skipSummary is the line Main prints when n tests were skipped because no
// PostgreSQL was available ("" when none was).
func skipSummary(n int64, why error) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("pgtest: %d PostgreSQL test(s) SKIPPED, PostgreSQL unavailable: %v "+
		"(set %s to use a running server; %s=1 makes this a failure)\n", n, why, EnvDSN, EnvRequire)
}

// notice writes line to stderr. In package list mode (go test ./...) the go
// command shows a passing package's output only with -v, so the line is
// also written to the terminal, when there is one and stderr is not it.
func notice(line string) {
	fmt.Fprint(os.Stderr, line)
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return // stderr is the terminal already
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return // no terminal (CI): stderr is all there is
	}
	defer func() { _ = tty.Close() }()
	_, _ = fmt.Fprint(tty, line)
}

// unavailable skips t, or fails it when require is "1", explaining why no
// PostgreSQL is available.
func unavailable(t testing.TB, require string, why error) {
	t.Helper()
	if require == "1" {
		t.Fatalf("pgtest: PostgreSQL required (%s=1) but unavailable: %v", EnvRequire, why)
		return
	}
	t.Skipf("pgtest: skipping, PostgreSQL unavailable: %v (set %s to use a running server)", why, EnvDSN)
}

// ensureServer returns the admin DSN, starting the cluster on first use.
func ensureServer() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if started {
		return adminDSN, startErr
	}
	started = true
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
			startErr = fmt.Errorf("%s must be a postgres:// URL", EnvDSN)
			return "", startErr
		}
		adminDSN = dsn
		if err := adminExec(dsn, "SELECT 1"); err != nil {
			startErr = fmt.Errorf("server named by %s not reachable: %w", EnvDSN, err)
		}
		return adminDSN, startErr
	}
	if !mainCalled.Load() {
		startErr = errors.New("pgtest.Main was not called from TestMain, so a cluster would never be stopped")
		return "", startErr
	}
	srv, err := startCluster()
	if err != nil {
		startErr = err
		return "", err
	}
	running = srv
	adminDSN = srv.dsn
	return adminDSN, nil
}

// stop stops the cluster if one runs.
func stop() error {
	mu.Lock()
	defer mu.Unlock()
	if running == nil {
		return nil
	}
	err := running.stop()
	running = nil
	return err
}

// adminExec runs one statement on a short-lived connection to dsn.
func adminExec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns dsn with its database name replaced by name.
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", errors.New("admin DSN is not a valid URL")
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// quote quotes a PostgreSQL identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
