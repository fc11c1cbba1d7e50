package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres/progrestest"
)

// The demo: Primero and the proGres gateway as in-process fakes on
// loopback, seeded with made-up children. Every name, number and address
// in it is synthetic ("Test Child 1", UNHCR numbers like 000-00000001).

// demoStart is where the polling flows start on the demo's first run: any
// time before the fakes' data, which they stamp with the current time.
var demoStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// The Primero accounts of the demo (synthetic).
const (
	demoIntakeUser = "progres_intake"
	demoUNHCRUser  = "unhcr_cw"
	demoCaseworker = "cw1"
	// demoCaseworkerPass and demoCaseworkerPhone are the caseworker's
	// synthetic password and phone (the phone goes to proGres with the
	// referrals the caseworker makes).
	demoCaseworkerPass  = "synthetic-pass-cw1"
	demoCaseworkerPhone = "000-test-cw1"
	demoAgencyUNHCR     = "agency-unhcr"
	demoServiceType     = "alternative_care"
	demoInboundKeyLn    = 16 // random bytes of the demo's inbound API key
)

// The demo's children, by their number in progrestest's synthetic data.
const (
	childNew       = 1 // referred by proGres, unknown to Primero: a case is created
	childKnown     = 2 // referred by proGres, already in Primero: the case is updated
	childNoConsent = 3 // referred by proGres without consent: denied, answered Delivery Fail
	childTwice     = 4 // referred by proGres, two Primero cases match: not guessed, Delivery Fail
	childDecided   = 5 // an earlier referral from proGres, accepted in Primero: the decision goes back
	childOutbound  = 6 // referred by a Primero caseworker to UNHCR: sent to proGres, which decides
)

// demoSystems are the fakes and what the bridge needs to talk to them.
type demoSystems struct {
	primero *primerotest.Server
	dtp     *progrestest.DTPServer  // with -gateway dtp
	ping    *progrestest.PINGServer // with -gateway ping
	// dir holds the demo's certificates; removed by close.
	dir string
	// ca issued the DTP fake's certificates, the inbound endpoint's, and
	// the client certificate the DTP fake presents when it pushes.
	ca *progrestest.CA
	// inboundKey is the API key the DTP fake pushes with (random).
	inboundKey string
	// tlsCert, tlsKey, clientCA are the inbound endpoint's files.
	tlsCert, tlsKey, clientCA string
	// inboundAddr is where the inbound endpoint listened first: a second
	// run against the same fakes listens there again, where the DTP fake
	// pushes.
	inboundAddr string
	answers     demoDecisions
	// runs counts the bridge's runs against these fakes.
	runs int
}

// newDemoSystems creates the demo's certificates (in a temporary
// directory) and starts the Primero fake, seeded. The gateway fake starts
// with startGateway, once the inbound endpoint listens.
func newDemoSystems() (_ *demoSystems, err error) {
	d := &demoSystems{}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.dir, err = os.MkdirTemp("", "progres-bridge-demo-"); err != nil {
		return nil, err
	}
	if d.ca, err = progrestest.NewCA("progres-bridge demo CA"); err != nil {
		return nil, err
	}
	server, err := d.ca.IssueServer()
	if err != nil {
		return nil, err
	}
	if d.tlsCert, d.tlsKey, err = server.WriteFiles(d.dir, "inbound"); err != nil {
		return nil, err
	}
	if d.clientCA, err = d.ca.WriteFile(d.dir, "demo-ca"); err != nil {
		return nil, err
	}
	key := make([]byte, demoInboundKeyLn)
	if _, err := rand.Read(key); err != nil {
		return nil, errors.New("no randomness for the demo's inbound key")
	}
	d.inboundKey = hex.EncodeToString(key)
	if d.primero, err = primerotest.Start(); err != nil {
		return nil, err
	}
	seedPrimero(d.primero)
	if err := referToUNHCR(d.primero); err != nil {
		return nil, fmt.Errorf("seed the referral to UNHCR: %w", err)
	}
	return d, nil
}

// configure points the inbound endpoint of cfg at the demo's
// certificates and API key.
func (d *demoSystems) configure(cfg config) config {
	cfg.tlsCert, cfg.tlsKey, cfg.clientCA, cfg.inboundKey = d.tlsCert, d.tlsKey, d.clientCA, d.inboundKey
	return cfg
}

// startGateway starts the proGres gateway fake: DTP pushing to inboundURL
// over mutual TLS, or PING.
func (d *demoSystems) startGateway(gateway, inboundURL string) error {
	if gateway == gatewayPING {
		s, err := progrestest.StartPING()
		if err != nil {
			return err
		}
		d.ping = s
		seedPING(s)
		return nil
	}
	pusher, err := d.ca.IssueClient("progres-bridge demo DTP pusher")
	if err != nil {
		return err
	}
	s, err := progrestest.StartDTP(progrestest.WithCA(d.ca),
		progrestest.WithInbound(inboundURL, d.inboundKey),
		progrestest.WithInboundTLS(d.ca.Pool(), pusher))
	if err != nil {
		return err
	}
	d.dtp = s
	seedDTP(s)
	return nil
}

// close stops the fakes and removes the certificates.
func (d *demoSystems) close() {
	if d.dtp != nil {
		d.dtp.Close()
	}
	if d.ping != nil {
		d.ping.Close()
	}
	if d.primero != nil {
		d.primero.Close()
	}
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}

// individualNumber is the UNHCR individual number of synthetic child i,
// and groupNumber its registration group's. progrestest's own synthetic
// numbers start with 0, which the state store refuses as identifiers
// (they have the shape of a national phone number), so the demo
// renumbers its children in a shape real numbers have.
func individualNumber(i int) string { return fmt.Sprintf("803-%08d", i) }

func groupNumber(i int) string { return fmt.Sprintf("803-23-%07d", i) }

// seedPrimero adds the deployment's lookups and users, and the cases the
// demo's referrals meet in Primero.
func seedPrimero(s *primerotest.Server) {
	s.AddLookup("lookup-gender", "male", "female", "other_b25f252", "unknown_4b34795")
	s.AddLookup("lookup-service-type", "alternative_care", "focuses_non_specialized_mhpss_care", "food",
		"other_please_specify", "health", "psychosocial")
	s.AddAgency(demoAgencyUNHCR, "Synthetic UNHCR")
	s.AddUser(primerotest.User{UserName: demoIntakeUser, Password: "synthetic-pass-intake", FullName: "Intake Focal Point",
		Agency: primerotest.DefaultAgency, Email: "intake@example.org", Position: "Intake focal point", Permission: "all",
		CanReceiveReferrals: true})
	s.AddUser(primerotest.User{UserName: demoUNHCRUser, Password: "synthetic-pass-unhcr", FullName: "UNHCR Recipient",
		Agency: demoAgencyUNHCR, Email: "unhcr@example.org", Position: "Caseworker", Permission: "self",
		Services: []string{"alternative_care", "focuses_non_specialized_mhpss_care", "food"}, CanReceiveReferrals: true})
	s.AddUser(primerotest.User{UserName: demoCaseworker, Password: demoCaseworkerPass, FullName: "Case Worker One",
		Agency: primerotest.DefaultAgency, Email: "cw1@example.org", Phone: demoCaseworkerPhone, Position: "Case worker",
		Permission: "all", CanReceiveReferrals: true})

	// Child 2 is known to Primero; child 4 twice (a duplicate registration).
	s.AddCase(demoCase(childKnown, "a"))
	s.AddCase(demoCase(childTwice, "a"))
	s.AddCase(demoCase(childTwice, "b"))
}

// referToUNHCR seeds child 6's case, with a service for UNHCR and
// consent recorded, and refers it to the UNHCR user as its caseworker
// would in Primero's interface.
func referToUNHCR(s *primerotest.Server) error {
	c := demoCase(childOutbound, "a")
	c["case_id"] = demoOutboundCaseID
	c["disclosure_other_orgs"] = true
	c["owned_by_agency_id"] = primerotest.DefaultAgency
	c["date_of_birth"] = "2016-07-19"
	c["services_section"] = []any{map[string]any{
		"unique_id": demoOutboundServiceID, "service_type": demoServiceType,
		"service_implementing_agency": demoAgencyUNHCR, "service_response_type": "service_provision",
	}}
	s.AddCase(c)
	cw, err := primero.New(s.URL(), primero.WithBasicAuth(demoCaseworker, demoCaseworkerPass))
	if err != nil {
		return err
	}
	_, err = cw.Referrals.Create(context.Background(), demoCaseID(childOutbound, "a"), &primero.ReferralRequest{
		TransitionedTo: demoUNHCRUser, Service: demoServiceType, ServiceRecordID: demoOutboundServiceID})
	return err
}

// The fixed ids of child 6's case and of its service for UNHCR.
const (
	demoOutboundCaseID    = "0de3c000-0000-4000-8000-000000000006"
	demoOutboundServiceID = "0de35000-0000-4000-8000-000000000006"
)

// demoCase is a Primero case of synthetic child i; variant tells two
// cases of one child apart.
func demoCase(i int, variant string) map[string]any {
	return map[string]any{
		"id":                   demoCaseID(i, variant),
		"name_first":           "Test",
		"name_last":            fmt.Sprintf("Child %d", i),
		"sex":                  "female",
		"unhcr_individual_no":  individualNumber(i),
		"consent_for_services": true,
		"owned_by":             demoCaseworker,
		"status":               "open",
	}
}

// demoCaseID is the fixed id of a seeded case, so that every demo run
// seeds the same cases.
func demoCaseID(i int, variant string) string {
	v := 0
	if variant == "b" {
		v = 1
	}
	return fmt.Sprintf("0de30000-0000-4000-8000-%06d%06d", v, i)
}

// seedDTP queues what proGres pushes through DTP in the demo: referrals
// of children 1 to 4 (child 3's without consent), and child 1's referral a
// second time, as DTP delivers it again when an acknowledgement is lost.
func seedDTP(s *progrestest.DTPServer) {
	for _, i := range []int{childNew, childKnown, childNoConsent, childTwice} {
		s.QueueReferral(demoReferralItems(i)...)
	}
	s.QueueReferral(demoReferralItems(childNew)...)
}

// redeliver makes the gateway deliver the demo's referrals again: DTP
// queues them once more; PING lists again those still pending.
func (d *demoSystems) redeliver() {
	if d.dtp != nil {
		seedDTP(d.dtp)
	}
}

// seedPING adds the same referrals to the PING fake's pending list.
func seedPING(s *progrestest.PINGServer) {
	for _, i := range []int{childNew, childKnown, childNoConsent, childTwice} {
		s.AddRows(progrestest.SHPPendingInterventions, progrestest.SyntheticPendingRow(i))
		rows := progrestest.SyntheticDetailRows(i)
		for _, r := range rows {
			r["progres_individual.individuals.progres_id"] = individualNumber(i)
			r["progres_individual.progres_registrationgroupidname"] = groupNumber(i)
		}
		setConsent(rows, i != childNoConsent)
		s.AddRows(progrestest.SHPInterventionDetail, rows...)
	}
}

// consentColumn is where the Gambella intake spec reads consent from in a
// proGres referral (see referral/policies/gambella-progres-to-primero.yaml).
const consentColumn = "progres_consentforreferral"

// demoReferralItems is synthetic child i's DTP referral, with consent
// given except for childNoConsent.
func demoReferralItems(i int) []map[string]any {
	items := progrestest.SyntheticReferral(i)
	for _, it := range items {
		it["individuals.progres_id"] = individualNumber(i)
		if g, ok := it["individuals.progres_registrationgroupid"].(map[string]any); ok {
			g["Name"] = groupNumber(i)
		}
	}
	setConsent(items, i != childNoConsent)
	return items
}

// setConsent sets or removes the consent column of referral rows.
func setConsent(rows []map[string]any, given bool) {
	for _, r := range rows {
		if given {
			r[consentColumn] = true
		} else {
			delete(r, consentColumn)
		}
	}
}
