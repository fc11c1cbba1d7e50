// Command primero-referral is the main job on the embedded defaults: it
// starts the fake Primero server in-process, seeds it with synthetic cases,
// and runs a referral pass the way a bridge would.
//
// For every open case of a child in one location it asks the consent gate
// (policy.yaml, default deny) whether the case may be referred to a service
// provider; it refers the allowed ones, skips a case already referred (so a
// second pass creates nothing), writes every decision, and every referral's
// intent before it is sent and its outcome after, to a hash-chained audit
// trail, then lets the provider accept the referrals and verifies the
// trail. It reports in plain sentences, with identifiers and counts only.
//
// Its state lives in SQLite, the embedded default (no database server): a
// run lock so that two bridges never run the flow at once, the links from
// each case to its referral, and the audit trail, all kept apart per
// Primero server, so that one state database can serve staging and
// production, or outlive a reset server. Give -db a file path to keep it,
// or a postgres:// URL to keep it in PostgreSQL.
//
//	go run ./examples/primero-referral
//
// Flags point it at another Primero (-url, with -user/-password and the
// provider's -recipient credentials); the default is the fake. -h lists
// them. Interrupt it (Ctrl-C, SIGTERM) at any time: it stops after the case
// at hand, records what it did, and releases the run lock.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/sqlsink"
)

//go:embed policy.yaml
var policyYAML []byte

const (
	flow    = "example-primero-referral"
	service = "alternative_care"
	// linkKind names the links from a case to the referral the bridge
	// made for it.
	linkKind = "referral"
)

// provider is the receiving party the policy names.
var provider = consent.Party{System: "primero", Agency: primerotest.DefaultAgency}

// exitInterrupted is the exit status after SIGINT or SIGTERM.
const exitInterrupted = 130

func main() {
	os.Exit(mainWithSignals(os.Args[1:], os.Stdout, os.Stderr))
}

// mainWithSignals runs the command until it ends or SIGINT or SIGTERM
// arrives, and returns the exit status.
func mainWithSignals(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitStatus(ctx, args, stdout, stderr)
}

// exitStatus runs the command and turns its result into an exit status:
// 0 when done or for -h, 2 for a bad command line, 130 when interrupted,
// 1 for any other failure.
func exitStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "primero-referral: %v\n", err)
		return 2
	}
	err = runConfig(ctx, stdout, cfg)
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "primero-referral: stopped on request. What was done is recorded, and the run lock is released; run again to continue.")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "primero-referral: %v\n", err)
	return 1
}

// run parses args and runs the command (tests call it as the command).
func run(ctx context.Context, out io.Writer, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	return runConfig(ctx, out, cfg)
}

func runConfig(ctx context.Context, out io.Writer, cfg config) error {
	usingFake := cfg.url == ""
	if usingFake {
		fake, err := primerotest.Start()
		if err != nil {
			return err
		}
		defer fake.Close()
		fake.AddSyntheticCases(cfg.cases)
		cfg.url = fake.URL()
		fmt.Fprintf(out, "Primero: a fake server started for this run at %s, seeded with %d made-up test cases.\n", cfg.url, cfg.cases)
	}
	srv, err := identify(cfg.url)
	if err != nil {
		return err
	}
	if !usingFake {
		fmt.Fprintf(out, "Primero: %s, as the caseworker account given by -user.\n", srv.url)
	}
	temporary := cfg.dsn == ""
	if temporary {
		dir, err := os.MkdirTemp("", "casebridge-state-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.dsn = "sqlite:" + filepath.Join(dir, "state.db")
	}
	db, err := sqlsink.Open(ctx, cfg.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(out, "State: %s.\n", describeState(db, temporary))
	fmt.Fprintf(out, "  It holds the run lock, which case became which referral, and the audit trail, kept apart for this Primero (known there as %s).\n", srv.system)
	state, err := sqlsink.NewDBState(db)
	if err != nil {
		return err
	}
	scope := flow + "." + srv.system
	lock, err := state.Lock(ctx, scope) // a second bridge on the same state and server stops here
	if err != nil {
		return err
	}
	defer func() { _ = lock.Release() }()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-lock.Lost():
			cancel(errors.New("the run lock was lost: another bridge may be running"))
		case <-ctx.Done():
		}
	}()

	policy, err := consent.Compile(policyYAML)
	if err != nil {
		return err
	}
	caseworker, err := primero.New(cfg.url, primero.WithBasicAuth(cfg.user, cfg.password))
	if err != nil {
		return err
	}
	log := state.AuditLog(scope)
	trail, err := sqlsink.ResumeTrail(ctx, log)
	if err != nil {
		return err
	}
	defer func() { _ = trail.Flush(context.WithoutCancel(ctx)) }()

	b := &bridge{
		client: caseworker, server: srv, recipient: cfg.recipient, trail: trail, log: log,
		policy: policy, state: state, scope: scope, out: out, progress: cfg.progress,
		gate: policy.Gate(consent.Request{Recipient: provider, Purpose: policy.Purpose(), ServiceType: service}),
	}
	if msg, err := b.resume(ctx); err != nil {
		return err
	} else if msg != "" {
		fmt.Fprintln(out, msg)
	}
	filters, chosen := caseSelection(cfg.location)
	fmt.Fprintf(out, "Cases: %s.\n", chosen)
	fmt.Fprintln(out, describeAgreement(policy))
	for pass := 1; pass <= 2; pass++ {
		st, err := b.pass(ctx, filters, pass)
		if err != nil {
			return errors.Join(err, context.Cause(ctx))
		}
		printPass(out, pass, st)
	}

	providerClient, err := primero.New(cfg.url, primero.WithBasicAuth(cfg.recipient, cfg.recipientPass))
	if err != nil {
		return err
	}
	accepted, err := acceptAll(ctx, providerClient, b.referred)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "The provider accepted the %d referrals made in this run.\n", accepted)

	sum, err := sqlsink.VerifyAudit(ctx, log)
	if err != nil {
		return fmt.Errorf("audit trail: %w", err)
	}
	fmt.Fprintf(out, "Audit trail verified: %d events for this Primero, none altered, removed or reordered.\n", sum.Events)
	return nil
}

// acceptAll accepts, as the provider, every referral the bridge created.
func acceptAll(ctx context.Context, provider *primero.Client, referred map[string]string) (int, error) {
	n := 0
	for caseID, refID := range referred {
		if _, err := provider.Referrals.Accept(ctx, caseID, refID); err != nil {
			return n, fmt.Errorf("accept referral %s: %w", refID, err)
		}
		n++
	}
	return n, nil
}
