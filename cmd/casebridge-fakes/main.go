package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/casebridge/casebridge/primero/primerotest"
)

// fake is one fake server the command runs.
type fake interface {
	// Name identifies the fake in the printed listing.
	Name() string
	// Start starts the fake on addr as the settings say.
	Start(addr string, s settings) (running, error)
}

// settings are the flags every fake honours.
type settings struct {
	// Cases is the number of synthetic demo records.
	Cases int
	// Auth is Primero's login flow (the proGres fakes ignore it).
	Auth string
	// Chaos, when set, is the seeded fault plan every fake serves under.
	Chaos *primerotest.Chaos
}

// running is a started fake.
type running interface {
	// Describe returns the lines printed for the fake: URL and credentials.
	Describe() []string
	// Close stops the fake.
	Close()
}

// fakes are the fakes served, in order. Each binds its own port; with a
// fixed -addr port the first fake gets it and the others get the next ports.
var fakes = []fake{primeroFake{}}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "casebridge-fakes:", err)
		os.Exit(1)
	}
}

// run parses flags, starts every fake, prints the listing and waits for ctx
// to end or an interrupt.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("casebridge-fakes", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback); port 0 picks a free port")
	cases := fs.Int("cases", 20, "synthetic demo records per fake")
	auth := fs.String("auth", "basic", "login flow: basic, session (v2.11+ cookie and CSRF), legacy (v2.0-2.10 token) or bearer (identity provider)")
	chaos := fs.Float64("chaos", 0, "fraction of requests (0 to 1) each fake fails: 503, 429 with Retry-After, a timeout, or the connection dropped before or after acting")
	seed := fs.Int64("chaos-seed", 1, "seed of the -chaos fault plan: the same seed fails the same sequential requests")
	for _, f := range fakes {
		if fl, ok := f.(flagger); ok {
			fl.RegisterFlags(fs)
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !validAuth[*auth] {
		return fmt.Errorf("-auth: %q is not basic, session, legacy or bearer", *auth)
	}
	if *cases < 0 {
		return errors.New("-cases must not be negative")
	}
	set := settings{Cases: *cases, Auth: *auth}
	if *chaos != 0 {
		c := primerotest.Chaos{Rate: *chaos, Seed: *seed}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("-chaos: %w", err)
		}
		set.Chaos = &c
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr: %q is not a loopback address", host)
	}

	var started []running
	defer func() {
		for _, r := range started {
			r.Close()
		}
	}()
	for i, f := range fakes {
		a, err := nthAddr(host, port, i)
		if err != nil {
			return err
		}
		r, err := f.Start(a, set)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		started = append(started, r)
		fmt.Fprintf(out, "%s:\n", f.Name())
		for _, line := range r.Describe() {
			fmt.Fprintf(out, "  %s\n", line)
		}
	}
	if set.Chaos != nil {
		fmt.Fprintf(out, "chaos: %g of requests fail (seed %d); logins are exempt\n", set.Chaos.Rate, set.Chaos.Seed)
	}
	fmt.Fprintln(out, "ready; interrupt (Ctrl-C) to stop")

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// validAuth are the values of -auth.
var validAuth = map[string]bool{"basic": true, "session": true, "legacy": true, "bearer": true}

// nthAddr gives fake i its address: port 0 stays 0, a fixed port p becomes
// p+i.
func nthAddr(host, port string, i int) (string, error) {
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("-addr: bad port %q", port)
	}
	if p != 0 {
		p += i
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}
