package referral

// The test harness of the referral flows: every system a flow talks to,
// as a fake on loopback, wired the way a deployment wires the real ones.
//
//   - Primero (primerotest), seeded with the Gambella lookups and the users
//     the flows need: an intake user per agency, the dedicated UNHCR
//     recipient, caseworkers;
//   - the DTP gateway (progrestest, mutual TLS with a throwaway CA), which
//     pushes notifications to a progres.Handler mounted on an httptest
//     server (Mount), and a DTP client with the fake's client certificate;
//   - the PING gateway (progrestest) and a PING client;
//   - the state store: MemoryState, or SQLite (withSQLite) so that a test
//     can "restart the process" (Restart) on the same database;
//   - a debug-level JSON logger whose output the personal-data scan reads;
//   - a clock that starts at a fixed time and moves 1ms per reading, so
//     runs are reproducible and Primero's timestamps still increase.
//
// Flow tests build their flow on h.Common() and the clients; helper files
// (harness_out_test.go, …) may add to it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/consent/consenttest"
	"github.com/casebridge/casebridge/mapping"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/casebridge/casebridge/sqlsink"
	"github.com/stretchr/testify/require"
)

// Users the harness seeds in the Primero fake.
const (
	// intakeUser owns cases created from proGres referrals by default.
	intakeUser = "progres_intake"
	// intakeUserNGO owns cases referred through the partner below.
	intakeUserNGO = "progres_intake_ngo"
	// intakePartner is the synthetic partner number of the referring user
	// (progrestest.SyntheticReferral's user.progres_partner).
	intakePartner = "XXX-17-PNR-00011"
	// unhcrUser is the dedicated Primero user referrals to UNHCR go to.
	unhcrUser = "unhcr_cw"
	// caseworker1 and caseworker2 are UNICEF caseworkers.
	caseworker1 = "cw1"
	caseworker2 = "cw2"

	agencyUNICEF = primerotest.DefaultAgency
	agencyNGO    = "agency-ngo-a"
	agencyUNHCR  = "agency-unhcr"

	// inboundKey is the API key the DTP fake pushes with.
	inboundKey = "synthetic-inbound-key-0001"
)

// harnessStart is the harness clock's first reading.
var harnessStart = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// testClock starts at a fixed time and advances 1ms at every reading.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the current reading and advances the clock.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is every system a flow talks to; see the file comment.
type harness struct {
	t     testing.TB
	Clock *testClock

	Primero       *primerotest.Server
	PrimeroClient *primero.Client
	// PrimeroFaults sees (and may fail) every request of PrimeroClient.
	PrimeroFaults *faultTransport
	// PrimeroAdmin is a second client, without faults: a caseworker
	// changing cases while a flow runs.
	PrimeroAdmin *primero.Client

	DTP       *progrestest.DTPServer
	DTPClient *progres.DTPClient

	PING       *progrestest.PINGServer
	PINGClient *progres.PINGClient
	// PINGFaults fails chosen PING requests on the client side.
	PINGFaults *faultTransport

	// Inbound is the httptest server the DTP fake pushes to; it serves the
	// handler set with Mount (503 until then).
	Inbound *httptest.Server
	handler atomic.Pointer[http.Handler]

	State  sqlsink.State
	dbPath string // SQLite file when withSQLite
	db     *sqlsink.DB

	// Logs holds everything logged through Logger (JSON, debug level).
	Logs   *syncBuffer
	Logger *slog.Logger

	// Observed holds what the flows built on h.Common told Observe.
	Observed observations
}

// harnessOption configures newHarness.
type harnessOption func(*harnessConfig)

type harnessConfig struct {
	sqlite      bool
	dtpOpts     []progrestest.Option
	pingOpts    []progrestest.Option
	primeroOpts []primerotest.Option
}

// withSQLite keeps the state in a SQLite file, so Restart can reopen it.
func withSQLite() harnessOption { return func(c *harnessConfig) { c.sqlite = true } }

// withDTPOptions adds options to the DTP fake.
func withDTPOptions(o ...progrestest.Option) harnessOption {
	return func(c *harnessConfig) { c.dtpOpts = append(c.dtpOpts, o...) }
}

// withPINGOptions adds options to the PING fake.
func withPINGOptions(o ...progrestest.Option) harnessOption {
	return func(c *harnessConfig) { c.pingOpts = append(c.pingOpts, o...) }
}

// withPrimeroOptions adds options to the Primero fake.
func withPrimeroOptions(o ...primerotest.Option) harnessOption {
	return func(c *harnessConfig) { c.primeroOpts = append(c.primeroOpts, o...) }
}

// fastRetry keeps the clients' retries quick in tests.
var fastRetry = primero.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Millisecond}

// newHarness starts every fake and client; all close on t.Cleanup.
func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	var cfg harnessConfig
	for _, o := range opts {
		o(&cfg)
	}
	h := &harness{t: t, Clock: &testClock{t: harnessStart}, Logs: &syncBuffer{}}
	h.Logger = slog.New(slog.NewJSONHandler(h.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// Primero.
	h.Primero = primerotest.NewServer(t, append([]primerotest.Option{primerotest.WithClock(h.Clock.Now)}, cfg.primeroOpts...)...)
	seedGambella(h.Primero)
	h.PrimeroFaults = &faultTransport{next: http.DefaultTransport}
	pc, err := primero.New(h.Primero.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword),
		primero.WithRetry(fastRetry), primero.WithLogger(h.Logger), primero.WithHTTPClient(&http.Client{Transport: h.PrimeroFaults}))
	require.NoError(t, err)
	h.PrimeroClient = pc
	admin, err := primero.New(h.Primero.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword))
	require.NoError(t, err)
	h.PrimeroAdmin = admin

	// The inbound endpoint DTP pushes to, then DTP itself.
	h.Inbound = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := h.handler.Load()
		if p == nil {
			http.Error(w, "no handler mounted", http.StatusServiceUnavailable)
			return
		}
		(*p).ServeHTTP(w, r)
	}))
	t.Cleanup(h.Inbound.Close)
	h.DTP = progrestest.NewDTPServer(t, append([]progrestest.Option{progrestest.WithInbound(h.Inbound.URL, inboundKey)}, cfg.dtpOpts...)...)
	dc, err := progres.NewDTP(h.DTP.BaseURL(),
		progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificate(h.DTP.ClientCert().TLS),
		progres.WithRootCAs(h.DTP.CA().Pool()),
		progres.WithRetry(fastRetry), progres.WithLogger(h.Logger))
	require.NoError(t, err)
	h.DTPClient = dc

	// PING.
	h.PING = progrestest.NewPINGServer(t, cfg.pingOpts...)
	pcfg := h.PING.Config()
	grant := progres.PasswordGrant{Origin: h.PING.URL(), Tenant: pcfg.Tenant, Policy: pcfg.Policy, ClientID: pcfg.ClientID,
		Scope: pcfg.Scope, Username: pcfg.Username, Password: pcfg.Password}
	h.PINGFaults = &faultTransport{next: http.DefaultTransport}
	pg, err := progres.NewPING(h.PING.URL(),
		progres.WithHTTPClient(&http.Client{Transport: h.PINGFaults}),
		progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithPasswordGrant(grant),
		progres.WithDeployment(pcfg.PartnerID, pcfg.InteropID),
		progres.WithRetry(fastRetry), progres.WithLogger(h.Logger))
	require.NoError(t, err)
	h.PINGClient = pg

	// State.
	if cfg.sqlite {
		h.dbPath = filepath.Join(t.TempDir(), "state.db")
		h.openState()
	} else {
		h.State = sqlsink.NewMemoryState()
	}
	return h
}

// faultTransport answers the requests its predicate picks with the
// status it returns (0: the request goes through), without sending them;
// loseAnswer sends the request and then loses the answer, as a dropped
// connection after the server acted.
type faultTransport struct {
	next http.RoundTripper
	pick atomic.Pointer[func(r *http.Request, body []byte) int]
}

// loseAnswer is the pick result that sends the request and loses the
// answer.
const loseAnswer = -1

// errAnswerLost is the error a lost answer gives the client.
var errAnswerLost = errors.New("harness: connection lost after the request was sent")

// Fail makes the transport answer what pick chooses; nil stops it.
func (f *faultTransport) Fail(pick func(r *http.Request, body []byte) int) {
	if pick == nil {
		f.pick.Store(nil)
		return
	}
	f.pick.Store(&pick)
}

// RoundTrip implements http.RoundTripper.
func (f *faultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p := f.pick.Load()
	if p == nil {
		return f.next.RoundTrip(r)
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		_ = r.Body.Close()
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	st := (*p)(r, body)
	if st == loseAnswer {
		resp, err := f.next.RoundTrip(r)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		return nil, errAnswerLost
	}
	if st != 0 {
		return &http.Response{StatusCode: st, Status: http.StatusText(st), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
	}
	return f.next.RoundTrip(r)
}

// failShippingProcess makes PING answer status to every request for the
// shipping process (e.g. SHP-2748) until the returned function is called.
func (h *harness) failShippingProcess(shp string, status int) (restore func()) {
	h.PINGFaults.Fail(func(_ *http.Request, body []byte) int {
		if bytes.Contains(body, []byte(`"`+shp+`"`)) {
			return status
		}
		return 0
	})
	return func() { h.PINGFaults.Fail(nil) }
}

// seedGambella adds the Gambella deployment's lookups, agencies and users.
func seedGambella(s *primerotest.Server) {
	s.AddLookup("lookup-gender", "male", "female", "other_b25f252", "unknown_4b34795")
	s.AddLookup("lookup-service-type", "alternative_care", "focuses_non_specialized_mhpss_care", "food",
		"other_please_specify", "health", "psychosocial")
	s.AddAgency(agencyNGO, "Synthetic NGO A")
	s.AddAgency(agencyUNHCR, "Synthetic UNHCR")
	s.AddUser(primerotest.User{UserName: intakeUser, Password: "synthetic-pass-intake", FullName: "Intake Focal Point",
		Agency: agencyUNICEF, Email: "intake@example.org", Position: "Intake focal point", Permission: "all",
		CanReceiveReferrals: true})
	s.AddUser(primerotest.User{UserName: intakeUserNGO, Password: "synthetic-pass-intake-ngo", FullName: "Intake Focal Point NGO",
		Agency: agencyNGO, Email: "intake-ngo@example.org", Position: "Intake focal point", Permission: "all",
		CanReceiveReferrals: true})
	s.AddUser(primerotest.User{UserName: unhcrUser, Password: "synthetic-pass-unhcr", FullName: "UNHCR Recipient",
		Agency: agencyUNHCR, Email: "unhcr@example.org", Position: "Caseworker", Permission: "self",
		Services: []string{"alternative_care", "focuses_non_specialized_mhpss_care", "food"}, CanReceiveReferrals: true})
	for _, u := range []string{caseworker1, caseworker2} {
		s.AddUser(primerotest.User{UserName: u, Password: "synthetic-pass-" + u, FullName: "Case Worker " + u,
			Agency: agencyUNICEF, Email: u + "@example.org", Position: "Case worker", Permission: "group",
			Groups: []string{"usergroup-synthetic"}, CanReceiveReferrals: true})
	}
}

// openState opens the SQLite state at h.dbPath.
func (h *harness) openState() {
	h.t.Helper()
	db, err := sqlsink.Open(context.Background(), "sqlite:"+h.dbPath)
	require.NoError(h.t, err)
	st, err := sqlsink.NewDBState(db)
	require.NoError(h.t, err)
	h.db, h.State = db, st
	h.t.Cleanup(func() { _ = db.Close() })
}

// Restart simulates a new process: the SQLite state is closed and opened
// again (the fakes, being other systems, keep running). Build the flows
// again on h.Common() afterwards.
func (h *harness) Restart() {
	h.t.Helper()
	require.NotEmpty(h.t, h.dbPath, "Restart needs withSQLite")
	require.NoError(h.t, h.db.Close())
	h.openState()
}

// Common is the flows' shared configuration on the harness: its state,
// the named policy from policies/, its logger and clock.
func (h *harness) Common(policy string) Common {
	return Common{State: h.State, Policy: loadTestPolicy(h.t, policy), Logger: h.Logger, Now: h.Clock.Now, Observe: h.Observed.add}
}

// loadTestPolicy loads policies/<name>.yaml.
func loadTestPolicy(t testing.TB, name string) *consent.Policy {
	t.Helper()
	p, err := consent.Load(filepath.Join("policies", name+".yaml"))
	require.NoError(t, err)
	return p
}

// Mount installs a progres.Handler, with the harness's API key and opts,
// as the endpoint DTP pushes to.
func (h *harness) Mount(opts ...progres.HandlerOption) {
	h.t.Helper()
	all := append([]progres.HandlerOption{progres.WithAPIKey("", inboundKey), progres.WithHandlerLogger(h.Logger)}, opts...)
	ph, err := progres.NewHandler(all...)
	require.NoError(h.t, err)
	var hh http.Handler = ph
	h.handler.Store(&hh)
}

// Push delivers what the DTP fake has queued (once) and returns how many
// notifications were acknowledged.
func (h *harness) Push(ctx context.Context) int {
	h.t.Helper()
	n, err := h.DTP.Push(ctx)
	require.NoError(h.t, err)
	return n
}

// Audit returns the events stored in flow's audit trail, after verifying
// the chain.
func (h *harness) Audit(flow string) []consent.Event {
	h.t.Helper()
	ctx := context.Background()
	_, err := sqlsink.VerifyAudit(ctx, h.State.AuditLog(flow))
	require.NoError(h.t, err, "the audit trail verifies")
	var out []consent.Event
	for e, err := range h.State.AuditLog(flow).Events(ctx) {
		require.NoError(h.t, err)
		out = append(out, e)
	}
	return out
}

// CasesByIndividual returns the Primero fake's cases with this UNHCR
// individual number.
func (h *harness) CasesByIndividual(number string) []map[string]any {
	var out []map[string]any
	for _, c := range h.Primero.Cases() {
		if c["unhcr_individual_no"] == number {
			out = append(out, c)
		}
	}
	return out
}

// servicesOf returns a stored case's services_section rows.
func servicesOf(c map[string]any) []map[string]any {
	rows, _ := c["services_section"].([]any)
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// individualNumber is the synthetic UNHCR individual number of
// progrestest's referral i.
func individualNumber(i int) string { return fmt.Sprintf("000-%08d", i) }

// syntheticPersonal is a record of the personal values the synthetic
// proGres referrals 1..n carry (names, dates of birth, phones, emails),
// for consenttest's scan.
func syntheticPersonal(n int) (mapping.Record, []string) {
	rec := mapping.Record{"dob": "2016-07-19"}
	fields := []string{"dob"}
	for i := 1; i <= n; i++ {
		k := func(s string) string { return fmt.Sprintf("%s%d", s, i) }
		rec[k("family")] = fmt.Sprintf("Child %d", i)
		rec[k("email")] = fmt.Sprintf("officer%d@example.org", i)
		rec[k("phone")] = fmt.Sprintf("000-test-%d", i)
		fields = append(fields, k("family"), k("email"), k("phone"))
	}
	return rec, fields
}

// AssertNoPersonalData scans everything the flows emitted (the debug log,
// every audit event of the named flows, the texts given: errors, stats)
// for the personal values of synthetic referrals 1..n.
func (h *harness) AssertNoPersonalData(n int, flows []string, texts ...string) {
	h.t.Helper()
	all := append([]string{h.Logs.String()}, texts...)
	for _, f := range flows {
		for _, e := range h.Audit(f) {
			all = append(all, string(consent.CanonicalEvent(e)))
		}
	}
	rec, fields := syntheticPersonal(n)
	consenttest.AssertNoPersonalData(h.t, rec, fields, all...)
}

// withConsent returns referral items with the consent column the
// Gambella intake spec reads set to v (nil removes it).
func withConsent(items []map[string]any, v any) []map[string]any {
	for _, it := range items {
		if v == nil {
			delete(it, consentColumn)
			continue
		}
		it[consentColumn] = v
	}
	return items
}

// consentColumn is the proGres column the Gambella intake spec reads
// consent from (see policies/gambella-progres-to-primero.yaml).
const consentColumn = "progres_consentforreferral"

// dtpReferral is synthetic referral i (one item per language) with
// consent given.
func dtpReferral(i int, languages ...string) []map[string]any {
	return withConsent(progrestest.SyntheticReferral(i, languages...), true)
}

// pingIntervention adds synthetic intervention i to the PING fake: its
// pending-list row and detail rows (one per language), with consent
// given.
func (h *harness) pingIntervention(i int, languages ...string) {
	h.PING.AddRows(progrestest.SHPPendingInterventions, progrestest.SyntheticPendingRow(i))
	h.PING.AddRows(progrestest.SHPInterventionDetail, withConsent(progrestest.SyntheticDetailRows(i, languages...), true)...)
}

// TestHarnessWiring checks the harness itself: the Primero fake has the
// Gambella users, DTP pushes reach the mounted handler, the PING client
// reads the fake, and the SQLite state survives a restart.
func TestHarnessWiring(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, withSQLite(), withDTPOptions(progrestest.WithPartialRedelivery()),
		withPINGOptions(progrestest.WithPING(progrestest.DefaultPINGConfig())),
		withPrimeroOptions(primerotest.WithVersion("2.11.0")))

	names := map[string]bool{}
	for u, err := range h.PrimeroClient.Users.All(ctx) {
		require.NoError(t, err)
		names[u.UserName] = true
	}
	for _, u := range []string{intakeUser, intakeUserNGO, unhcrUser, caseworker1} {
		require.True(t, names[u], "user %s is seeded", u)
	}

	var got []string
	h.Mount(progres.OnReferral(func(_ context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
		got = append(got, d.Item.InterventionNumber)
		return nil
	}))
	h.DTP.QueueReferral(dtpReferral(1, "Nuer", "Somali")...)
	require.Equal(t, 1, h.Push(ctx))
	require.Equal(t, []string{progrestest.InterventionNumber(1), progrestest.InterventionNumber(1)}, got)

	h.pingIntervention(2)
	n := 0
	for p, err := range h.PINGClient.Interventions.Pending(ctx) {
		require.NoError(t, err)
		rows, err := h.PINGClient.Interventions.Detail(ctx, p.LPInterventionID)
		require.NoError(t, err)
		n += len(rows)
	}
	require.Equal(t, 1, n)

	require.NoError(t, h.State.Update(ctx, "harness", func(tx sqlsink.StateTx) error {
		_, err := tx.MarkProcessed(ctx, "k1")
		return err
	}))
	h.Restart()
	ok, err := h.State.Processed(ctx, "harness", "k1")
	require.NoError(t, err)
	require.True(t, ok, "the state survives a restart")
	_ = loadTestPolicy(t, "gambella-progres-to-primero")
	_ = loadTestPolicy(t, "gambella-primero-decisions-to-progres")
}

// bytesContains reports whether b contains s.
func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

// statsTexts is everything a run's stats say: the summary and each item
// error, for the personal-data scan.
func statsTexts(st Stats) []string {
	out := []string{st.String()}
	for _, e := range st.Errors {
		out = append(out, e.Error())
	}
	return out
}
