package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/sqlsink"
)

// Common is what every flow is configured with beside its clients and
// mapping: the state store, the consent policy, a logger and a clock.
// Embed it in a flow's configuration.
type Common struct {
	// State keeps the flow's cursor, processed keys, links, audit trail and
	// run lock. Required.
	State sqlsink.State
	// Policy is the information-sharing protocol the flow enforces.
	// Required: there is no default, and no flow runs without one.
	Policy *consent.Policy
	// Logger receives identifiers and counts only. Nil: silent.
	Logger *slog.Logger
	// Now is the clock (audit times, ages). Nil: time.Now.
	Now func() time.Time
	// Observe, when set, is told of each referral the flow has moved on:
	// delivered into Primero (Pending), a decision sent or applied
	// (Accepted, Rejected), a referral sent to the partner (Pending). It is
	// called once the outcome is durable (written, state committed), with
	// the canonical Referral's identifiers, codes and status, and without
	// Payload: use it to export where referrals stand (pending counts, time
	// to decision) without reading the audit trail. Each referral and step
	// is observed at most once: a re-delivery that changes nothing is not
	// observed again, and neither is a step whose answer was lost after
	// the other side applied it and that the flow later finds done. It
	// runs on the flow's goroutine and is not retried: keep it quick; it
	// cannot fail the flow.
	Observe func(ctx context.Context, flow string, r Referral)
}

// observe hands r, without its Payload, to the Observe hook.
func (c *Common) observe(ctx context.Context, flow string, r Referral) {
	if c.Observe == nil {
		return
	}
	r.Payload = nil
	c.Observe(ctx, flow, r)
}

// ErrNoCursor is returned by a polling flow that has no stored cursor and
// no explicit start: it refuses to guess (pitfall 12) rather than re-read
// years of records.
var ErrNoCursor = errors.New("referral: no stored cursor and no explicit start")

func (c *Common) check(flow string) error {
	switch {
	case c.State == nil:
		return fmt.Errorf("referral: %s: State is required", flow)
	case c.Policy == nil:
		return fmt.Errorf("referral: %s: Policy is required", flow)
	}
	return nil
}

func (c *Common) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

func (c *Common) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// trails resumes each flow's audit trail from the state store once.
type trails struct {
	mu sync.Mutex
	m  map[string]*consent.Trail
}

// trail returns the flow's audit trail, resumed (and verified) from the
// state store on first use. Each flow writes its own trail: a flow's run
// lock then makes it the trail's only writer, across processes too.
func (t *trails) trail(ctx context.Context, c *Common, flow string) (*consent.Trail, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.m[flow]; ok {
		return tr, nil
	}
	tr, err := sqlsink.ResumeTrail(ctx, c.State.AuditLog(flow), consent.WithClock(c.now))
	if err != nil {
		return nil, fmt.Errorf("referral: %s: audit trail: %w", flow, err)
	}
	if t.m == nil {
		t.m = map[string]*consent.Trail{}
	}
	t.m[flow] = tr
	return tr, nil
}

// loadWatermark reads a polling flow's cursor: the stored watermark, or
// start when none is stored. Neither is ErrNoCursor.
func loadWatermark(ctx context.Context, st sqlsink.State, flow string, start time.Time) (primero.Watermark, error) {
	s, ok, err := st.Cursor(ctx, flow)
	if err != nil {
		return primero.Watermark{}, err
	}
	if !ok {
		if start.IsZero() {
			return primero.Watermark{}, fmt.Errorf("referral: %s: %w (set the flow's Start for its first run)", flow, ErrNoCursor)
		}
		return primero.Watermark{At: start.UTC()}, nil
	}
	wm, err := primero.ParseWatermark(s)
	if err != nil {
		return primero.Watermark{}, fmt.Errorf("referral: %s: stored cursor: %w", flow, err)
	}
	return wm, nil
}
