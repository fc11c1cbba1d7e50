package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

// flows builds the referral flows for the gateway, in the order they run
// in a cycle, and the handler of the inbound endpoint (DTP only; nil with
// PING). Each flow uses the embedded Gambella mapping spec and synthetic
// policy; a deployment replaces them with the ones its agreement names.
//
//  1. proGres referrals → Primero cases, answered with delivery feedback
//     (referral.Intake: pushed through DTP, polled through PING);
//  2. Primero caseworkers' decisions on them → proGres
//     (referral.DecisionsOut, polled from Primero);
//  3. Primero referrals to the UNHCR user → proGres (referral.Outbound),
//     which also notices consent withdrawn on a case already shared;
//  4. proGres decisions on those → the Primero referrals
//     (referral.DecisionsIn: pushed through DTP, polled through PING).
func flows(cfg config, c *clients, state sqlsink.State, log *slog.Logger, rep *report) ([]referral.Flow, http.Handler, error) {
	b := &flowBuilder{state: state, log: log}
	var onInbound []progres.HandlerOption

	// 1. Intake.
	in, err := referral.NewIntake(referral.IntakeConfig{Common: b.common(referral.PolicyIntake), Primero: c.primero,
		DTP: c.dtp, PING: c.ping, DefaultOwner: cfg.intakeUser})
	if b.add(in, err) && c.dtp != nil {
		onInbound = append(onInbound, in.HandlerOption())
	}

	// 2. Primero's decisions on those referrals.
	b.add(referral.NewDecisionsOut(referral.DecisionsOutConfig{Common: b.common(referral.PolicyDecisionsOut), Primero: c.primero,
		DTP: c.dtp, PING: c.ping, Start: cfg.start}))

	// 3. Primero referrals to the UNHCR user → proGres, and revocation.
	b.add(referral.NewOutbound(referral.OutboundConfig{Common: b.common(referral.PolicyOutbound), Primero: c.primero,
		DTP: c.dtp, PING: c.ping, Recipient: cfg.unhcrUser, ImplementingAgency: cfg.unhcrAgency, Start: cfg.start,
		OnRevocation: rep.revoked}))

	// 4. proGres decisions on those → the Primero referrals.
	d, err := referral.NewDecisionsIn(referral.DecisionsInConfig{Common: b.common(referral.PolicyIntake), Primero: c.primero,
		PING: c.ping, Recipient: cfg.unhcrUser})
	if b.add(d, err) && c.dtp != nil {
		onInbound = append(onInbound, d.HandlerOption())
	}

	if b.err != nil {
		return nil, nil, b.err
	}
	if c.dtp == nil {
		return b.flows, nil, nil
	}
	h, err := progres.NewHandler(append([]progres.HandlerOption{
		progres.WithAPIKey("", cfg.inboundKey), progres.WithHandlerLogger(log)}, onInbound...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("inbound handler (%s): %w", envInboundKey, err)
	}
	return b.flows, h, nil
}

// flowBuilder collects flows from their constructors and keeps the first
// error.
type flowBuilder struct {
	state sqlsink.State
	log   *slog.Logger
	flows []referral.Flow
	err   error
}

// common is the flows' shared configuration with the named embedded
// policy.
func (b *flowBuilder) common(policy string) referral.Common {
	p, err := referral.Policy(policy)
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("policy %s: %w", policy, err)
	}
	return referral.Common{State: b.state, Policy: p, Logger: b.log}
}

// add appends the flow a constructor returned, and reports whether it did
// (false after any error).
func (b *flowBuilder) add(f referral.Flow, err error) bool {
	if b.err != nil {
		return false
	}
	if err != nil {
		b.err = err
		return false
	}
	b.flows = append(b.flows, f)
	return true
}

// revoked is the outbound flow's OnRevocation: proGres has no interface
// through which to be told that consent was withdrawn (the pilot agreed a
// manual procedure), so the bridge says so in its report, with the case's
// id only, for a person to follow the procedure. The flow has already
// blocked the case (nothing more is sent about it, no decision on it is
// applied) and recorded the revocation in its audit trail.
func (r *report) revoked(_ context.Context, rev consent.Revocation) error {
	r.printf("  Consent withdrawn on Primero case %s, shared with %s on %s: nothing more goes to them; tell them by the agreed manual procedure.\n",
		rev.Record.ID, rev.Recipient, rev.SharedAt.UTC().Format("2006-01-02"))
	return nil
}
