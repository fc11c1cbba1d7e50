package referral

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/sqlsink"
)

// PING addresses an intervention by its proGres id and business unit, not
// by its number: the PING intake links the number to both (kind
// "ping-intervention", to the system "progres-ping" and the id
// "<progres_lpinterventionid>:<progres_businessunit>"), and the PING
// decision flow reads the link back.

const (
	linkPINGIntervention = "ping-intervention"
	systemPING           = "progres-ping"
)

// errNoInterventionLink is a decision on an intervention the PING intake
// did not link.
var errNoInterventionLink = errors.New("referral: no_intervention_link: the intervention did not come through the PING intake")

// putPINGIntervention links the intervention number to its PING ids.
func putPINGIntervention(ctx context.Context, tx sqlsink.StateTx, number, lpID, unit string) error {
	if lpID == "" || unit == "" || strings.Contains(lpID, ":") {
		return fmt.Errorf("referral: intervention %s: progres_lpinterventionid and progres_businessunit are required", number)
	}
	return tx.PutLink(ctx, sqlsink.Link{Kind: linkPINGIntervention, From: progresRef(number),
		To: consent.RecordRef{System: systemPING, ID: lpID + ":" + unit}})
}

// pingIntervention reads the PING ids of an intervention number.
func pingIntervention(ctx context.Context, st sqlsink.State, number string) (lpID, unit string, err error) {
	id, ok, err := st.LinkTo(ctx, linkPINGIntervention, progresRef(number), systemPING)
	if err != nil {
		return "", "", err
	}
	lpID, unit, found := strings.Cut(id, ":")
	if !ok || !found {
		return "", "", errNoInterventionLink
	}
	return lpID, unit, nil
}
