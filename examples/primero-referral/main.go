// Command primero-referral is the main job on the embedded defaults: it
// starts the fake Primero server in-process, seeds it with synthetic cases,
// and runs a referral pass the way a bridge would.
//
// For every open case of a child in one location it asks the consent gate
// (policy.yaml, default deny) whether the case may be referred to a service
// provider; it refers the allowed ones, skips a case already referred (so a
// second pass creates nothing), writes every decision and delivery to a
// hash-chained audit trail, then lets the provider accept the referrals and
// verifies the trail. It prints identifiers and counts only.
//
// Its state lives in SQLite, the embedded default (no database server): a
// run lock so that two bridges never run the flow at once, the links from
// each case to its referral, and the audit trail. Give -db a postgres://
// DSN to keep it in PostgreSQL instead.
//
//	go run ./examples/primero-referral
//
// Flags point it at another Primero (-url, with -user/-password and the
// provider's -recipient credentials); the default is the fake.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

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
	// linkKind and referralSystem name the links from a case to the
	// referral the bridge made for it.
	linkKind       = "referral"
	referralSystem = "primero-referral"
)

// provider is the receiving party the policy names.
var provider = consent.Party{System: "primero", Agency: primerotest.DefaultAgency}

func main() {
	log.SetFlags(0)
	if err := run(context.Background(), os.Stdout, os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

// config is what the command line can change.
type config struct {
	url, user, password      string
	recipient, recipientPass string
	location                 string
	cases                    int
	dsn                      string
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("primero-referral", flag.ContinueOnError)
	fs.StringVar(&c.url, "url", "", "Primero base URL (default: start the fake in-process)")
	fs.StringVar(&c.user, "user", primerotest.DefaultUser, "caseworker account")
	fs.StringVar(&c.password, "password", primerotest.DefaultPassword, "caseworker password")
	fs.StringVar(&c.recipient, "recipient", primerotest.DefaultRecipient, "provider account that receives the referrals")
	fs.StringVar(&c.recipientPass, "recipient-password", primerotest.DefaultRecipientPassword, "provider password")
	fs.StringVar(&c.location, "location", "XX01", "refer open cases in this location and its descendants")
	fs.IntVar(&c.cases, "cases", 60, "synthetic cases to seed the fake with")
	fs.StringVar(&c.dsn, "db", "", "state database: a SQLite path or a postgres:// DSN (default: SQLite in a temporary directory)")
	return c, fs.Parse(args)
}

func run(ctx context.Context, out io.Writer, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	if cfg.url == "" {
		fake, err := primerotest.Start()
		if err != nil {
			return err
		}
		defer fake.Close()
		fake.AddSyntheticCases(cfg.cases)
		cfg.url = fake.URL()
		fmt.Fprintf(out, "fake Primero at %s with %d synthetic cases\n", cfg.url, cfg.cases)
	}
	if cfg.dsn == "" {
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
	state, err := sqlsink.NewDBState(db)
	if err != nil {
		return err
	}
	lock, err := state.Lock(ctx, flow) // a second bridge on the same state stops here
	if err != nil {
		return err
	}
	defer func() { _ = lock.Release() }()

	policy, err := consent.Compile(policyYAML)
	if err != nil {
		return err
	}
	caseworker, err := primero.New(cfg.url, primero.WithBasicAuth(cfg.user, cfg.password))
	if err != nil {
		return err
	}
	trail, err := sqlsink.ResumeTrail(ctx, state.AuditLog(flow))
	if err != nil {
		return err
	}

	b := &bridge{
		client: caseworker, recipient: cfg.recipient, trail: trail, policy: policy, state: state,
		gate: policy.Gate(consent.Request{Recipient: provider, Purpose: policy.Purpose(), ServiceType: service}),
	}
	filters := []primero.Filter{primero.Status("open"), primero.AgeBetween(0, 17), primero.LocatedIn(cfg.location)}
	for pass := 1; pass <= 2; pass++ {
		st, err := b.pass(ctx, filters)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "pass %d: %d cases, %d referred, %d already referred, %d denied %v\n",
			pass, st.seen, st.referred, st.already, st.denied, st.reasons)
	}

	provider, err := primero.New(cfg.url, primero.WithBasicAuth(cfg.recipient, cfg.recipientPass))
	if err != nil {
		return err
	}
	accepted, err := acceptAll(ctx, provider, b.referred)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "provider accepted %d referrals\n", accepted)

	sum, err := sqlsink.VerifyAudit(ctx, state.AuditLog(flow))
	if err != nil {
		return fmt.Errorf("audit trail: %w", err)
	}
	fmt.Fprintf(out, "audit trail verified: %d events\n", sum.Events)
	return nil
}

// bridge refers the cases the policy allows, once each.
type bridge struct {
	client    *primero.Client
	recipient string
	policy    *consent.Policy
	gate      *consent.Gate
	trail     *consent.Trail
	state     sqlsink.State
	// referred maps case id to the id of the referral this run made, for
	// the provider's side.
	referred map[string]string
}

type passStats struct {
	seen, referred, already, denied int
	reasons                         map[consent.Reason]int
}

func (b *bridge) pass(ctx context.Context, filters []primero.Filter) (passStats, error) {
	st := passStats{reasons: map[consent.Reason]int{}}
	if b.referred == nil {
		b.referred = map[string]string{}
	}
	for c, err := range b.client.Cases.All(ctx, &primero.ListOptions{Filters: filters}) {
		if err != nil {
			return st, err
		}
		st.seen++
		ref := consent.RecordRef{System: "primero", ID: c.ID}
		d := b.gate.Check(c.ToRecord())
		if _, err := b.trail.Append(ctx, consent.DecisionEvent(flow, ref, provider, d, "")); err != nil {
			return st, err
		}
		if !d.Allowed {
			st.denied++
			for _, r := range d.Reasons {
				st.reasons[r]++
			}
			continue
		}
		refID, err := b.alreadyReferred(ctx, c.ID)
		if err != nil {
			return st, err
		}
		if refID != "" {
			st.already++
			continue
		}
		r, err := b.client.Referrals.Create(ctx, c.ID, &primero.ReferralRequest{TransitionedTo: b.recipient, Service: service})
		outcome := consent.OutcomeDelivered
		if err != nil {
			outcome = consent.OutcomeFailed
		}
		if _, aerr := b.trail.Append(ctx, consent.DeliveryEvent(flow, ref, provider, b.policy, "", outcome)); aerr != nil {
			return st, errors.Join(err, aerr)
		}
		if err != nil {
			return st, fmt.Errorf("refer case %s: %w", c.ID, err)
		}
		if err := b.link(ctx, c.ID, r.ID); err != nil {
			return st, err
		}
		b.referred[c.ID] = r.ID
		st.referred++
	}
	return st, nil
}

// alreadyReferred returns the id of the referral the bridge already made
// for the case, or "". The stored link answers first; without one Primero
// is asked, because a bridge stopped between creating a referral and
// storing its link must not refer the case again, and the link is stored
// then.
func (b *bridge) alreadyReferred(ctx context.Context, caseID string) (string, error) {
	ref := consent.RecordRef{System: "primero", ID: caseID}
	if id, ok, err := b.state.LinkTo(ctx, linkKind, ref, referralSystem); err != nil || ok {
		return id, err
	}
	refs, err := b.client.Referrals.List(ctx, caseID)
	if err != nil {
		return "", err
	}
	for _, r := range refs {
		if r.TransitionedTo == b.recipient && r.Status != "revoked" && r.Status != "rejected" {
			return r.ID, b.link(ctx, caseID, r.ID)
		}
	}
	return "", nil
}

// link stores that the case was referred as referral refID.
func (b *bridge) link(ctx context.Context, caseID, refID string) error {
	return b.state.Update(ctx, flow, func(tx sqlsink.StateTx) error {
		return tx.PutLink(ctx, sqlsink.Link{Kind: linkKind,
			From: consent.RecordRef{System: "primero", ID: caseID},
			To:   consent.RecordRef{System: referralSystem, ID: refID}})
	})
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
