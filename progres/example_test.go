package progres_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
)

// Send a referral to UNHCR through DTP, presenting a client certificate.
func ExampleNewDTP() {
	dtp, err := progrestest.StartDTP()
	if err != nil {
		log.Fatal(err)
	}
	defer dtp.Close()

	c, err := progres.NewDTP(dtp.BaseURL(),
		progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificate(dtp.ClientCert().TLS), // or WithClientCertificateFiles(certPEM, keyPEM)
		progres.WithRootCAs(dtp.CA().Pool()),                // a private CA; omit for public roots
	)
	if err != nil {
		log.Fatal(err)
	}
	key, err := progres.NewReferralKey("3f2a9c1e-5b7d-4e8a-9c0f-7e6d5c4b3a21", "8d7e6f5a-4b3c-2d1e-0f9a-1a2b3c4d5e6f")
	if err != nil {
		log.Fatal(err)
	}
	err = c.Referrals.Send(context.Background(), &progres.IncomingReferral{
		ID: key, PrimeroUser: "cw1", Position: "Case worker", Email: "cw1@example.org", Phone: "000-test",
		FullName: "Test Worker 1", ServiceImplementingAgency: "UNICEF", ServiceType: "Alternative Care",
		NameFirst: "Test", NameLast: "Child 1", Sex: "unknown",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dtp.Referrals()[0]["id"])
	// Output: 3f2a9c1e-5b7d-4e8a-9c0f-7e6d5c4b3a21#1a2b3c4d5e6f
}

// Tell DTP a referral was delivered, or why it was not.
func ExampleFeedbackService_Send() {
	dtp, _ := progrestest.StartDTP()
	defer dtp.Close()
	c, _ := progres.NewDTP(dtp.BaseURL(), progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificate(dtp.ClientCert().TLS), progres.WithRootCAs(dtp.CA().Pool()))

	ctx := context.Background()
	_ = c.Feedback.Send(ctx, progres.Delivered("000-23-PRTITV-0000001", "case-1", "intake_user"))
	_ = c.Feedback.Send(ctx, progres.DeliveryFailed("000-23-PRTITV-0000002", progres.ReasonMissingFields))
	err := c.Feedback.Send(ctx, progres.Delivered("000-23-PRTITV-0000003", "", "")) // no placeholder ids
	fmt.Println(len(dtp.Feedback()), err)
	// Output: 2 validation failed: case_id: is required; primero_user: is required
}

// Mount the inbound Handler in your own mux; each item reaches the
// callback with a delivery key that is the same when DTP sends it again.
func ExampleNewHandler() {
	h, err := progres.NewHandler(
		progres.WithAPIKey("", "synthetic-inbound-key-0001"),
		progres.OnReferral(func(ctx context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
			fmt.Println(d.Index, d.Item.InterventionNumber, d.Item.Language.Name, d.Item.Sex)
			return nil // an error makes the handler answer 500: the sender keeps the item (see OnInvalidReferral for refused items)
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /progres/notifications", h)
	srv := httptest.NewServer(mux) // in production: an http.Server with progres.ServerTLSConfig
	defer srv.Close()

	dtp, _ := progrestest.StartDTP(progrestest.WithInbound(srv.URL+"/progres/notifications", "synthetic-inbound-key-0001"))
	defer dtp.Close()
	dtp.QueueReferral(progrestest.SyntheticReferral(1, "French", "English")...)
	n, _ := dtp.Push(context.Background())
	fmt.Println("acknowledged:", n)
	// Output:
	// 0 000-23-PRTITV-0000001 French male
	// 1 000-23-PRTITV-0000001 English male
	// acknowledged: 1
}

// One item refused for its data does not hold back the others: the valid
// ones reach OnReferral, the refused one reaches OnInvalidReferral with its
// intervention number and refused fields, where a flow answers it with a
// "Delivery Fail" (returning nil: the item is handled).
func ExampleOnInvalidReferral() {
	h, err := progres.NewHandler(
		progres.WithAPIKey("", "synthetic-inbound-key-0001"),
		progres.OnReferral(func(ctx context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
			fmt.Println("delivered", d.Index, d.Item.InterventionNumber)
			return nil
		}),
		progres.OnInvalidReferral(func(ctx context.Context, d progres.InvalidDelivery) error {
			if d.InterventionNumber == "" {
				return progres.ErrNotAnswered // nothing can address a Delivery Fail
			}
			fb := progres.DeliveryFailed(d.InterventionNumber, progres.ReasonInvalidData)
			fmt.Println("refused", d.Index, fb.InterventionNumber, d.Err.Fields[0].Path)
			return nil // in a flow: send fb with DTPClient.Feedback.Send, then record it
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	dtp, _ := progrestest.StartDTP(progrestest.WithInbound(srv.URL, "synthetic-inbound-key-0001"))
	defer dtp.Close()
	items := append(progrestest.SyntheticReferral(1), progrestest.SyntheticReferral(2)...)
	items[1]["individuals.progres_sex"] = "125080009" // not a known code
	dtp.QueueReferral(items...)
	n, _ := dtp.Push(context.Background())
	fmt.Println("acknowledged:", n, "status:", dtp.PushAttempts()[0].Status)
	// Output:
	// delivered 0 000-23-PRTITV-0000001
	// refused 1 000-23-PRTITV-0000002 interventions[1].individuals.progres_sex
	// acknowledged: 1 status: 200
}

// DecodeItems refuses items one by one; DecodeNotification refuses the
// notification whole when any item is invalid.
func ExampleDecodeItems() {
	body := []byte(`{"request_type": "PrimeroOutgoingReferral", "interventions": [
		{"progres_interventionnumber": "000-23-PRTITV-0000001"},
		{"progres_interventionnumber": "000-23-PRTITV-0000002", "individuals.progres_dateofbirth": "19/07/2016"}]}`)
	b, err := progres.DecodeItems(body)
	if err != nil {
		log.Fatal(err) // the envelope itself was refused
	}
	for i, it := range b.Items {
		if it.Invalid != nil {
			fmt.Println(i, "refused:", it.Invalid.InterventionNumber, it.Invalid.Err)
			continue
		}
		fmt.Println(i, "valid:", it.Referral.InterventionNumber)
	}
	_, err = progres.DecodeNotification(body)
	fmt.Println(err)
	// Output:
	// 0 valid: 000-23-PRTITV-0000001
	// 1 refused: 000-23-PRTITV-0000002 validation failed: interventions[1].individuals.progres_dateofbirth: must be an ISO 8601 date-time
	// validation failed: interventions[1].individuals.progres_dateofbirth: must be an ISO 8601 date-time
}

// Read proGres's pending referrals from PING, page by page, lazily.
func ExampleNewPING() {
	ping, _ := progrestest.StartPING()
	defer ping.Close()
	ping.AddSyntheticInterventions(3)
	cfg := ping.Config()

	c, err := progres.NewPING(ping.URL(),
		progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithPasswordGrant(progres.PasswordGrant{
			Origin: ping.URL(), // default https://<tenant>.b2clogin.com
			Tenant: cfg.Tenant, Policy: cfg.Policy, ClientID: cfg.ClientID, Scope: cfg.Scope,
			Username: cfg.Username, Password: cfg.Password,
		}),
		progres.WithDeployment(cfg.PartnerID, cfg.InteropID),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for p, err := range c.Interventions.Pending(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		rows, err := c.Interventions.Detail(ctx, p.LPInterventionID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.InterventionNumber, len(rows), "row(s)")
	}
	// Output:
	// 000-23-PRTITV-0000001 1 row(s)
	// 000-23-PRTITV-0000002 2 row(s)
	// 000-23-PRTITV-0000003 1 row(s)
}

// Create a proGres referral by async ingestion and wait for its result.
func ExamplePINGReferralsService_Wait() {
	ping, _ := progrestest.StartPING()
	defer ping.Close()
	cfg := ping.Config()
	c, _ := progres.NewPING(ping.URL(), progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithPasswordGrant(progres.PasswordGrant{Origin: ping.URL(), Tenant: cfg.Tenant, Policy: cfg.Policy,
			ClientID: cfg.ClientID, Scope: cfg.Scope, Username: cfg.Username, Password: cfg.Password}),
		progres.WithDeployment(cfg.PartnerID, cfg.InteropID))

	ctx := context.Background()
	tx, err := c.Referrals.Create(ctx, progres.PINGReferral{CaseID: "case-1", RecordID: "record-1", Fields: []progres.Field{
		progres.F("progres_orgreferralid", "8d7e6f5a-4b3c-2d1e-0f9a-1a2b3c4d5e6f"),
		progres.F("progres_pocsex", "125080000"),
	}})
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Referrals.Wait(ctx, tx, progres.WaitOptions{Interval: 10 * time.Millisecond, Timeout: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range st.Records {
		fmt.Println(r.Data["ExternalId"], r.Members["Status"], st.Repaired)
	}
	// Output: case-1 Success true
}

// The composite key of a referral Primero sends to UNHCR through DTP.
func ExampleParseReferralKey() {
	k, err := progres.ParseReferralKey("3f2a9c1e-5b7d-4e8a-9c0f-7e6d5c4b3a21#1a2b3c4d5e6f")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.CaseID)
	fmt.Println(k.MatchesService("8d7e6f5a-4b3c-2d1e-0f9a-1a2b3c4d5e6f"))
	_, err = progres.ParseReferralKey("no-hash")
	fmt.Println(err)
	// Output:
	// 3f2a9c1e-5b7d-4e8a-9c0f-7e6d5c4b3a21
	// true
	// validation failed: referral_key: has no '#'
}
