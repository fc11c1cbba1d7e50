package referral_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/casebridge/casebridge/referral"
	"github.com/casebridge/casebridge/sqlsink"
)

// gambellaPrimero starts a Primero fake with the Gambella lookups and an
// intake user, and returns it with a client.
func gambellaPrimero() (*primerotest.Server, *primero.Client) {
	s, err := primerotest.Start()
	if err != nil {
		panic(err)
	}
	s.AddLookup("lookup-gender", "male", "female", "other_b25f252", "unknown_4b34795")
	s.AddLookup("lookup-service-type", "alternative_care", "focuses_non_specialized_mhpss_care", "food", "other_please_specify")
	s.AddUser(primerotest.User{UserName: "progres_intake", Password: "synthetic-pass-intake", Agency: primerotest.DefaultAgency, Permission: "all"})
	c, err := primero.New(s.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	if err != nil {
		panic(err)
	}
	return s, c
}

// The proGres intake over DTP: the flow's callback is mounted in a
// progres.Handler where DTP pushes; each intervention becomes a service on
// the child's Primero case and is answered once.
func ExampleNewIntake() {
	ctx := context.Background()
	pSrv, pc := gambellaPrimero()
	defer pSrv.Close()
	policy, _ := referral.Policy(referral.PolicyIntake) // a deployment loads its signed agreement

	// The endpoint DTP pushes to: its address first, its handler once the
	// intake exists.
	inbound := httptest.NewUnstartedServer(nil)
	defer inbound.Close()
	dtp, err := progrestest.StartDTP(progrestest.WithInbound("http://"+inbound.Listener.Addr().String(), "synthetic-inbound-key-0001"))
	if err != nil {
		panic(err)
	}
	defer dtp.Close()
	client, _ := progres.NewDTP(dtp.BaseURL(), progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificate(dtp.ClientCert().TLS), progres.WithRootCAs(dtp.CA().Pool()))

	intake, err := referral.NewIntake(referral.IntakeConfig{
		Common: referral.Common{State: sqlsink.NewMemoryState(), Policy: policy,
			// Where referrals stand, identifiers and status only.
			Observe: func(_ context.Context, flow string, r referral.Referral) {
				fmt.Println(flow, r.Key.ID, r.Status, r.Person["progres"], r.Services[0].Type)
			}},
		Primero:      pc,
		DTP:          client,
		DefaultOwner: "progres_intake",
	})
	if err != nil {
		panic(err)
	}
	h, _ := progres.NewHandler(progres.WithAPIKey("", "synthetic-inbound-key-0001"), intake.HandlerOption())
	inbound.Config.Handler = h
	inbound.Start()

	items := progrestest.SyntheticReferral(1, "Nuer", "Somali") // one intervention, two languages
	for _, it := range items {
		it["progres_consentforreferral"] = true
	}
	dtp.QueueReferral(items...)
	if _, err := dtp.Push(ctx); err != nil {
		panic(err)
	}
	stats, _ := intake.RunOnce(ctx) // what the pushes did
	fmt.Println(stats)
	for _, fb := range dtp.Feedback() {
		fmt.Println(fb["progres_interventionnumber"], fb["status"])
	}
	// Output:
	// progres-intake-dtp 000-23-PRTITV-0000001 pending 000-00000001 alternative_care
	// progres-intake-dtp: received 2, created 1, updated 1, sent 1, decided 0, unchanged 0, denied 0, failed 0
	// 000-23-PRTITV-0000001 Pending Acknowledgement
}

// The decisions flow: when a caseworker accepts or rejects the service a
// proGres referral created, proGres is told once. The first run reads
// from Start; later runs from the stored cursor.
func ExampleNewDecisionsOut() {
	ctx := context.Background()
	pSrv, pc := gambellaPrimero()
	defer pSrv.Close()
	ping, err := progrestest.StartPING()
	if err != nil {
		panic(err)
	}
	defer ping.Close()
	cfg := ping.Config()
	pg, _ := progres.NewPING(ping.URL(), progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithPasswordGrant(progres.PasswordGrant{Origin: ping.URL(), Tenant: cfg.Tenant, Policy: cfg.Policy,
			ClientID: cfg.ClientID, Scope: cfg.Scope, Username: cfg.Username, Password: cfg.Password}),
		progres.WithDeployment(cfg.PartnerID, cfg.InteropID))
	state := sqlsink.NewMemoryState()
	intakePolicy, _ := referral.Policy(referral.PolicyIntake)
	decisionPolicy, _ := referral.Policy(referral.PolicyDecisionsOut)

	// A referral arrives through PING and is delivered.
	ping.AddRows(progrestest.SHPPendingInterventions, progrestest.SyntheticPendingRow(1))
	rows := progrestest.SyntheticDetailRows(1)
	rows[0]["progres_consentforreferral"] = true
	ping.AddRows(progrestest.SHPInterventionDetail, rows...)
	intake, _ := referral.NewIntake(referral.IntakeConfig{Common: referral.Common{State: state, Policy: intakePolicy},
		Primero: pc, PING: pg, DefaultOwner: "progres_intake"})
	if _, err := intake.RunOnce(ctx); err != nil {
		panic(err)
	}

	// A caseworker accepts it.
	c := pSrv.Cases()[0]
	svc := c["services_section"].([]any)[0].(map[string]any)
	_, _ = pc.Cases.Update(ctx, c["id"].(string), primero.Patch{}.UpdateRow("services_section", svc["unique_id"].(string),
		map[string]any{"unhcr_referral_status": "accepted"}))

	decisions, err := referral.NewDecisionsOut(referral.DecisionsOutConfig{Common: referral.Common{State: state, Policy: decisionPolicy},
		Primero: pc, PING: pg, Start: time.Now().Add(-time.Hour)})
	if err != nil {
		panic(err)
	}
	for range 2 {
		stats, err := decisions.RunOnce(ctx)
		fmt.Println(stats.Decided, err)
	}
	// Output:
	// 1 <nil>
	// 0 <nil>
}
