// Command progres-bridge runs the referral flows between UNHCR's proGres v4
// and UNICEF's Primero, as the Gambella pilot does: proGres referrals
// become Primero cases (and proGres hears whether they arrived), Primero's
// decisions on them go back to proGres, Primero referrals to UNHCR go to
// proGres, and proGres's decisions on those come back to Primero. Each
// flow asks the sharing agreement before anything is shared, and records
// every decision and delivery in a hash-chained audit trail that holds
// identifiers only.
//
// With no flags it is a demo that needs no server: it starts fakes of
// Primero and of proGres's DTP gateway in-process, seeded with made-up
// children (referrals both ways, one without consent, one matching two
// Primero cases, one delivered twice), keeps its state in a temporary
// SQLite file (or where -db says), runs one cycle of every flow and prints
// what it did, then runs again on the same state, with DTP delivering
// every referral once more: the second run does nothing again.
//
//	go run ./examples/progres-bridge
//
// With -primero-url and -progres-url it talks to real systems; secrets
// come from the environment only (-h lists the flags and the variables).
// -gateway ping uses PING instead of DTP. -interval runs the flows
// continuously until SIGINT or SIGTERM, which stop it gracefully: the
// runs in flight are cancelled, what they finished is recorded, and the
// flows' run locks are released. Two instances on one PostgreSQL state
// store (-db postgres://…) share the work safely: each flow runs in one
// of them at a time, and when one dies the other takes its flows over.
// docs/deploying.md describes a deployment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(mainWithSignals(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// mainWithSignals runs the command until it ends or SIGINT or SIGTERM
// arrives, and returns the exit status.
func mainWithSignals(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitStatus(ctx, args, getenv, stdout, stderr)
}

// exitStatus runs the command and turns its result into an exit status:
// 0 when done (or for -h, or after a requested stop of a continuous run),
// 2 for a bad command line or environment, 130 when a single cycle was
// interrupted, 1 for any other failure.
func exitStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "progres-bridge: %v\n", err)
		return exitUsage
	}
	err = run(ctx, cfg, stdout, stderr)
	switch {
	case err == nil:
		if ctx.Err() != nil {
			fmt.Fprintln(stdout, "Stopped on request. What was done is recorded and the run locks are released.")
		}
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "progres-bridge: stopped on request. What was done is recorded and the run locks are released; run again to continue.")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "progres-bridge: %v\n", err)
	return exitFailed
}

// run runs the bridge with a checked configuration. The demo (no URLs)
// runs twice against the same fakes, the second time as a restarted
// bridge to which proGres delivers everything again, to show that nothing
// is done twice.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	logger := slog.New(slog.DiscardHandler)
	if cfg.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if !cfg.demo {
		return runWith(ctx, cfg, nil, logger, stdout)
	}
	d, err := newDemoSystems()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer d.close()
	cfg = d.configure(cfg)
	if cfg.tempState {
		dir, err := os.MkdirTemp("", "progres-bridge-state-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.dsn = filepath.Join(dir, demoDBName)
	}
	if err := runWith(ctx, cfg, d, logger, stdout); err != nil || cfg.interval > 0 {
		return err
	}
	fmt.Fprintln(stdout)
	if cfg.gateway == gatewayDTP {
		fmt.Fprintln(stdout, "Run 2: the same bridge started again on the same state, and DTP delivering every referral once more (as after lost acknowledgements).")
	} else {
		fmt.Fprintln(stdout, "Run 2: the same bridge started again on the same state, reading again what PING still lists.")
	}
	d.redeliver()
	return runWith(ctx, cfg, d, logger, stdout)
}

// runWith runs the bridge against demo's fakes (nil: the configured
// systems) on the state in cfg.dsn. Run again with the same demo, it
// describes the systems and the state only once.
func runWith(ctx context.Context, cfg config, demo *demoSystems, logger *slog.Logger, out io.Writer) error {
	rep := &report{out: out}
	again := demo != nil && demo.runs > 0
	if demo != nil {
		demo.runs++
	}

	// The state first: it is closed last, after the inbound endpoint has
	// stopped and given its lock up.
	db, state, err := openState(ctx, cfg.dsn)
	if err != nil {
		return err
	}
	defer db.Close()

	// The inbound endpoint listens before the gateway fake starts: the DTP
	// fake must know where to push.
	var in *inbound
	var gate *inboundGate
	if cfg.gateway == gatewayDTP {
		addr := cfg.listen
		if demo != nil && demo.inboundAddr != "" {
			addr = demo.inboundAddr
		}
		if in, err = listenInbound(addr, cfg.tlsCert, cfg.tlsKey, cfg.clientCA); err != nil {
			return err
		}
		defer func() {
			// Stop serving first (pushes in flight finish), then give the
			// inbound lock up.
			_ = in.close()
			if gate != nil {
				_ = gate.release()
			}
		}()
		if demo != nil {
			demo.inboundAddr = in.ln.Addr().String()
		}
	}
	var cl *clients
	if demo != nil {
		inboundURL := ""
		if in != nil {
			inboundURL = in.URL()
		}
		if demo.dtp == nil && demo.ping == nil {
			if err := demo.startGateway(cfg.gateway, inboundURL); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		}
		cl, err = demoClients(demo, logger)
		if !again {
			rep.demoSystems(demo, inboundURL, cfg.clientCA != "")
		}
	} else {
		cl, err = realClients(cfg, logger)
		rep.realSystems(cfg, in)
	}
	if err != nil {
		return err
	}

	if !again {
		rep.state(db, cfg.tempState)
	}
	fl, handler, err := flows(cfg, cl, state, logger, rep)
	if err != nil {
		return err
	}
	if len(fl) == 0 {
		return errors.New("no flow is available for this gateway in this build")
	}
	if !again {
		rep.flows(fl)
	}
	if in != nil {
		if handler == nil {
			handler = http.NotFoundHandler()
		}
		gate = &inboundGate{state: state, h: handler}
		held, err := gate.acquire(ctx)
		if err != nil {
			return fmt.Errorf("inbound lock: %w", err)
		}
		if !again {
			rep.inbound(held)
		}
		in.serve(gate)
	}

	runner := &referral.Runner{State: state, Flows: fl, Logger: logger, Report: rep.add}
	if cfg.interval == 0 {
		return runOnce(ctx, runner, demo, rep, state)
	}
	if demo != nil {
		actx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); demo.animate(actx, cfg.interval) }()
		defer func() { stop(); <-done }()
	}
	return runContinuously(ctx, runner, cfg.interval, rep, state, gate)
}

// runOnce runs one cycle: in the demo, the gateway first delivers what it
// holds (DTP pushes to the inbound endpoint), and after each flow the
// other side reacts (demoSystems.react) before the next flow runs. The report follows, with the audit trails
// verified.
func runOnce(ctx context.Context, runner *referral.Runner, demo *demoSystems, rep *report, state sqlsink.State) error {
	rep.startCycle("One cycle of every flow")
	var demoErr error
	if demo != nil {
		if err := demo.deliver(ctx); err != nil {
			return err
		}
		report := runner.Report
		runner.Report = func(s referral.Stats, err error) {
			report(s, err)
			demoErr = errors.Join(demoErr, demo.react(ctx))
		}
	}
	_, err := runner.Cycle(ctx)
	rep.endCycle()
	verr := rep.verify(context.WithoutCancel(ctx), state, runner.Flows)
	if ctx.Err() != nil {
		return errors.Join(ctx.Err(), err)
	}
	return errors.Join(err, demoErr, verr)
}

// runContinuously runs a cycle every interval until ctx ends (a graceful
// stop: nil), reporting each cycle, then verifies the audit trails. After
// each cycle an instance that does not handle DTP's pushes tries to take
// them over (gate is nil with PING).
func runContinuously(ctx context.Context, runner *referral.Runner, every time.Duration, rep *report, state sqlsink.State, gate *inboundGate) error {
	fmt.Fprintf(rep.out, "Running every %s until SIGINT or SIGTERM.\n", every)
	cycles := &cycleReporter{rep: rep, flows: len(runner.Flows)}
	if gate != nil {
		cycles.onEnd = func() {
			if gate.held() {
				return
			}
			if held, err := gate.acquire(ctx); err == nil && held {
				rep.inbound(true)
			}
		}
	}
	runner.Report = cycles.add
	runner.Interval = every
	if err := runner.Run(ctx); err != nil {
		return err
	}
	return rep.verify(context.WithoutCancel(ctx), state, runner.Flows)
}

// describeState is where the state is, for the report.
func describeState(db *sqlsink.DB, temporary bool) string {
	if temporary {
		return db.Location() + ", a temporary one removed at the end (give -db to keep it)"
	}
	return db.Location()
}
