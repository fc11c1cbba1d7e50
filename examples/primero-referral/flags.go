package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/casebridge/casebridge/examples/internal/cliutil"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// config is what the command line can change.
type config struct {
	url, user, password      string
	recipient, recipientPass string
	location                 string
	cases                    int
	dsn                      string
	progress                 int
}

// Limits of the numeric flags.
const (
	maxCases       = 1_000_000
	defaultCases   = 60
	defaultEvery   = 1000
	defaultLocated = "XX01"
)

// newFlagSet declares the flags into c. It prints nothing itself: run
// prints the usage on -h and the error otherwise.
func newFlagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("primero-referral", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.url, "url", "", "Primero base URL, e.g. https://primero.example.org (default: start a fake Primero in-process)")
	fs.StringVar(&c.user, "user", primerotest.DefaultUser, "caseworker account that makes the referrals")
	fs.StringVar(&c.password, "password", primerotest.DefaultPassword, "caseworker password")
	fs.StringVar(&c.recipient, "recipient", primerotest.DefaultRecipient, "provider account that receives the referrals")
	fs.StringVar(&c.recipientPass, "recipient-password", primerotest.DefaultRecipientPassword, "provider password (the example accepts the referrals as the provider)")
	fs.StringVar(&c.location, "location", defaultLocated, "refer open cases in this location code and the locations inside it")
	fs.IntVar(&c.cases, "cases", defaultCases, fmt.Sprintf("synthetic cases to seed the fake with, 1 to %d (only without -url)", maxCases))
	fs.StringVar(&c.dsn, "db", "", "state database: a SQLite file path (or sqlite:PATH) or a postgres:// URL (default: SQLite in a temporary directory, removed at the end)")
	fs.IntVar(&c.progress, "progress", defaultEvery, "report progress every this many cases")
	return fs
}

// printUsage writes the command's help to w.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: primero-referral [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Refers the open cases of children in one location to a service provider, once each,")
	fmt.Fprintln(w, "when the sharing agreement (policy.yaml) allows it, and keeps an audit trail.")
	fmt.Fprintln(w, "With no flags it runs against a fake Primero with synthetic cases.")
	fmt.Fprintln(w)
	fs := newFlagSet(&config{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseFlags reads and checks the command line. -h gives flag.ErrHelp;
// every other problem is an error that names the flag and says what it
// takes (it repeats no value that could be a secret).
func parseFlags(args []string) (config, error) {
	var c config
	set, err := cliutil.ParseFlags(newFlagSet(&c), args)
	if err != nil {
		return c, err
	}
	return c, c.check(set)
}

// check validates the parsed flags; set names the flags given.
func (c *config) check(set map[string]bool) error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-"+name+": "+format, args...))
	}
	if c.url != "" {
		u, err := url.Parse(c.url)
		switch {
		case err != nil || u.Host == "":
			bad("url", "must be an absolute http or https URL, like https://primero.example.org")
		case u.Scheme != "http" && u.Scheme != "https":
			bad("url", "must start with http:// or https://")
		case u.User != nil:
			bad("url", "must not hold a user name or password: use -user and -password")
		}
		if set["cases"] {
			bad("cases", "seeds the fake Primero only, and cannot be used with -url")
		}
	}
	if c.cases < 1 || c.cases > maxCases {
		bad("cases", "must be a whole number from 1 to %d, got %d", maxCases, c.cases)
	}
	if c.progress < 1 {
		bad("progress", "must be 1 or more, got %d", c.progress)
	}
	if strings.TrimSpace(c.location) == "" || strings.ContainsAny(c.location, " \t\n,") {
		bad("location", "must be one location code, like XX01")
	}
	for _, f := range [...]struct{ name, v string }{
		{"user", c.user}, {"password", c.password}, {"recipient", c.recipient}, {"recipient-password", c.recipientPass},
	} {
		if f.v == "" {
			bad(f.name, "must not be empty")
		}
	}
	if c.user != "" && c.user == c.recipient {
		bad("recipient", "must be another account than -user: Primero refuses a referral to oneself")
	}
	if set["db"] && strings.TrimSpace(c.dsn) == "" {
		bad("db", "must be a SQLite file path or a postgres:// URL")
	}
	return errors.Join(errs...)
}
