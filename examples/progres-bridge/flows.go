package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

// flows builds the referral flows for the gateway, in the order they run
// in a cycle, and the handler of the inbound endpoint (DTP only; nil with
// PING). Each flow uses the embedded Gambella mapping spec and synthetic
// policy (referral.Spec, referral.Policy); a deployment replaces them
// with the ones its agreement names.
func flows(cfg config, c *clients, state sqlsink.State, log *slog.Logger, rep *report) ([]referral.Flow, http.Handler, error) {
	common := func(policy string) (referral.Common, error) {
		p, err := referral.Policy(policy)
		if err != nil {
			return referral.Common{}, fmt.Errorf("policy %s: %w", policy, err)
		}
		return referral.Common{State: state, Policy: p, Logger: log}, nil
	}

	// 1. proGres referrals → Primero cases (and feedback to proGres).
	intakeCommon, err := common(referral.PolicyIntake)
	if err != nil {
		return nil, nil, err
	}
	intake := referral.IntakeConfig{Common: intakeCommon, Primero: c.primero, DefaultOwner: cfg.intakeUser}
	var out []referral.Flow
	var handlerOpts []progres.HandlerOption
	if c.dtp != nil {
		f, err := referral.NewDTPIntake(referral.DTPIntakeConfig{IntakeConfig: intake, DTP: c.dtp})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, f)
		handlerOpts = append(handlerOpts, f.HandlerOption())
	} else {
		f, err := referral.NewPINGIntake(referral.PINGIntakeConfig{IntakeConfig: intake, PING: c.ping})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, f)
	}

	if c.dtp == nil {
		return out, nil, nil
	}
	h, err := progres.NewHandler(append([]progres.HandlerOption{
		progres.WithAPIKey("", cfg.inboundKey), progres.WithHandlerLogger(log)}, handlerOpts...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("inbound handler (%s): %w", envInboundKey, err)
	}
	return out, h, nil
}
