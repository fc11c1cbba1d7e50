package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// Flow names of the proGres intakes.
const (
	FlowIntakeDTP  = "progres-intake-dtp"
	FlowIntakePING = "progres-intake-ping"
)

// Delivery-failure texts sent to proGres (closure_reason) for the codes
// the proGres package has no text for. Fixed texts: no value of the
// referral is ever echoed.
const (
	reasonConsent   = "The referral carries no consent to share with Primero. Record the consent in proGres and send the referral again."
	reasonAmbiguous = "Several Primero cases carry this UNHCR individual number. A person must resolve the duplicate in Primero before the referral can be delivered."
	reasonScope     = "The Primero case for this individual cannot be read by the integration. Ask the Primero administrator to check the integration user's access."
)

// codeInvalidItem is the failure code of a DTP item the proGres decoder
// refused for its own data (an unknown option code, a malformed date, a
// wrong JSON type): it never reached the mapping.
const codeInvalidItem = "invalid_item"

// errUnanswerable is the error counted for an invalid item without an
// intervention number.
var errUnanswerable = errors.New("referral: invalid item without a valid intervention number: it cannot be answered through DTP")

// closureReason is the closure_reason of a Delivery Fail for code.
func closureReason(code string) string {
	switch code {
	case codeMissingFields:
		return progres.ReasonMissingFields
	case codeServiceType:
		return progres.ReasonServiceType
	case codeConsent:
		return reasonConsent
	case codeAmbiguous:
		return reasonAmbiguous
	case codeCaseOutOfScope:
		return reasonScope
	}
	return progres.ReasonInvalidData
}

// progresRef is the referral's identity: its intervention number.
func progresRef(number string) consent.RecordRef {
	return consent.RecordRef{System: "progres", ID: number}
}

// Intake receives proGres referrals into Primero (flow 1): pushed by DTP
// (1-1, answered with delivery feedback 1-3 / 1-4) or polled from PING
// (1.1, answered with a transfer status), as IntakeConfig's gateway says.
//
// For each referral it maps the item with the spec, gates it with the
// policy, finds the child's case by UNHCR individual number (none: creates
// it, owned by the intake user; one: adds the service and fills what is
// missing; several: does not guess), and answers once per intervention:
// delivered, with the Primero case_id and owner, or (DTP) "Delivery Fail"
// with a reason.
//
// # DTP
//
// Mount the flow with progres.NewHandler(..., intake.HandlerOption()).
// OnReferral returns nil only once the item is durably handled (case
// written, state committed, feedback sent), so the Handler's per-item
// answer makes DTP deliver again exactly what did not go through. An item
// the Handler refused for its data goes to OnInvalidReferral, which answers
// it alone: the other items of its notification are delivered as usual.
// RunOnce reports what the pushes did since the last call.
//
// An intervention with several languages arrives as several items: each
// adds its language to the case, the service row is the same one, and the
// feedback goes once. DTP has no read API: when DTP's answer to a feedback
// is lost, the item is handled again on re-delivery and the feedback sent
// again with the same body, which proGres applies as a status set. One
// process should serve the inbound endpoint (the flow's audit trail has one
// writer).
//
// # PING
//
// RunOnce reads the pending list (SHP-2747) and each intervention's detail
// rows (SHP-2358, one per language or specific need, grouped here and their
// languages collected), writes as above, and for each intervention delivered
// sends one transfer-status update "Pending" with the Primero case_id and
// owner (SHP-2748), which takes it off the pending list.
//
// PING has no failure status for an intervention (none is known;
// unconfirmed): one that cannot be delivered stays pending, is reported in
// Stats.Errors and the audit trail on every run, and is delivered once it is
// fixed. One whose status update fails is delivered again next run (writing
// nothing new) and its status sent again.
type Intake struct {
	core *intakeCore
	dtp  *progres.DTPClient
	ping *progres.PINGClient
	mu   sync.Mutex // DTP: one item at a time: ordered rows, one trail writer
}

// NewIntake validates cfg and returns the flow, named FlowIntakeDTP or
// FlowIntakePING after its gateway.
func NewIntake(cfg IntakeConfig) (*Intake, error) {
	flow, spec := FlowIntakeDTP, SpecIntakeDTP
	if cfg.PING != nil {
		flow, spec = FlowIntakePING, SpecIntakePING
	}
	if err := oneGateway(flow, cfg.DTP, cfg.PING); err != nil {
		return nil, err
	}
	core, err := newIntakeCore(flow, progresSource, cfg, spec)
	if err != nil {
		return nil, err
	}
	return &Intake{core: core, dtp: cfg.DTP, ping: cfg.PING}, nil
}

// Name returns FlowIntakeDTP or FlowIntakePING.
func (f *Intake) Name() string { return f.core.flow }

// HandlerOption is progres.OnReferral(f.OnReferral) together with
// progres.OnInvalidReferral(f.OnInvalidReferral), for progres.NewHandler.
// A PING intake has nothing to mount: its option fails.
func (f *Intake) HandlerOption() progres.HandlerOption {
	return func(h *progres.Handler) error {
		if f.ping != nil {
			return errNoInbound(f.core.flow)
		}
		if err := progres.OnReferral(f.OnReferral)(h); err != nil {
			return err
		}
		return progres.OnInvalidReferral(f.OnInvalidReferral)(h)
	}
}

// RunOnce polls PING and delivers what is pending (PING), or returns what
// the pushes did since the last call (DTP: there is nothing to poll), so
// that a Runner reports the intake with the polling flows.
func (f *Intake) RunOnce(ctx context.Context) (Stats, error) {
	if f.ping != nil {
		return f.poll(ctx)
	}
	return f.core.takeStats(), nil
}

// mark records keys as processed, in one transaction.
func (c *intakeCore) mark(ctx context.Context, keys []string) error {
	return c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
		for _, k := range keys {
			if _, err := tx.MarkProcessed(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// countFailure counts a permanent failure; a consent denial is counted
// in Stats.Denied (by deliver) and not again as a failure.
func (c *intakeCore) countFailure(number string, out intakeOutcome) {
	if out.Code != codeConsent {
		c.count(func(s *Stats) { s.Fail(number, out.Code, errors.New("referral: "+out.Code)) })
	}
}

// feedback runs send (one answer to the source system about the referral
// number), audited before and after, and counts it.
func (c *intakeCore) feedback(ctx context.Context, number string, send func() error) error {
	tr, err := c.trails.trail(ctx, &c.cfg.Common, c.flow)
	if err != nil {
		return err
	}
	ref := progresRef(number)
	to := c.cfg.Policy.Sender()
	if _, err := tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, to, c.cfg.Policy, c.m.Hash(), consent.OutcomeIntended, codeFeedback)); err != nil {
		return fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	if err := send(); err != nil {
		c.cfg.log().LogAttrs(ctx, slog.LevelWarn, "referral feedback not sent", slog.String("flow", c.flow),
			slog.String("referral", number), slog.String("error", err.Error()))
		_, _ = tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, to, c.cfg.Policy, c.m.Hash(), consent.OutcomeFailed, codeFeedback))
		c.count(func(s *Stats) { s.Fail(number, codeFeedback, err) })
		return fmt.Errorf("referral: %s: feedback: %w", c.flow, err)
	}
	if _, err := tr.Append(ctx, consent.DeliveryEvent(c.flow, ref, to, c.cfg.Policy, c.m.Hash(), consent.OutcomeDelivered, codeFeedback)); err != nil {
		return fmt.Errorf("referral: %s: audit: %w", c.flow, err)
	}
	c.count(func(s *Stats) { s.Sent++ })
	return nil
}
