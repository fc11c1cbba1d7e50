package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/casebridge/casebridge/referral"
)

// What the other side does in the demo, between the bridge's steps: DTP
// delivers what proGres queued, and UNHCR answers the referrals the bridge
// sent it (one acceptance each; a real reviewer may also reject).

// demoDecisions remembers whether the demo's UNHCR has answered, so that
// running again against the same fakes answers nothing twice.
type demoDecisions struct {
	mu      sync.Mutex
	decided bool
}

// deliver makes the gateway hand over what it holds: DTP pushes its
// queued notifications (once; what is not acknowledged stays queued).
// PING is polled by the flows themselves.
func (d *demoSystems) deliver(ctx context.Context) error {
	if d.dtp == nil {
		return nil
	}
	if _, err := d.dtp.Push(ctx); err != nil {
		return fmt.Errorf("demo: DTP push: %w", err)
	}
	return nil
}

// react plays the other side right after a flow ran: when the intake has
// created child 1's case, its caseworker accepts the service (the decision
// flow then sends that to proGres); when the gateway holds the demo's
// referral to UNHCR, UNHCR accepts it (the decision flow from proGres then
// applies it in Primero).
func (d *demoSystems) react(ctx context.Context) error {
	return errors.Join(d.decideInPrimero(ctx), d.decideAsUNHCR(ctx))
}

// decideInPrimero accepts, as child 1's caseworker, the service the intake
// created from proGres's referral, once it exists and is still pending.
func (d *demoSystems) decideInPrimero(ctx context.Context) error {
	number := progrestest.InterventionNumber(childNew)
	id := referral.StableID("", "progres-individual", individualNumber(childNew))
	c, ok := d.primero.Case(id)
	if !ok {
		return nil
	}
	svcID := referral.StableID("", "progres-intervention", number)
	rows, _ := c["services_section"].([]any)
	for _, r := range rows {
		if row, _ := r.(map[string]any); row["unique_id"] == svcID && row["unhcr_referral_status"] == "pending" {
			cw, err := primero.New(d.primero.URL(), primero.WithBasicAuth(demoCaseworker, demoCaseworkerPass))
			if err != nil {
				return err
			}
			_, err = cw.Cases.Update(ctx, id, map[string]any{"services_section": []any{
				map[string]any{"unique_id": svcID, "unhcr_referral_status": "accepted"}}})
			return err
		}
	}
	return nil
}

// decideAsUNHCR accepts, as UNHCR, the demo's referral once the gateway
// holds it: DTP pushes the decision at once; PING lists it for the
// decisions flow to poll. It decides once per fakes.
func (d *demoSystems) decideAsUNHCR(ctx context.Context) error {
	d.answers.mu.Lock()
	defer d.answers.mu.Unlock()
	if d.answers.decided {
		return nil
	}
	switch {
	case d.dtp != nil:
		for _, body := range d.dtp.Referrals() {
			if key, _ := body["id"].(string); key != "" {
				d.answers.decided = true
				d.dtp.QueueDecision(progrestest.SyntheticDecision(childOutbound, key, true))
			}
		}
		if d.answers.decided {
			return d.deliver(ctx)
		}
	case d.ping != nil:
		for _, ing := range d.ping.Ingested() {
			for _, rec := range ing.Records {
				if pingField(rec, "progres_orgreferralid") == demoOutboundServiceID {
					d.answers.decided = true
				}
			}
		}
		if d.answers.decided {
			d.ping.AddSyntheticDecision(childOutbound, demoOutboundCaseID, demoOutboundServiceID, progrestest.StatusAccepted)
		}
	}
	return nil
}

// pingField returns the value of the named field of a PING ingestion
// record ({"ExternalId", "Fields": [{"Name", "Value"}]}).
func pingField(rec map[string]any, name string) string {
	fields, _ := rec["Fields"].([]any)
	for _, f := range fields {
		if m, ok := f.(map[string]any); ok && m["Name"] == name {
			v, _ := m["Value"].(string)
			return v
		}
	}
	return ""
}

// animate plays the other side while the bridge runs continuously: every
// interval, DTP delivers what it holds and UNHCR answers what it received.
func (d *demoSystems) animate(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = d.deliver(ctx)
		_ = d.react(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
