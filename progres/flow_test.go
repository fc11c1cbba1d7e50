package progres_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The two DTP flows the referral package builds, written on this API and
// run through the real handler and the fake over HTTPS: a proGres referral
// is received and acknowledged; a referral to UNHCR is sent with its
// composite key and UNHCR's decision on it comes back and is matched.
func TestTwoWayDTPFlowsThroughTheFake(t *testing.T) {
	var dtp *progrestest.DTPServer
	var client *progres.DTPClient
	var decided []progres.ReferralKey
	h, err := progres.NewHandler(progres.WithAPIKey("", inboundKey),
		progres.OnReferral(func(ctx context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
			if missing := d.Item.Missing(); len(missing) > 0 {
				return client.Feedback.Send(ctx, progres.DeliveryFailed(d.Item.InterventionNumber, progres.ReasonMissingFields))
			}
			// ... create or update the Primero case, keyed by d.Key and the intervention number ...
			return client.Feedback.Send(ctx, progres.Delivered(d.Item.InterventionNumber, "case-"+d.Item.IndividualID, "intake_user"))
		}),
		progres.OnDecision(func(_ context.Context, d progres.Delivery[*progres.IncomingReferralDecision]) error {
			decided = append(decided, d.Item.OrgReferralID)
			return nil
		}))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	dtp = progrestest.NewDTPServer(t, progrestest.WithInbound(srv.URL, inboundKey))
	client = newDTP(t, dtp)
	ctx := context.Background()

	// proGres → Primero, with one incomplete referral.
	incomplete := progrestest.SyntheticReferral(2)
	delete(incomplete[0], "individuals.progres_familyname")
	dtp.QueueReferral(append(progrestest.SyntheticReferral(1), incomplete...)...)
	n, err := dtp.Push(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	fb := dtp.Feedback()
	require.Len(t, fb, 2, "every item gets exactly one outcome (pitfall 31)")
	assert.Equal(t, "Pending Acknowledgement", fb[0]["status"])
	assert.Equal(t, progrestest.InterventionNumber(1), fb[0]["progres_interventionnumber"])
	assert.Equal(t, "Delivery Fail", fb[1]["status"])
	assert.Equal(t, progrestest.InterventionNumber(2), fb[1]["progres_interventionnumber"])

	// Primero → proGres, and the decision back.
	ref := sampleReferral(t)
	require.NoError(t, client.Referrals.Send(ctx, ref))
	sent := dtp.Referrals()[0]["id"].(string)
	dtp.QueueDecision(progrestest.SyntheticDecision(1, sent, false))
	_, err = dtp.Push(ctx)
	require.NoError(t, err)
	require.Len(t, decided, 1)
	assert.Equal(t, ref.ID, decided[0])
	assert.True(t, decided[0].MatchesService(testServiceID))
}
