package main

import (
	"log/slog"
	"net/http"

	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

// flows builds the referral flows for the gateway, in the order they run
// in a cycle, and the handler of the inbound endpoint (DTP only; nil with
// PING).
func flows(cfg config, c *clients, state sqlsink.State, log *slog.Logger) ([]referral.Flow, http.Handler, error) {
	_, _, _, _ = cfg, c, state, log
	return nil, nil, nil
}
