package referral

// Harness additions for the flows from Primero to proGres (referrals) and
// back (proGres decisions), and for consent revocation.

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/consent/consenttest"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/require"
)

// outOwner is a UNICEF caseworker with complete contact details, who owns
// the cases referred to UNHCR in these tests.
const (
	outOwner         = "cw_out"
	outOwnerPassword = "synthetic-pass-cw-out"
	outPolicy        = "gambella-primero-unhcr"
)

// seedOutbound adds the owner the outbound tests need.
func seedOutbound(h *harness) {
	h.Primero.AddUser(primerotest.User{UserName: outOwner, Password: outOwnerPassword, FullName: "Case Worker Out",
		Agency: agencyUNICEF, Email: "cw-out@example.org", Phone: "000-test-cw", Position: "Case worker",
		Permission: "all", CanReceiveReferrals: true})
}

// outCase describes a synthetic case referred to UNHCR.
type outCase struct {
	ID, CaseID, ServiceID string
	Referral              *primero.Referral
}

// outCaseIDs are the synthetic ids of case i.
func outCaseIDs(i int) outCase {
	return outCase{
		ID:        fmt.Sprintf("0a0a0a0a-0000-4000-8000-%012d", i),
		CaseID:    fmt.Sprintf("0b0b0b0b-0000-4000-8000-%012d", i),
		ServiceID: fmt.Sprintf("0c0c0c0c-0000-4000-8000-%012d", i),
	}
}

// outPersonal is what the scan looks for in everything the flows emit:
// the synthetic child's personal values of cases 1..n.
func outPersonal(n int) (mapping.Record, []string) {
	rec := mapping.Record{"dob": "2015-03-04", "address": "Zone A Block 7", "phone": "000-test-child"}
	fields := []string{"dob", "address", "phone"}
	for i := 1; i <= n; i++ {
		k := fmt.Sprintf("last%d", i)
		rec[k] = fmt.Sprintf("Outchild %d", i)
		fields = append(fields, k)
	}
	return rec, fields
}

// addReferredCase seeds case i owned by owner, with one service for UNHCR
// (consent given unless consentGiven is false), and refers it to the UNHCR
// user as the owner would.
func (h *harness) addReferredCase(i int, owner string, consentGiven bool, extra map[string]any) outCase {
	h.t.Helper()
	ids := outCaseIDs(i)
	fields := map[string]any{
		"id": ids.ID, "case_id": ids.CaseID, "owned_by": owner, "owned_by_agency_id": agencyUNICEF,
		"name_first": "Test", "name_last": fmt.Sprintf("Outchild %d", i), "sex": "female",
		"date_of_birth": "2015-03-04", "address_current": "Zone A Block 7", "telephone_current": "000-test-child",
		"unhcr_individual_no": individualNumber(i), "unhcr_id_no": fmt.Sprintf("000-23-%07d", i),
		"consent_for_services": consentGiven, "disclosure_other_orgs": consentGiven,
		"services_section": []any{map[string]any{
			"unique_id": ids.ServiceID, "service_type": "alternative_care",
			"service_implementing_agency": agencyUNHCR, "service_response_type": "service_provision",
		}},
	}
	for k, v := range extra {
		fields[k] = v
	}
	h.Primero.AddCase(fields)
	if consentGiven {
		ids.Referral = h.refer(ids.ID, ids.ServiceID, "alternative_care")
	}
	return ids
}

// refer refers the case's service to the UNHCR user as the owner.
func (h *harness) refer(caseID, serviceID, serviceType string) *primero.Referral {
	h.t.Helper()
	c, err := primero.New(h.Primero.URL(), primero.WithBasicAuth(outOwner, outOwnerPassword), primero.WithRetry(fastRetry))
	require.NoError(h.t, err)
	r, err := c.Referrals.Create(context.Background(), caseID, &primero.ReferralRequest{
		TransitionedTo: unhcrUser, Service: serviceType, ServiceRecordID: serviceID})
	require.NoError(h.t, err)
	return r
}

// updateCase PATCHes case fields as the integration user (a change made
// in Primero between runs).
func (h *harness) updateCase(id string, p primero.Patch) {
	h.t.Helper()
	_, err := h.PrimeroClient.Cases.Update(context.Background(), id, p)
	require.NoError(h.t, err)
}

// revocations collects what OnRevocation was called with, and fails the
// next calls on demand.
type revocations struct {
	mu       sync.Mutex
	got      []consent.Revocation
	failNext int
}

func (r *revocations) hook(_ context.Context, rev consent.Revocation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext > 0 {
		r.failNext--
		return fmt.Errorf("synthetic notification failure")
	}
	r.got = append(r.got, rev)
	return nil
}

func (r *revocations) calls() []consent.Revocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]consent.Revocation(nil), r.got...)
}

// outboundConfig is the outbound flow's configuration on the harness.
func (h *harness) outboundConfig(ping bool, revs *revocations) OutboundConfig {
	cfg := OutboundConfig{Common: h.Common(outPolicy), Primero: h.PrimeroClient, Recipient: unhcrUser,
		ImplementingAgency: agencyUNHCR, Start: harnessStart.Add(-time.Hour), OnRevocation: revs.hook,
		Wait: progres.WaitOptions{Interval: time.Millisecond, MaxInterval: 2 * time.Millisecond, Timeout: 200 * time.Millisecond}}
	if ping {
		cfg.PING = h.PINGClient
	} else {
		cfg.DTP = h.DTPClient
	}
	return cfg
}

// loseAnswers is a reverse proxy in front of a fake that forwards every
// request and, for the next n requests whose path ends with suffix, lets
// the fake apply it and then drops the connection instead of answering: an
// answer lost after the write took effect.
type loseAnswers struct {
	srv    *httptest.Server
	mu     sync.Mutex
	n      int
	suffix string
	lost   int
	// onForward, when set, is called before each request is forwarded.
	onForward func(*http.Request)
}

// newLoseAnswers proxies to target. For an https fake, serverCert is the
// proxy's certificate and transport reaches the fake (nil for plain http).
func newLoseAnswers(t testing.TB, target string, serverCert *tls.Certificate, transport http.RoundTripper) *loseAnswers {
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &loseAnswers{}
	rp := httputil.NewSingleHostReverseProxy(u)
	if transport != nil {
		rp.Transport = transport
	}
	rp.ErrorLog = nil
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		lose := p.n > 0 && len(r.URL.Path) >= len(p.suffix) && r.URL.Path[len(r.URL.Path)-len(p.suffix):] == p.suffix
		if lose {
			p.n--
			p.lost++
		}
		hook := p.onForward
		p.mu.Unlock()
		if hook != nil {
			hook(r)
		}
		if !lose {
			rp.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		hj, ok := w.(http.Hijacker)
		require.True(t, ok)
		conn, _, err := hj.Hijack()
		require.NoError(t, err)
		_ = conn.Close()
	})
	if serverCert != nil {
		p.srv = httptest.NewUnstartedServer(h)
		p.srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*serverCert}}
		p.srv.StartTLS()
	} else {
		p.srv = httptest.NewServer(h)
	}
	t.Cleanup(p.srv.Close)
	return p
}

// LoseNext loses the answers of the next n requests whose path ends with
// suffix.
func (p *loseAnswers) LoseNext(n int, suffix string) {
	p.mu.Lock()
	p.n, p.suffix = n, suffix
	p.mu.Unlock()
}

// lossyDTP puts a loseAnswers proxy in front of the DTP fake and returns it
// with a DTP client that goes through it.
func (h *harness) lossyDTP() (*loseAnswers, *progres.DTPClient) {
	h.t.Helper()
	kp, err := h.DTP.CA().IssueServer()
	require.NoError(h.t, err)
	tr := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: h.DTP.CA().Pool(),
		Certificates: []tls.Certificate{h.DTP.ClientCert().TLS}}}
	h.t.Cleanup(tr.CloseIdleConnections)
	p := newLoseAnswers(h.t, h.DTP.URL(), &kp.TLS, tr)
	dc, err := progres.NewDTP(p.srv.URL+progrestestDTPPrefix,
		progres.WithSubscriptionKey(progrestestSubscriptionKey),
		progres.WithClientCertificate(h.DTP.ClientCert().TLS),
		progres.WithRootCAs(h.DTP.CA().Pool()),
		progres.WithRetry(fastRetry), progres.WithLogger(h.Logger))
	require.NoError(h.t, err)
	return p, dc
}

// lossyPING puts a loseAnswers proxy in front of the PING fake and returns
// it with a PING client that goes through it.
func (h *harness) lossyPING() (*loseAnswers, *progres.PINGClient) {
	h.t.Helper()
	p := newLoseAnswers(h.t, h.PING.URL(), nil, nil)
	pcfg := h.PING.Config()
	grant := progres.PasswordGrant{Origin: p.srv.URL, Tenant: pcfg.Tenant, Policy: pcfg.Policy, ClientID: pcfg.ClientID,
		Scope: pcfg.Scope, Username: pcfg.Username, Password: pcfg.Password}
	pg, err := progres.NewPING(p.srv.URL,
		progres.WithSubscriptionKey(progrestestSubscriptionKey),
		progres.WithPasswordGrant(grant),
		progres.WithDeployment(pcfg.PartnerID, pcfg.InteropID),
		progres.WithRetry(fastRetry), progres.WithLogger(h.Logger))
	require.NoError(h.t, err)
	return p, pg
}

const (
	progrestestDTPPrefix       = progrestest.DefaultDTPPrefix
	progrestestSubscriptionKey = progrestest.DefaultSubscriptionKey
)

// primeroUserWithPhone is a seeded caseworker given a phone (its profile
// fixed by an administrator).
func primeroUserWithPhone(name string) primerotest.User {
	return primerotest.User{UserName: name, Password: "synthetic-pass-" + name, FullName: "Case Worker " + name,
		Agency: agencyUNICEF, Email: name + "@example.org", Phone: "000-test-fixed", Position: "Case worker",
		Permission: "group", Groups: []string{"usergroup-synthetic"}, CanReceiveReferrals: true}
}

// assertNoLeak scans texts for the synthetic personal values.
func assertNoLeak(t testing.TB, rec mapping.Record, fields []string, texts ...string) {
	t.Helper()
	consenttest.AssertNoPersonalData(t, rec, fields, texts...)
}
