package referral

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// dtpDecisions is the DTP flow's gateway: whether DTP has had the
// intake's feedback about an intervention, and the send.
func dtpDecisions(st sqlsink.State, dtp *progres.DTPClient) (answered func(context.Context, string) (bool, error), send func(context.Context, *decision) error) {
	// DTP delivers a referral again until the intake's feedback went, and
	// the intake marks it sent only after DTP took it: the mark is sure.
	answered = func(ctx context.Context, number string) (bool, error) {
		return st.Processed(ctx, FlowIntakeDTP, "fed:"+number)
	}
	send = func(ctx context.Context, d *decision) error {
		return dtp.Feedback.Send(ctx, &progres.Feedback{InterventionNumber: d.text("progres_interventionnumber"),
			Status: progres.FeedbackStatus(d.text("status")), CaseID: d.text("case_id"), PrimeroUser: d.text("primero_user"),
			ClosureReason: d.text("closure_reason")})
	}
	return answered, send
}

// pingSend sends one decision as a PING transfer status.
func (c *DecisionsOut) pingSend(ctx context.Context, d *decision) error {
	lp, unit, err := pingIntervention(ctx, c.cfg.State, d.number())
	if err != nil {
		return err
	}
	up := progres.TransferUpdate{CaseID: d.text("case_id"), LPInterventionID: lp, BusinessUnit: unit,
		Date: c.cfg.now().Format(time.DateOnly), PrimeroCaseworker: d.text("primero_user")}
	switch d.text("ping_status") {
	case strconv.Itoa(int(progres.TransferAcknowledged)):
		up.Status, up.Comment = progres.TransferAcknowledged, "Referral acknowledged by PRIMERO"
	case strconv.Itoa(int(progres.TransferRejected)):
		up.Status, up.Comment = progres.TransferRejected, "Referral rejected by PRIMERO"
		if r := d.text("closure_reason"); r != "" && r != progres.NoReasonSpecified {
			up.Comment += ": " + r
		}
	default:
		return errPINGStatus
	}
	return c.cfg.PING.Interventions.SetTransferStatus(ctx, up)
}

// errPINGStatus is a spec whose ping_status is not a decision code.
var errPINGStatus = errors.New("referral: the decision spec's ping_status is not 125080003 or 125080004")

// pingAnswered reports whether PING has had the PING intake's status
// update about an intervention: the intake marked it sent, or (its answer
// lost after PING applied it) PING no longer lists the intervention as
// pending. The pending list is read at most once per run, and only when a
// decision's intervention is not marked.
func pingAnswered(st sqlsink.State, ping *progres.PINGClient) (answered func(context.Context, string) (bool, error), begin func()) {
	var pending map[string]bool // this run's pending list; nil: not read yet
	begin = func() { pending = nil }
	answered = func(ctx context.Context, number string) (bool, error) {
		if ok, err := st.Processed(ctx, FlowIntakePING, "fed:"+number); err != nil || ok {
			return ok, err
		}
		if pending == nil {
			list := map[string]bool{}
			for p, err := range ping.Interventions.Pending(ctx) {
				if err != nil {
					return false, fmt.Errorf("referral: %s: pending list: %w", FlowDecisionsPING, err)
				}
				list[p.InterventionNumber] = true
			}
			pending = list
		}
		return !pending[number], nil
	}
	return answered, begin
}
