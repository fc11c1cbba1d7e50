package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/examples/internal/cliutil"
	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

// The report is for a person: where the systems and the state are, what
// each flow did, the totals, why items were denied (in words, with the
// reason code beside them), which items failed (by identifier and code),
// and whether the audit trails verify. It holds identifiers, codes and
// counts only, never anything from a record.

// report writes the bridge's report to out.
type report struct {
	out   io.Writer
	mu    sync.Mutex
	cycle []referral.Stats
	// runErrs are the flows whose run as a whole failed this cycle.
	runErrs []string
}

func (r *report) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }

// demoSystems says which fakes run and where.
func (r *report) demoSystems(d *demoSystems, inboundURL string, mtls bool) {
	r.printf("Primero: a fake server for this run at %s, seeded with made-up children.\n", d.primero.URL())
	switch {
	case d.dtp != nil:
		auth := "API key"
		if mtls {
			auth = "mutual TLS and an API key"
		}
		r.printf("proGres: a fake DTP gateway at %s, pushing to the inbound endpoint %s (%s).\n", d.dtp.BaseURL(), inboundURL, auth)
	case d.ping != nil:
		r.printf("proGres: a fake PING gateway at %s, polled.\n", d.ping.URL())
	}
}

// realSystems says which systems the bridge talks to.
func (r *report) realSystems(cfg config, in *inbound) {
	r.printf("Primero: %s, as the account in %s.\n", cfg.primeroURL, envPrimeroUser)
	r.printf("proGres: %s gateway at %s.\n", strings.ToUpper(cfg.gateway), cfg.progresURL)
	if in != nil {
		auth := "TLS, API key"
		if cfg.clientCA != "" {
			auth = "mutual TLS, API key"
		}
		r.printf("Inbound endpoint for DTP's pushes: listening on %s (%s).\n", in.ln.Addr(), auth)
	}
}

// state says where the state is and what it holds.
func (r *report) state(db *sqlsink.DB, temporary bool) {
	r.printf("State: %s.\n", describeState(db, temporary))
	r.printf("  It holds cursors, processed keys, links between the systems' ids, run locks and the audit trails: identifiers only.\n")
}

// flows names the flows that run.
func (r *report) flows(fl []referral.Flow) {
	names := make([]string, len(fl))
	for i, f := range fl {
		names[i] = f.Name()
	}
	r.printf("Flows: %s.\n", strings.Join(names, ", "))
}

// inbound says whether this instance handles DTP's pushes.
func (r *report) inbound(held bool) {
	if held {
		r.printf("Inbound endpoint: this instance handles DTP's pushes.\n")
		return
	}
	r.printf("Inbound endpoint: another instance handles DTP's pushes; this one answers 503 until it takes over.\n")
}

// startCycle begins a cycle's section under title.
func (r *report) startCycle(title string) {
	r.mu.Lock()
	r.cycle, r.runErrs = nil, nil
	r.mu.Unlock()
	r.printf("%s:\n", title)
}

// add records one flow run (referral.Runner.Report) and prints its line.
func (r *report) add(s referral.Stats, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cycle = append(r.cycle, s)
	r.printf("  %s\n", s)
	if err != nil {
		r.runErrs = append(r.runErrs, s.Flow)
		r.printf("    the run failed: %s\n", runFailure(err))
	}
}

// runFailure says why a flow's run failed, in words a person can act on.
// The errors casebridge returns hold no personal data.
func runFailure(err error) string {
	switch {
	case errors.Is(err, referral.ErrNoCursor):
		return "no stored cursor and no -start: give -start for the flow's first run"
	case errors.Is(err, referral.ErrLockLost):
		return "its run lock was lost (another instance may have taken over); it runs again next cycle"
	case errors.Is(err, context.Canceled):
		return "stopped on request"
	}
	return err.Error()
}

// endCycle prints the cycle's totals, denials by reason, and failed items.
func (r *report) endCycle() {
	r.mu.Lock()
	defer r.mu.Unlock()
	var total referral.Stats
	for _, s := range r.cycle {
		total = total.Add(s)
	}
	r.printf("In all: received %d, created %d, updated %d, sent %d, decided %d, unchanged %d, denied %d, failed %d.\n",
		total.Received, total.Created, total.Updated, total.Sent, total.Decided, total.Unchanged, total.DeniedTotal(), total.Failed)
	if changed(total) == 0 && len(r.runErrs) == 0 {
		r.printf("  Nothing was written or sent: what arrived again was already done, or is still denied or failing.\n")
	}
	if len(total.Denied) > 0 {
		r.printf("  Denied by the sharing agreement, by reason (nothing was shared):\n")
		for _, reason := range cliutil.ByCount(total.Denied) {
			r.printf("    %d  %s (%s)\n", total.Denied[reason], reason.Describe(), reason)
		}
	}
	if total.Failed > 0 {
		r.printf("  Failed, by item (tried again on the next run, or answered to the sender):\n")
		for _, s := range r.cycle {
			for _, e := range s.Errors {
				r.printf("    %s  %s  %s\n", s.Flow, e.Key, e.Code)
			}
		}
		if shown := countErrors(r.cycle); shown < total.Failed {
			r.printf("    and %d more\n", total.Failed-shown)
		}
	}
}

// changed counts the writes and deliveries of a cycle.
func changed(s referral.Stats) int { return s.Created + s.Updated + s.Sent + s.Decided }

func countErrors(ss []referral.Stats) int {
	n := 0
	for _, s := range ss {
		n += len(s.Errors)
	}
	return n
}

// verify checks every flow's audit trail and says so.
func (r *report) verify(ctx context.Context, state sqlsink.State, fl []referral.Flow) error {
	events := 0
	for _, f := range fl {
		sum, err := sqlsink.VerifyAudit(ctx, state.AuditLog(f.Name()))
		if err != nil {
			var te *consent.TamperError
			if errors.As(err, &te) {
				r.printf("Audit trail of %s does NOT verify: %v.\n", f.Name(), err)
			}
			return fmt.Errorf("audit trail of %s: %w", f.Name(), err)
		}
		events += sum.Events
	}
	r.printf("Audit trails verified: %d events in %d flows, none altered, removed or reordered.\n", events, len(fl))
	return nil
}

// cycleReporter turns the runner's per-flow reports into cycle sections
// when the bridge runs continuously: a cycle ends after its last flow.
type cycleReporter struct {
	rep   *report
	flows int
	// onEnd, when set, runs after each cycle's report.
	onEnd func()
	n     int // flows reported in the current cycle
	cycle int
}

func (c *cycleReporter) add(s referral.Stats, err error) {
	if c.n == 0 {
		c.cycle++
		c.rep.startCycle(fmt.Sprintf("Cycle %d", c.cycle))
	}
	c.rep.add(s, err)
	c.n++
	if c.n == c.flows {
		c.rep.endCycle()
		c.n = 0
		if c.onEnd != nil {
			c.onEnd()
		}
	}
}
