// Command cpims-dashboard keeps a child-protection dashboard database in
// step with Primero (CPIMS+): an incremental, resumable sync of the cases,
// their services and the location lookup into SQLite or PostgreSQL, the
// tables holding what the indicators need and nothing personal.
//
//	go run ./examples/cpims-dashboard
//
// With no flags it starts the fake Primero in-process, seeds it with
// synthetic cases and syncs them into cpims-dashboard.db (SQLite). Against
// a real server:
//
//	PRIMERO_USER=… PRIMERO_PASSWORD=… go run ./examples/cpims-dashboard \
//	    -primero-url https://primero.example -source kh-moSVY -db postgres://…
//
// Credentials come from the environment only, never from flags or logs.
//
// Each run reads the cases changed since the cursor it stored last
// (primero.Feed: keyset paging by last_updated_at, loses no case while
// others change; a source without a cursor loads every case, which is
// harmless to repeat into the flow's own tables), maps them with the embedded cases.yaml and services.yaml
// (the agreement the data owners sign off; labels and provinces come from
// Primero's lookups and location tree), and commits them chunk by chunk:
// a chunk's case rows, its service rows, the delete of the service rows
// its cases no longer have and the cursor over it are one transaction.
// Killed at any point, the next run converges to the same tables. Disabled
// cases stay as rows marked enabled = false, with no services. A case the
// mapping refuses (a value of the wrong type, no case_id) or whose rows
// the tables cannot hold (a date in year 0) is skipped and named by its
// record id in the summary, rather than stopping every run to come; it is
// read again when it next changes.
//
// Rows carry their -source, so several Primero instances share one
// database, each with its own cursor. With -pseudonymize, the case and
// service keys are keyed pseudonyms (HMAC-SHA256 with the key in
// CPIMS_PSEUDONYM_KEY), for tables that will be shared publicly; a
// database holds one keying only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"regexp"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

// Environment variables the command reads.
const (
	envUser         = "PRIMERO_USER"
	envPassword     = "PRIMERO_PASSWORD"
	envPseudonymKey = "CPIMS_PSEUDONYM_KEY"
)

func main() {
	log.SetFlags(0)
	// The first interrupt stops reading and lets what was read be
	// committed; a second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, os.Stdout, os.Stderr, os.Args[1:], os.Getenv); err != nil {
		log.Fatal(err)
	}
}

// config is what the command line sets.
type config struct {
	url          string
	source       string
	dsn          string
	cases        int
	chunk        int
	per          int
	pseudonymize bool
}

var sourceRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("cpims-dashboard", flag.ContinueOnError)
	fs.StringVar(&c.url, "primero-url", "", "Primero base URL; credentials from "+envUser+" and "+envPassword+" (default: start the fake in-process)")
	fs.StringVar(&c.source, "source", "primero", "name of this Primero instance in the tables (lowercase letters, digits, _ . -)")
	fs.StringVar(&c.dsn, "db", "sqlite:cpims-dashboard.db", "dashboard database: a SQLite path or a postgres:// DSN")
	fs.IntVar(&c.cases, "cases", 2000, "synthetic cases to seed the fake with")
	fs.IntVar(&c.chunk, "chunk", DefaultChunk, "cases committed, with the cursor, at a time")
	fs.IntVar(&c.per, "per", DefaultPer, "cases per page asked of Primero (1 to 1000)")
	fs.BoolVar(&c.pseudonymize, "pseudonymize", false, "replace case and service ids by keyed pseudonyms (key in "+envPseudonymKey+")")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if !sourceRe.MatchString(c.source) {
		return c, errors.New("-source must be 1 to 63 lowercase letters, digits, '_', '.' or '-'")
	}
	if c.chunk < 1 {
		return c, errors.New("-chunk must be at least 1")
	}
	if c.per < 1 || c.per > primero.MaxPer {
		return c, errors.New("-per must be between 1 and 1000")
	}
	return c, nil
}

// run is the command; getenv reads the environment.
func run(ctx context.Context, out, errOut io.Writer, args []string, getenv func(string) string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	return runConfig(ctx, out, errOut, cfg, getenv, nil)
}

// runConfig runs with a parsed config; hook, when set, runs after each
// committed chunk.
func runConfig(ctx context.Context, out, errOut io.Writer, cfg config, getenv func(string) string, hook func(int) error) error {
	user, pass := getenv(envUser), getenv(envPassword)
	if cfg.url == "" {
		fake, err := primerotest.Start(fakeOptions()...)
		if err != nil {
			return err
		}
		defer fake.Close()
		seedLookups(fake)
		seedCases(fake, 0, cfg.cases)
		cfg.url, user, pass = fake.URL(), primerotest.DefaultUser, primerotest.DefaultPassword
		fmt.Fprintf(out, "fake Primero at %s with %d synthetic cases\n", cfg.url, cfg.cases)
	} else if user == "" || pass == "" {
		return errors.New("set " + envUser + " and " + envPassword + " for -primero-url")
	}
	var pseudo *pseudonymizer
	if cfg.pseudonymize {
		var err error
		if pseudo, err = newPseudonymizer(getenv(envPseudonymKey)); err != nil {
			return fmt.Errorf("-pseudonymize: %s: %w", envPseudonymKey, err)
		}
	}
	client, err := primero.New(cfg.url, primero.WithBasicAuth(user, pass))
	if err != nil {
		return err
	}
	db, err := sqlsink.Open(ctx, cfg.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(out, "dashboard tables and sync state: %s\n", db.Location())
	state, err := sqlsink.NewDBState(db)
	if err != nil {
		return err
	}
	s := &syncer{db: db, state: state, client: client, source: cfg.source, pseudo: pseudo,
		chunk: cfg.chunk, per: cfg.per, prog: newProgress(errOut), afterChunk: hook}
	sum, err := s.run(ctx)
	fmt.Fprintf(out, "%s: %s\n", cfg.source, sum)
	return err
}
