package referral

import (
	"fmt"

	"github.com/casebridge/casebridge/progres"
)

// oneGateway checks that a flow is configured with exactly one proGres
// gateway: DTP or PING.
func oneGateway(flow string, dtp *progres.DTPClient, ping *progres.PINGClient) error {
	switch {
	case dtp == nil && ping == nil:
		return fmt.Errorf("referral: %s: DTP or PING is required", flow)
	case dtp != nil && ping != nil:
		return fmt.Errorf("referral: %s: set DTP or PING, not both", flow)
	}
	return nil
}

// errNoInbound is the error of a PING flow asked for its DTP callbacks:
// PING pushes nothing, the flow polls.
func errNoInbound(flow string) error {
	return fmt.Errorf("referral: %s: a PING flow has no inbound handler: run it (RunOnce, Runner) instead", flow)
}
