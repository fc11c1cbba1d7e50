package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// server is a throwaway cluster started by this package.
type server struct {
	bin  string              // directory holding initdb and pg_ctl
	dir  string              // temp dir: data/, the socket, the log
	cred *syscall.Credential // run as this user (nil: as ourselves)
	dsn  string              // admin DSN (database "postgres")
}

// findBinaries returns the directory holding initdb and pg_ctl.
func findBinaries() (string, error) {
	initdb, err1 := exec.LookPath("initdb")
	pgctl, err2 := exec.LookPath("pg_ctl")
	if err1 == nil && err2 == nil {
		if filepath.Dir(initdb) == filepath.Dir(pgctl) {
			return filepath.Dir(initdb), nil
		}
		return "", nil // both on PATH, in different places: run them by name
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL binaries initdb and pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin")
}

// versionOf extracts N from /usr/lib/postgresql/N/bin.
func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// command builds an exec.Cmd for a PostgreSQL tool, resolved in bin when
// bin is set (else on PATH), running with cred when set.
func (s *server) command(tool string, args ...string) *exec.Cmd {
	path := tool
	if s.bin != "" {
		path = filepath.Join(s.bin, tool)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// run runs cmd and wraps its combined output into the error on failure.
func run(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// startCluster runs initdb and pg_ctl start in a fresh temp dir.
func startCluster() (*server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin}
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New(`running as root and no "postgres" user to run initdb as`)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// A short path keeps the socket path under the 107-byte limit.
	s.dir, err = os.MkdirTemp("/tmp", "pgtest-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*server, error) {
		_ = os.RemoveAll(s.dir)
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(s.dir, "data")
	if err := run(s.command("initdb", "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")); err != nil {
		return fail(err)
	}
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -c fsync=off "+
		"-c full_page_writes=off -c synchronous_commit=off -c max_connections=200 -c port=5432", s.dir)
	if err := run(s.command("pg_ctl", "start", "-w", "-t", "60", "-D", data,
		"-l", filepath.Join(s.dir, "log"), "-o", opts)); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fail(fmt.Errorf("%w; server log: %s", err, strings.TrimSpace(string(log))))
	}
	s.dsn = "postgres://postgres@/postgres?host=" + url.QueryEscape(s.dir) + "&sslmode=disable"
	return s, nil
}

// stop stops the server immediately (the data is thrown away) and removes
// its directory.
func (s *server) stop() error {
	err := run(s.command("pg_ctl", "stop", "-w", "-m", "immediate", "-D", filepath.Join(s.dir, "data")))
	if rmErr := os.RemoveAll(s.dir); err == nil {
		err = rmErr
	}
	return err
}
