package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/casebridge/casebridge/progres/progrestest"
)

// What the other side does in the demo, between the bridge's steps: DTP
// delivers what proGres queued, and UNHCR answers the referrals the bridge
// sent it (one acceptance each; a real reviewer may also reject).

// demoDecisions remembers which referrals the demo's UNHCR has answered,
// so that running again against the same fakes answers nothing twice.
type demoDecisions struct {
	mu      sync.Mutex
	decided map[string]bool
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

// decideAsUNHCR accepts, as UNHCR, every referral the bridge sent through
// DTP that was not answered yet, and delivers the decisions. (With PING,
// UNHCR's decisions are polled; the demo seeds none.)
func (d *demoSystems) decideAsUNHCR(ctx context.Context) error {
	d.answers.mu.Lock()
	defer d.answers.mu.Unlock()
	if d.answers.decided == nil {
		d.answers.decided = map[string]bool{}
	}
	queued := 0
	if d.dtp != nil {
		for i, body := range d.dtp.Referrals() {
			key, _ := body["id"].(string)
			if key == "" || d.answers.decided[key] {
				continue
			}
			d.answers.decided[key] = true
			d.dtp.QueueDecision(progrestest.SyntheticDecision(100+i, key, true))
			queued++
		}
	}
	if queued == 0 {
		return nil
	}
	return d.deliver(ctx)
}

// animate plays the other side while the bridge runs continuously: every
// interval, DTP delivers what it holds and UNHCR answers what it received.
func (d *demoSystems) animate(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = d.deliver(ctx)
		_ = d.decideAsUNHCR(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
