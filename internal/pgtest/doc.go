// Package pgtest gives tests a real, throwaway PostgreSQL database.
//
// [DSN] returns the connection string of a fresh, empty database that
// belongs to the calling test alone and is dropped when it ends. The
// databases live on one cluster per test binary, started lazily from the
// machine's PostgreSQL binaries the first time a test asks for one:
//
//   - initdb and pg_ctl are looked up on PATH, then in
//     /usr/lib/postgresql/*/bin (highest version first);
//   - when the process runs as root (initdb refuses root) the cluster is
//     created and run as the "postgres" user;
//   - durability is switched off (fsync, full_page_writes,
//     synchronous_commit) because the data is thrown away, TCP is off
//     (listen_addresses=”), and the unix socket sits in a temporary
//     directory that is removed when the cluster stops.
//
// When CASEBRIDGE_TEST_POSTGRES_DSN is set (a postgres:// URL of a role that
// may CREATE DATABASE), no cluster is started: each test gets its own
// database on that server instead.
//
// If no PostgreSQL can be found, DSN skips the test with a message naming
// what is missing, unless CASEBRIDGE_REQUIRE_POSTGRES=1 (set by .ci/run),
// which turns the skip into a failure. After the tests, [Main] prints one
// line saying how many tests were skipped and why, to stderr and, since
// "go test ./..." shows a passing package's output only with -v, to the
// terminal when there is one.
//
// A package that uses DSN must stop the cluster after its tests by calling
// [Main] from its TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest
