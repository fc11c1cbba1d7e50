package referral

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/sqlsink"
)

// poll is the PING intake's run. It reads the whole pending list first
// (setting a status takes an intervention off the list, which would shift
// the pages being read), then delivers each intervention. A failure of one
// intervention is counted and the next one tried; the run fails only when
// PING cannot be read or ctx ends.
func (f *Intake) poll(ctx context.Context) (Stats, error) {
	c := f.core
	c.takeStats() // this run's stats only
	var pending []*progres.PendingIntervention
	for p, err := range f.ping.Interventions.Pending(ctx) {
		var rowErr *progres.RowError
		if errors.As(err, &rowErr) {
			// One unreadable row is reported; the others are delivered.
			c.count(func(s *Stats) { s.Fail(rowKey(rowErr), codeInvalidRow, err) })
			continue
		}
		if err != nil {
			return c.takeStats(), fmt.Errorf("referral: %s: pending list: %w", c.flow, err)
		}
		pending = append(pending, p)
	}
	for _, p := range pending {
		if err := ctx.Err(); err != nil {
			return c.takeStats(), err
		}
		if err := f.one(ctx, p); err != nil && ctx.Err() != nil {
			return c.takeStats(), err
		}
	}
	return c.takeStats(), nil
}

// one delivers one pending intervention and sets its transfer status.
func (f *Intake) one(ctx context.Context, p *progres.PendingIntervention) error {
	c := f.core
	rows, err := f.ping.Interventions.Detail(ctx, p.LPInterventionID)
	if err != nil {
		c.count(func(s *Stats) { s.Fail(p.InterventionNumber, "progres", err) })
		return err
	}
	for _, g := range groupRows(rows) {
		c.count(func(s *Stats) { s.Received++ })
		first := g[0]
		if first.LPInterventionID != "" && first.LPInterventionID != p.LPInterventionID {
			// The detail answered rows of another intervention: the status
			// update below names the pending one, so these are not ours.
			c.count(func(s *Stats) {
				s.Fail(p.LPInterventionID, codeInvalidData, errors.New("referral: detail rows of another intervention"))
			})
			continue
		}
		recs := make([]mapping.Record, len(g))
		for i, r := range g {
			recs[i] = r.Record()
		}
		number := first.InterventionNumber
		ref, ok := referralRef("progres", number, p.LPInterventionID)
		if !ok || !isKey(p.LPInterventionID) {
			c.count(func(s *Stats) {
				s.Fail(ref.ID, codeInvalidData, errors.New("referral: intervention ids are not identifiers"))
			})
			continue
		}
		out, err := c.deliver(ctx, c.newIntakeItem(ref, first.IndividualID, first.ServiceType, first.BusinessUnit, recs))
		if err != nil {
			c.count(func(s *Stats) { s.Fail(number, codePrimero, err) })
			return err
		}
		if out.failed() {
			c.countFailure(number, out)
			continue
		}
		unit := first.BusinessUnit
		if unit == "" {
			unit = p.BusinessUnit
		}
		if err := c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
			return putPINGIntervention(ctx, tx, number, p.LPInterventionID, unit)
		}); err != nil {
			c.count(func(s *Stats) { s.Fail(number, codeState, err) })
			return err
		}
		up := progres.TransferUpdate{CaseID: out.CaseID, LPInterventionID: p.LPInterventionID, BusinessUnit: unit,
			Status: progres.TransferPending, Date: c.cfg.now().Format(time.DateOnly), PrimeroCaseworker: out.Owner}
		if err := c.feedback(ctx, number, func() error { return f.ping.Interventions.SetTransferStatus(ctx, up) }); err != nil {
			return err
		}
		if err := c.cfg.State.Update(ctx, c.flow, func(tx sqlsink.StateTx) error {
			_, err := tx.MarkProcessed(ctx, "fed:"+number)
			return err
		}); err != nil {
			return err
		}
		c.cfg.observe(ctx, c.flow, out.Referral)
	}
	return nil
}

// groupRows groups detail rows by intervention number, in first-seen
// order: the rows of one intervention differ only in their language or
// specific need.
func groupRows(rows []*progres.InterventionRow) [][]*progres.InterventionRow {
	idx := map[string]int{}
	var out [][]*progres.InterventionRow
	for _, r := range rows {
		i, ok := idx[r.InterventionNumber]
		if !ok {
			i = len(out)
			idx[r.InterventionNumber] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

// rowKey names an unreadable PING list row in a run's report by its
// position.
func rowKey(e *progres.RowError) string { return "row:" + strconv.Itoa(e.Index) }
