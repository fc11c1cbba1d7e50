package referral_test

import (
	"context"
	"fmt"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

// The outbound flow sends the referrals Primero caseworkers make to the
// UNHCR user on to proGres, here through the DTP fake.
func ExampleNewOutbound() {
	fake, err := primerotest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fake.Close()
	dtp, err := progrestest.StartDTP()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dtp.Close()

	pc, err := primero.New(fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	if err != nil {
		fmt.Println(err)
		return
	}
	dc, err := progres.NewDTP(dtp.BaseURL(), progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificate(dtp.ClientCert().TLS), progres.WithRootCAs(dtp.CA().Pool()))
	if err != nil {
		fmt.Println(err)
		return
	}
	policy, err := referral.Policy(referral.PolicyOutbound)
	if err != nil {
		fmt.Println(err)
		return
	}
	flow, err := referral.NewOutbound(referral.OutboundConfig{
		Common:    referral.Common{State: sqlsink.NewMemoryState(), Policy: policy},
		Primero:   pc,
		DTP:       dc,
		Recipient: "unhcr_cw",
		// The first run reads changes from here; later runs from the
		// stored cursor.
		Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		// The deployment decides how UNHCR is told about a withdrawal.
		OnRevocation: func(ctx context.Context, r consent.Revocation) error {
			fmt.Println("tell UNHCR: consent withdrawn on", r.Record.ID)
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err := flow.RunOnce(context.Background())
	fmt.Println(stats, err)
	// Output:
	// primero-referrals-dtp: received 0, created 0, updated 0, sent 0, decided 0, unchanged 0, denied 0, failed 0 <nil>
}

// The decisions flow applies proGres's decisions to the Primero
// referrals: on DTP its OnDecision is the inbound handler's callback, and
// RunOnce reports what the callbacks did.
func ExampleNewDecisionsIn() {
	fake, err := primerotest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fake.Close()
	pc, err := primero.New(fake.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	if err != nil {
		fmt.Println(err)
		return
	}
	policy, err := referral.Policy(referral.PolicyOutbound)
	if err != nil {
		fmt.Println(err)
		return
	}
	flow, err := referral.NewDecisionsIn(referral.DecisionsInConfig{
		Common:    referral.Common{State: sqlsink.NewMemoryState(), Policy: policy},
		Primero:   pc,
		Recipient: "unhcr_cw",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	handler, err := progres.NewHandler(progres.WithAPIKey("", "synthetic-inbound-key-0001"), progres.OnDecision(flow.OnDecision))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = handler // mount it in the server DTP pushes to
	stats, err := flow.RunOnce(context.Background())
	fmt.Println(stats, err)
	// Output:
	// progres-decisions-dtp: received 0, created 0, updated 0, sent 0, decided 0, unchanged 0, denied 0, failed 0 <nil>
}
