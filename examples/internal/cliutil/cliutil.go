// Package cliutil holds what the example commands share: describing where
// their state is kept without repeating a password, and ordering counts
// for a report.
package cliutil

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
)

// DescribeState says where the state database named by dsn is, for a
// person: "PostgreSQL database NAME on HOST" or "SQLite file /abs/path",
// never with a user name or password. A DSN that is neither a postgres://
// URL nor a file path is described as a PostgreSQL connection string
// without repeating it (it may hold a password).
func DescribeState(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return fmt.Sprintf("PostgreSQL database %s on %s", strings.TrimPrefix(u.Path, "/"), u.Host)
	}
	if strings.Contains(dsn, "=") && !strings.HasPrefix(dsn, "sqlite:") && !strings.HasPrefix(dsn, "file:") {
		return "PostgreSQL database (from a connection string)"
	}
	return "SQLite file " + SQLitePath(dsn)
}

// SQLitePath returns the absolute file path of a SQLite DSN ("PATH",
// "sqlite:PATH", "sqlite://PATH", "file:PATH?…").
func SQLitePath(dsn string) string {
	path := dsn
	for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
		path = strings.TrimPrefix(path, p)
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path
}

// ByCount returns the keys of m, the most frequent first, then in order.
func ByCount[K cmp.Ordered](m map[K]int) []K {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b K) int { return cmp.Compare(m[b], m[a]) })
	return keys
}

// ParseFlags parses args with fs and returns the names of the flags given.
// -h gives flag.ErrHelp as it is; a bad flag is the flag package's error
// with a hint to run with -h; a stray argument is refused, since every
// setting of the examples is a flag.
func ParseFlags(fs *flag.FlagSet, args []string) (map[string]bool, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w (run with -h for the flags)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every setting is a flag (run with -h)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set, nil
}
