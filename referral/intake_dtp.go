package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/progres"
)

// OnReferral handles one pushed item; see Intake.
func (f *Intake) OnReferral(ctx context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
	if f.dtp == nil {
		return errNoInbound(f.core.flow)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.core
	c.count(func(s *Stats) { s.Received++ })
	it := d.Item
	if it == nil {
		return errors.New("referral: nil referral item")
	}
	number := it.InterventionNumber
	ref, ok := referralRef("progres", number, string(d.Key))
	itemKey := "item:" + string(d.Key)
	if done, err := c.cfg.State.Processed(ctx, c.flow, itemKey); err != nil {
		c.count(func(s *Stats) { s.Fail(number, codeState, err) })
		return err
	} else if done {
		c.count(func(s *Stats) { s.Unchanged++ })
		return nil
	}
	agency := it.BusinessUnit
	if it.UserPartner != nil && it.UserPartner.Name != "" {
		agency = it.UserPartner.Name
	}
	item := c.newIntakeItem(ref, it.IndividualID, it.ServiceType, agency, []mapping.Record{it.Record()})
	var out intakeOutcome
	var err error
	if !ok {
		// A number no key can hold: refused before anything is written,
		// audited under the delivery's key.
		out, err = c.refuse(ctx, item, codeInvalidData)
	} else {
		out, err = c.deliver(ctx, item)
	}
	if err != nil {
		c.count(func(s *Stats) { s.Fail(ref.ID, codePrimero, err) })
		return err
	}
	return f.answer(ctx, number, ref.ID, itemKey, out)
}

// OnInvalidReferral answers an item the Handler refused for its own data;
// see progres.OnInvalidReferral. Nothing of it is written in Primero. It
// is audited (failed:invalid_item), counted in Stats.Failed with code
// "invalid_item", and answered "Delivery Fail" with
// progres.ReasonInvalidData, once per delivery key: DTP sending the same
// item again is counted Unchanged and answered nothing more. As for any
// failure, an intervention already answered "Pending Acknowledgement" is
// not answered again: a later broken copy does not turn proGres's status
// into a failure. It returns nil once the answer is sent and recorded, so
// the Handler counts the item handled (200 when the rest is): DTP need
// not send again an item that can only fail again.
//
// An item without a valid intervention number cannot be answered: a
// "Delivery Fail" is addressed by that number. It is audited and counted
// under its delivery key, with errUnanswerable, and OnInvalidReferral
// returns progres.ErrNotAnswered, so the Handler answers the notification
// 422 naming the item and its refused fields: that answer is the only
// thing DTP learns of it. A re-delivery is counted Unchanged and answered
// the same way.
func (f *Intake) OnInvalidReferral(ctx context.Context, d progres.InvalidDelivery) error {
	if f.dtp == nil {
		return errNoInbound(f.core.flow)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.core
	c.count(func(s *Stats) { s.Received++ })
	number := d.InterventionNumber
	ref, _ := referralRef("progres", number, string(d.Key))
	itemKey := "item:" + string(d.Key)
	failKey := itemKey + ":failed:" + codeInvalidItem
	done, err := c.cfg.State.Processed(ctx, c.flow, failKey)
	if err != nil {
		c.count(func(s *Stats) { s.Fail(ref.ID, codeState, err) })
		return err
	}
	var unanswered error
	if number == "" {
		unanswered = fmt.Errorf("referral: %s: %w", c.flow, progres.ErrNotAnswered)
	}
	if done {
		c.count(func(s *Stats) { s.Unchanged++ })
		return unanswered
	}
	c.cfg.log().LogAttrs(ctx, slog.LevelWarn, "referral intake item invalid", slog.String("flow", c.flow),
		slog.String("referral", ref.ID), slog.Bool("answerable", number != ""), slog.Any("paths", fieldPaths(d.Err)))
	if _, err := c.refuse(ctx, intakeItem{Referral: Referral{Key: ref}}, codeInvalidItem); err != nil {
		c.count(func(s *Stats) { s.Fail(ref.ID, codeState, err) })
		return err
	}
	if number != "" {
		return f.answer(ctx, number, ref.ID, itemKey, intakeOutcome{Code: codeInvalidItem})
	}
	c.count(func(s *Stats) { s.Fail(ref.ID, codeInvalidItem, errUnanswerable) })
	if err := c.mark(ctx, []string{failKey}); err != nil {
		return err
	}
	return unanswered
}

// fieldPaths lists the refused fields' paths: names the proGres decoder
// knows, never a value.
func fieldPaths(ve *progres.ValidationError) []string {
	if ve == nil {
		return nil
	}
	out := make([]string, len(ve.Fields))
	for i, fe := range ve.Fields {
		out[i] = fe.Path
	}
	return out
}

// answer sends the intervention's feedback unless it was sent, then marks
// the item handled. Delivered feedback goes once per intervention; a
// failure is answered once per item and outcome.
func (f *Intake) answer(ctx context.Context, number, refID, itemKey string, out intakeOutcome) error {
	c := f.core
	fedKey := "fed:" + refID
	var fb *progres.Feedback
	marks := []string{itemKey}
	if out.failed() {
		c.countFailure(refID, out)
		failKey := itemKey + ":failed:" + out.Code
		marks = []string{failKey}
		for _, k := range []string{failKey, fedKey} {
			done, err := c.cfg.State.Processed(ctx, c.flow, k)
			if err != nil {
				return err
			}
			if done && k == failKey {
				return nil // this very failure was answered
			}
			if done {
				return c.mark(ctx, marks) // answered "delivered" already: no failure after it
			}
		}
		fb = progres.DeliveryFailed(number, closureReason(out.Code))
	} else {
		done, err := c.cfg.State.Processed(ctx, c.flow, fedKey)
		if err != nil {
			return err
		}
		if !done {
			fb = progres.Delivered(number, out.CaseID, out.Owner)
			marks = append(marks, fedKey)
		}
	}
	if fb != nil {
		if err := f.sendFeedback(ctx, refID, fb); err != nil {
			return err
		}
	}
	if err := c.mark(ctx, marks); err != nil {
		return err
	}
	if fb != nil && !out.failed() {
		c.cfg.observe(ctx, c.flow, out.Referral)
	}
	return nil
}

// sendFeedback sends one feedback body, audited as a delivery to proGres
// about the referral refID.
func (f *Intake) sendFeedback(ctx context.Context, refID string, fb *progres.Feedback) error {
	return f.core.feedback(ctx, refID, func() error { return f.dtp.Feedback.Send(ctx, fb) })
}
