package referral

// The end-to-end world of the exactly-once, crash and change-during-run
// tests: every flow of one gateway (intake, decisions to proGres, outbound
// referrals, decisions from proGres) on one harness, a realistic synthetic
// set of interventions and Primero referrals with their edge cases, the
// caseworkers and proGres officers who decide while the flows run, and a
// summary of what the fakes hold at the end, by distinct effect.

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/require"
)

// The synthetic set: interventions 1..e2eInterventions from proGres,
// Primero cases e2eOutFirst.. referred to the UNHCR user.
const (
	e2eInterventions = 24
	e2eOutFirst      = 101
	e2eOutCases      = 8

	// Edge cases among the interventions.
	e2eUnknownType = 5  // a service type outside the agreed ones
	e2eNoConsent   = 6  // no consent recorded in proGres
	e2eAmbiguous   = 7  // two Primero cases carry the individual number
	e2eExisting    = 8  // the child already has a case, owned by a caseworker
	e2eSameChild   = 10 // a second intervention for the child of intervention 9
)

// e2eExemptHeader marks the requests of the people in the test (the
// caseworker deciding in Primero): chaos leaves them alone, as it models
// the integration's network, not theirs.
const e2eExemptHeader = "X-Casebridge-Test-Person"

// e2eTimeouts: every client and the DTP push give up before the chaos
// Hold, so a timeout fault costs the client timeout, not the hold.
type e2eTimeouts struct {
	Client, Hold, Push, InboundHold time.Duration
}

var e2eFast = e2eTimeouts{Client: 300 * time.Millisecond, Hold: 600 * time.Millisecond,
	Push: 1500 * time.Millisecond, InboundHold: 2 * time.Second}

// e2eRetry is the flows' clients' retry policy: quick, with Retry-After
// capped small (0 would mean the 60s default).
var e2eRetry = primero.RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}

// e2eWorld is one gateway's flows on a harness, and what the test people
// did and expect.
type e2eWorld struct {
	t    testing.TB
	h    *harness
	ping bool
	to   e2eTimeouts
	// n interventions, outbound cases e2eOutFirst..e2eOutFirst+m-1.
	n, m int

	// proc is the "process" context the inbound handler serves under
	// (cancelled: the process stops); count sees every request the flows
	// make or serve.
	proc  atomic.Pointer[context.Context]
	count requestCounter

	inbound     *progrestest.ChaosHandler // DTP: in front of the flows' handler
	inboundNext atomic.Pointer[http.Handler]
	runner      *Runner
	flows       []Flow
	revs        *revocations

	// decidedOut: interventions a caseworker decided in Primero, with the
	// status; queuedIn: outbound cases proGres decided (DTP), accepted or
	// not.
	reactMu    sync.Mutex
	decidedOut map[int]string
	queuedIn   map[int]bool
	out        map[int]outCase
}

// e2eGateways are the two gateways every end-to-end test runs on.
var e2eGateways = []struct {
	name string
	ping bool
}{{"DTP", false}, {"PING", true}}

// e2eSize is how many interventions and outbound cases a world holds.
type e2eSize struct{ Interventions, OutCases int }

// e2eFull is the realistic set with every edge case.
var e2eFull = e2eSize{e2eInterventions, e2eOutCases}

// newE2EWorld starts the fakes, seeds the synthetic set and builds the
// flows of one gateway; opts go to newHarness.
func newE2EWorld(t testing.TB, ping bool, to e2eTimeouts, size e2eSize, opts ...harnessOption) *e2eWorld {
	t.Helper()
	pcfg := progrestest.DefaultPINGConfig()
	// A referral made by async ingestion shows in the decision list at
	// once, accepted: the read-back the PING outbound needs to recover a
	// lost Create answer, and proGres's decision on it.
	pcfg.ListCreatedReferrals = progrestest.StatusAccepted
	all := append([]harnessOption{withDTPOptions(progrestest.WithPushTimeout(to.Push)),
		withPINGOptions(progrestest.WithPING(pcfg))}, opts...)
	h := newHarness(t, all...)
	w := &e2eWorld{t: t, h: h, ping: ping, to: to, revs: &revocations{},
		decidedOut: map[int]string{}, queuedIn: map[int]bool{}, out: map[int]outCase{},
		n: size.Interventions, m: size.OutCases}
	bg := context.Background()
	w.proc.Store(&bg)
	w.clients()
	w.countRequests()
	w.seed()
	w.build()
	return w
}

// clients replaces the harness's clients with ones that time out before
// the chaos Hold and retry quickly; the caseworker's is exempt from chaos.
func (w *e2eWorld) clients() {
	h, t := w.h, w.t
	hc := func(rt http.RoundTripper) *http.Client { return &http.Client{Transport: rt, Timeout: w.to.Client} }
	pc, err := primero.New(h.Primero.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword),
		primero.WithRetry(e2eRetry), primero.WithLogger(h.Logger), primero.WithHTTPClient(hc(h.PrimeroFaults)))
	require.NoError(t, err)
	h.PrimeroClient = pc
	admin, err := primero.New(h.Primero.URL(), primero.WithBasicAuth(primerotest.DefaultUser, primerotest.DefaultPassword),
		primero.WithHTTPClient(&http.Client{Transport: exemptTransport{http.DefaultTransport}}))
	require.NoError(t, err)
	h.PrimeroAdmin = admin
	// The DTP client takes only an *http.Transport (it adds the client
	// certificate): its Proxy hook, called once per request, counts.
	dtpTransport := &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { w.count.tick(); return nil, nil }}
	t.Cleanup(dtpTransport.CloseIdleConnections)
	dc, err := progres.NewDTP(h.DTP.BaseURL(), progres.WithHTTPClient(&http.Client{Timeout: w.to.Client, Transport: dtpTransport}),
		progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificate(h.DTP.ClientCert().TLS), progres.WithRootCAs(h.DTP.CA().Pool()),
		progres.WithRetry(e2eRetry), progres.WithLogger(h.Logger))
	require.NoError(t, err)
	h.DTPClient = dc
	cfg := h.PING.Config()
	grant := progres.PasswordGrant{Origin: h.PING.URL(), Tenant: cfg.Tenant, Policy: cfg.Policy, ClientID: cfg.ClientID,
		Scope: cfg.Scope, Username: cfg.Username, Password: cfg.Password}
	pg, err := progres.NewPING(h.PING.URL(), progres.WithHTTPClient(hc(h.PINGFaults)),
		progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey), progres.WithPasswordGrant(grant),
		progres.WithDeployment(cfg.PartnerID, cfg.InteropID), progres.WithRetry(e2eRetry), progres.WithLogger(h.Logger))
	require.NoError(t, err)
	h.PINGClient = pg
}

// exemptTransport marks a person's requests (e2eExemptHeader).
type exemptTransport struct{ next http.RoundTripper }

func (e exemptTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(e2eExemptHeader, "1")
	return e.next.RoundTrip(r)
}

// person is the index of the child intervention i is for.
func person(i int) int {
	if i == e2eSameChild {
		return e2eSameChild - 1
	}
	return i
}

// validIntervention reports whether intervention i can be delivered.
func validIntervention(i int) bool {
	return i != e2eUnknownType && i != e2eNoConsent && i != e2eAmbiguous
}

// languagesOf are intervention i's languages: every fourth has two.
func languagesOf(i int) []string {
	if i%4 == 0 {
		return []string{"Nuer", "Somali"}
	}
	return []string{"English"}
}

// decisionOut is the caseworker's decision on intervention i ("": none).
func decisionOut(i int) string {
	switch {
	case !validIntervention(i):
		return ""
	case i%3 == 0:
		return "accepted"
	case i%3 == 1:
		return "rejected"
	}
	return ""
}

// decisionInAccepted is proGres's decision on outbound case j.
func (w *e2eWorld) decisionInAccepted(j int) bool { return w.ping || j%2 == 0 }

// dtpItems are intervention i's items in DTP's shape, edge cases applied.
func dtpItems(i int) []map[string]any {
	items := progrestest.SyntheticReferral(i, languagesOf(i)...)
	for _, it := range items {
		if i != e2eNoConsent {
			it[consentColumn] = true
		}
		if i == e2eUnknownType {
			it["interventiontype.progres_description"] = "Protection"
		}
		it["individuals.progres_id"] = individualNumber(person(i))
	}
	return items
}

// pingRows are intervention i's detail rows in PING's shape.
func pingRows(i int) []map[string]any {
	rows := progrestest.SyntheticDetailRows(i, languagesOf(i)...)
	for _, r := range rows {
		if i != e2eNoConsent {
			r[consentColumn] = true
		}
		if i == e2eUnknownType {
			r["progres_interventiontype2.interventiontype.progres_description"] = "Protection"
		}
		r["progres_individual.individuals.progres_id"] = individualNumber(person(i))
	}
	return rows
}

// seed puts the synthetic set in the fakes: the interventions (DTP: queued
// two per notification; PING: pending), the Primero cases the edge cases
// need, and the cases referred to the UNHCR user.
func (w *e2eWorld) seed() {
	h := w.h
	for range 2 {
		h.Primero.AddCase(map[string]any{"module_id": "primeromodule-cp", "unhcr_individual_no": individualNumber(e2eAmbiguous), "owned_by": caseworker1})
	}
	h.Primero.AddCase(map[string]any{"module_id": "primeromodule-cp", "unhcr_individual_no": individualNumber(e2eExisting),
		"name_first": "Corrected", "owned_by": caseworker1, "language": []any{"language1"}})
	for i := 1; i <= w.n; i++ {
		if w.ping {
			w.addIntervention(i)
		} else if i%2 == 1 {
			items := dtpItems(i)
			if i < w.n {
				items = append(items, dtpItems(i+1)...)
			}
			h.DTP.QueueReferral(items...)
		}
	}
	seedOutbound(h)
	for j := e2eOutFirst; j < e2eOutFirst+w.m; j++ {
		w.out[j] = h.addReferredCase(j, outOwner, true, nil)
	}
}

// addNew is a change in the sources: proGres sends the next interventions
// up to a valid one (the edge cases on the way included), and a caseworker
// refers another case to the UNHCR user.
func (w *e2eWorld) addNew() {
	for {
		w.n++
		w.addIntervention(w.n)
		if validIntervention(w.n) {
			break
		}
	}
	j := e2eOutFirst + w.m
	w.m++
	w.out[j] = w.h.addReferredCase(j, outOwner, true, nil)
}

// addIntervention makes proGres send intervention i (DTP: in a
// notification of its own).
func (w *e2eWorld) addIntervention(i int) {
	h := w.h
	if w.ping {
		h.PING.AddRows(progrestest.SHPPendingInterventions, progrestest.SyntheticPendingRow(i))
		h.PING.AddRows(progrestest.SHPInterventionDetail, pingRows(i)...)
		return
	}
	h.DTP.QueueReferral(dtpItems(i)...)
}

// build makes the flows afresh on the harness's state (a new process), and
// mounts the DTP ones behind the inbound chaos handler.
func (w *e2eWorld) build() {
	t, h := w.t, w.h
	ic := intakeConfig(h)
	dc := decisionsConfig(h)
	oc := h.outboundConfig(w.ping, w.revs)
	oc.PINGReadBack = true
	inCfg := DecisionsInConfig{Common: h.Common(decisionsPolicy), Primero: h.PrimeroClient, Recipient: unhcrUser}
	var intake, decOut Flow
	var err error
	if w.ping {
		inCfg.PING = h.PINGClient
		if intake, err = NewIntake(withPINGIntake(ic, h.PINGClient)); err != nil {
			t.Fatal(err)
		}
		if decOut, err = NewDecisionsOut(withPINGDecisions(dc, h.PINGClient)); err != nil {
			t.Fatal(err)
		}
	} else {
		if intake, err = NewIntake(withDTPIntake(ic, h.DTPClient)); err != nil {
			t.Fatal(err)
		}
		if decOut, err = NewDecisionsOut(withDTPDecisions(dc, h.DTPClient)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := NewOutbound(oc)
	require.NoError(t, err)
	in, err := NewDecisionsIn(inCfg)
	require.NoError(t, err)
	w.flows = []Flow{intake, decOut, out, in}
	w.runner = &Runner{State: h.State, Flows: w.flows}
	if w.ping {
		return
	}
	ph, err := progres.NewHandler(progres.WithAPIKey("", inboundKey), progres.WithHandlerLogger(h.Logger),
		intake.(*Intake).HandlerOption(), progres.OnDecision(in.OnDecision))
	require.NoError(t, err)
	var next http.Handler = ph
	w.inboundNext.Store(&next)
	if w.inbound == nil {
		w.inbound, err = progrestest.NewChaosHandler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			w.count.tick()
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			stop := context.AfterFunc(*w.proc.Load(), cancel) // the process stopping ends its requests
			defer stop()
			(*w.inboundNext.Load()).ServeHTTP(rw, r.WithContext(ctx))
		}), progrestest.Chaos{})
		require.NoError(t, err)
		t.Cleanup(w.inbound.Close)
		var hh http.Handler = w.inbound
		h.handler.Store(&hh)
	}
}

// chaos turns the seeded fault plan on (rate > 0) or off in every fake and
// in front of the inbound handler.
func (w *e2eWorld) chaos(rate float64, seed int64) {
	t, h := w.t, w.h
	notPerson := func(r *http.Request) bool { return r.Header.Get(e2eExemptHeader) == "" }
	if rate == 0 {
		h.Primero.StopChaos()
		h.DTP.StopChaos()
		h.PING.StopChaos()
		if w.inbound != nil {
			w.inbound.StopChaos()
		}
		return
	}
	c := progrestest.Chaos{Rate: rate, Seed: seed, Hold: w.to.Hold, Match: notPerson}
	require.NoError(t, h.Primero.SetChaos(c))
	c.Seed++
	require.NoError(t, h.DTP.SetChaos(c))
	c.Seed++
	require.NoError(t, h.PING.SetChaos(c))
	if w.inbound != nil {
		c.Seed++
		c.Hold = w.to.InboundHold
		require.NoError(t, w.inbound.SetChaos(c))
	}
}

// cycle is one round of the world: DTP pushes what it holds, the runner
// runs every flow once, then the people react to what arrived. It returns
// the cycle's stats (summed) and whether anything moved.
func (w *e2eWorld) cycle(ctx context.Context) (Stats, bool, error) {
	acked := 0
	if !w.ping {
		acked, _ = w.h.DTP.Push(ctx)
	}
	sts, err := w.runner.Cycle(ctx)
	var sum Stats
	for _, s := range sts {
		sum = sum.Add(s)
	}
	reacted := w.react(context.Background()) // the people are not the process
	moved := acked > 0 || reacted || sum.Created+sum.Updated+sum.Sent+sum.Decided > 0
	return sum, moved, err
}

// react is the people: a caseworker decides on each intervention's service
// once it is in Primero; a proGres officer decides on each referral once
// DTP has it (PING lists its own decision with the referral).
func (w *e2eWorld) react(ctx context.Context) bool {
	w.reactMu.Lock()
	defer w.reactMu.Unlock()
	moved := false
	for i := 1; i <= w.n; i++ {
		want := decisionOut(i)
		if want == "" || w.decidedOut[i] != "" {
			continue
		}
		id, ok := w.caseWithService(i)
		if !ok {
			continue
		}
		row := map[string]any{"unique_id": serviceUID(i), "unhcr_referral_status": want}
		if want == "rejected" {
			row["unhcr_referral_rejection_reason"] = "Synthetic reason code R" + fmt.Sprint(i)
		}
		_, err := w.h.PrimeroAdmin.Cases.Update(ctx, id, primero.Patch{"services_section": []any{row}})
		require.NoError(w.t, err)
		w.decidedOut[i] = want
		moved = true
	}
	if w.ping {
		return moved
	}
	sent := w.h.DTP.DistinctReferrals()
	for j, oc := range w.out {
		key := compositeKey(w.t, oc)
		if w.queuedIn[j] || sent[key] == 0 {
			continue
		}
		w.h.DTP.QueueDecision(progrestest.SyntheticDecision(j, key, w.decisionInAccepted(j)))
		w.queuedIn[j] = true
		moved = true
	}
	return moved
}

// serviceUID is the stable unique_id of intervention i's service row.
func serviceUID(i int) string {
	return StableID("", kindProgresIntervention, progrestest.InterventionNumber(i))
}

// caseWithService finds, in the Primero fake, the case holding
// intervention i's service row.
func (w *e2eWorld) caseWithService(i int) (string, bool) {
	for _, c := range w.h.CasesByIndividual(individualNumber(person(i))) {
		for _, s := range servicesOf(c) {
			if s["unique_id"] == serviceUID(i) {
				return c["id"].(string), true
			}
		}
	}
	return "", false
}

// runUntilQuiet runs chaosCycles cycles, then turns chaos off and runs until
// a cycle moves nothing (at most settle cycles). It returns every run's
// stats and the number of cycles.
func (w *e2eWorld) runUntilQuiet(ctx context.Context, chaosCycles, settle int) (Stats, int) {
	var all Stats
	n := 0
	for range chaosCycles {
		s, _, _ := w.cycle(ctx)
		all = all.Add(s)
		n++
	}
	w.chaos(0, 0)
	for range settle {
		s, moved, _ := w.cycle(ctx)
		all = all.Add(s)
		n++
		if !moved && (w.ping || w.h.DTP.Pending() == 0) {
			return all, n
		}
	}
	w.t.Fatalf("the flows did not settle in %d cycles after chaos", settle)
	return all, n
}

// flowNames are the world's flows' names.
func (w *e2eWorld) flowNames() []string {
	out := make([]string, len(w.flows))
	for i, f := range w.flows {
		out[i] = f.Name()
	}
	return out
}

// distinct returns the distinct values of vs, sorted.
func distinct(vs []string) []string {
	out := slices.Clone(vs)
	slices.Sort(out)
	return slices.Compact(out)
}

// e2eSummary is what the fakes hold at the end, by distinct effect, and the
// raw request counts beside (which may exceed the effects where a gateway
// cannot be read back).
type e2eSummary struct {
	// State is compared between runs: per child, the case and its service
	// rows; per intervention, the distinct answers proGres got; per
	// outbound case, the distinct referrals proGres holds and the Primero
	// referral's status.
	State map[string]string
	// Raw counts the requests behind each effect.
	Raw map[string]int
}

// summarize reads the fakes.
func (w *e2eWorld) summarize() e2eSummary {
	h := w.h
	s := e2eSummary{State: map[string]string{}, Raw: map[string]int{}}
	// Ids the fake made up differ between harnesses: they are named by
	// the child they belong to.
	norm := map[string]string{}
	for p := 1; p <= w.n; p++ {
		for k, c := range h.CasesByIndividual(individualNumber(p)) {
			norm[fmt.Sprint(c["case_id"])] = fmt.Sprintf("case-of-%d/%d", p, k)
			if c["id"] != StableID("", kindProgresIndividual, individualNumber(p)) {
				norm[fmt.Sprint(c["id"])] = fmt.Sprintf("id-of-%d/%d", p, k)
			}
		}
	}
	n := func(v any) string {
		if s, ok := norm[fmt.Sprint(v)]; ok {
			return s
		}
		return fmt.Sprint(v)
	}
	for p := 1; p <= w.n; p++ {
		for k, c := range h.CasesByIndividual(individualNumber(p)) {
			var svc []string
			for _, r := range servicesOf(c) {
				svc = append(svc, fmt.Sprintf("%v:%v", r["unique_id"], r["unhcr_referral_status"]))
			}
			sort.Strings(svc)
			s.State[fmt.Sprintf("case:%d:%d", p, k)] = fmt.Sprintf("%v|%v|%v|%s", n(c["id"]), c["owned_by"], c["language"], strings.Join(svc, ","))
		}
	}
	for i := 1; i <= w.n; i++ {
		var answers []string
		var raw int
		if w.ping {
			for _, r := range transferUpdates(h)[lpID(i)] {
				answers = append(answers, field(r, "progres_primerotransferstatus")+"|"+n(field(r, "progres_primeroid"))+"|"+field(r, "progres_primerocaseworker"))
				raw++
			}
		} else {
			for _, fb := range feedbackFor(h, progrestest.InterventionNumber(i)) {
				answers = append(answers, fmt.Sprintf("%v|%v|%v|%v", fb["status"], n(fb["case_id"]), fb["primero_user"], fb["closure_reason"]))
				raw++
			}
		}
		s.State[fmt.Sprintf("answers:%d", i)] = strings.Join(distinct(answers), " ; ")
		if len(answers) > 0 {
			// What proGres holds last: each answer sets the status.
			s.State[fmt.Sprintf("last:%d", i)] = answers[len(answers)-1]
		}
		s.Raw[fmt.Sprintf("answers:%d", i)] = raw
	}
	dtpSent := h.DTP.DistinctReferrals()
	pingSent := map[string]int{}
	for _, in := range h.PING.Ingested() {
		if in.ShippingProcessID == progrestest.SHPCreateReferral {
			for _, r := range in.Records {
				pingSent[field(r, "progres_orgreferralid")]++
			}
		}
	}
	for j, oc := range w.out {
		raw := dtpSent[compositeKey(w.t, oc)]
		if w.ping {
			raw = pingSent[oc.ServiceID]
		}
		st, _ := h.referralStatus(oc)
		s.State[fmt.Sprintf("outbound:%d", j)] = fmt.Sprintf("sent:%t|primero:%s", raw > 0, st)
		s.Raw[fmt.Sprintf("outbound:%d", j)] = raw
	}
	return s
}

// assertExactlyOnce checks the summary against the synthetic set: every
// intervention became exactly one service on exactly one case, each
// answered with exactly one distinct effect per outcome, each decision
// reached the other side once, nothing is missing.
func (w *e2eWorld) assertExactlyOnce(s e2eSummary) {
	t, h := w.t, w.h
	t.Helper()
	for i := 1; i <= w.n; i++ {
		cs := h.CasesByIndividual(individualNumber(person(i)))
		switch i {
		case e2eAmbiguous:
			require.Len(t, cs, 2, "the duplicates stay two")
			for _, c := range cs {
				require.Empty(t, servicesOf(c), "nothing written into either duplicate")
			}
			continue
		case e2eUnknownType, e2eNoConsent:
			require.Empty(t, cs, "nothing created for refused intervention %d", i)
			continue
		}
		require.Len(t, cs, 1, "exactly one case for intervention %d's child", i)
		var rows []map[string]any
		for _, r := range servicesOf(cs[0]) {
			if r["unique_id"] == serviceUID(i) {
				rows = append(rows, r)
			}
		}
		require.Len(t, rows, 1, "exactly one service row for intervention %d", i)
		if want := decisionOut(i); want != "" {
			require.Equal(t, want, rows[0]["unhcr_referral_status"], "intervention %d's decision stands", i)
		}
		want := len(servicesOf(cs[0]))
		if person(i) == e2eSameChild-1 && w.n >= e2eSameChild {
			require.Equal(t, 2, want, "two interventions, two services on the child's one case")
		} else {
			require.Equal(t, 1, want, "intervention %d's case has one service", i)
		}
		if i == e2eExisting {
			require.Equal(t, caseworker1, cs[0]["owned_by"], "the existing case keeps its owner")
		}
		langs, _ := cs[0]["language"].([]any)
		require.Len(t, langs, len(languagesOf(i))+boolInt(i == e2eExisting), "intervention %d's languages, once each", i)
	}
	for i := 1; i <= w.n; i++ {
		w.assertAnswers(i, s)
	}
	for j, oc := range w.out {
		raw := s.Raw[fmt.Sprintf("outbound:%d", j)]
		require.GreaterOrEqual(t, raw, 1, "outbound case %d reached proGres", j)
		if w.ping {
			require.Equal(t, 1, raw, "PING holds one referral for outbound case %d", j)
		}
		st, _ := h.referralStatus(oc)
		want := "rejected"
		if w.decisionInAccepted(j) {
			want = "accepted"
		}
		require.Equal(t, want, st, "proGres's decision on outbound case %d is applied", j)
	}
	if !w.ping {
		require.Len(t, h.DTP.DistinctReferrals(), w.m, "one distinct referral per outbound case, no other")
		require.Zero(t, h.DTP.Pending(), "every notification acknowledged")
	} else {
		require.Empty(t, pendingIDs(h, w.n, validIntervention), "every valid intervention left the pending list")
		for _, r := range h.PING.Rows(progrestest.SHPDecisions) {
			require.EqualValues(t, fmt.Sprint(progrestest.StatusSynced), fmt.Sprint(r["progres_interoperabilityreferralstatus"]), "every decision marked synced")
		}
	}
	for _, f := range w.flowNames() {
		h.Audit(f) // verifies the chain
	}
}

// assertAnswers checks what proGres got about intervention i: one distinct
// intake answer and, when decided, one distinct decision.
func (w *e2eWorld) assertAnswers(i int, s e2eSummary) {
	t := w.t
	t.Helper()
	got := s.State[fmt.Sprintf("answers:%d", i)]
	answers := strings.Split(got, " ; ")
	if got == "" {
		answers = nil
	}
	var intake, decision []string
	for _, a := range answers {
		switch {
		case strings.HasPrefix(a, "acknowledged|"), strings.HasPrefix(a, "rejected|"),
			strings.HasPrefix(a, "125080003|"), strings.HasPrefix(a, "125080004|"):
			decision = append(decision, a)
		default:
			intake = append(intake, a)
		}
	}
	switch {
	case w.ping && !validIntervention(i):
		require.Empty(t, intake, "PING has no failure status: intervention %d stays pending", i)
	default:
		require.Len(t, intake, 1, "one distinct intake answer for intervention %d: %v", i, answers)
	}
	if len(decision) > 0 {
		require.Equal(t, decision[0], s.State[fmt.Sprintf("last:%d", i)],
			"intervention %d: the decision is the last status proGres got, no intake answer after it", i)
	}
	switch decisionOut(i) {
	case "":
		require.Empty(t, decision, "no decision sent for intervention %d", i)
	case "accepted":
		require.Len(t, decision, 1, "intervention %d's decision, once: %v", i, answers)
		require.True(t, strings.HasPrefix(decision[0], "acknowledged|") || strings.HasPrefix(decision[0], "125080003|"), decision[0])
	case "rejected":
		require.Len(t, decision, 1, "intervention %d's decision, once: %v", i, answers)
		require.True(t, strings.HasPrefix(decision[0], "rejected|") || strings.HasPrefix(decision[0], "125080004|"), decision[0])
	}
}

// pendingIDs returns the interventions still on PING's pending list that
// keep says should not be.
func pendingIDs(h *harness, n int, keep func(int) bool) []int {
	var out []int
	for _, r := range h.PING.Rows(progrestest.SHPPendingInterventions) {
		for i := 1; i <= n; i++ {
			if r["progres_lpinterventionid"] == lpID(i) && keep(i) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// faultSummary is every fake's fault counts, for the test log.
func (w *e2eWorld) faultSummary() string {
	h := w.h
	parts := []string{"primero: " + h.Primero.FaultCounts().String()}
	if w.ping {
		parts = append(parts, "ping: "+h.PING.FaultCounts().String())
	} else {
		parts = append(parts, "dtp: "+h.DTP.FaultCounts().String(), "inbound: "+w.inbound.FaultCounts().String())
	}
	return strings.Join(parts, "; ")
}

// assertNoPersonalData scans everything the world's flows emitted: the
// debug log, the audit trails, the stats and errors given.
func (w *e2eWorld) assertNoPersonalData(st Stats) {
	w.t.Helper()
	w.h.AssertNoPersonalData(w.n, w.flowNames(), statsTexts(st)...)
	rec, fields := outPersonal(e2eOutFirst + w.m - 1)
	assertNoLeak(w.t, rec, fields, append([]string{w.h.Logs.String()}, statsTexts(st)...)...)
}

// equalSummaries compares the states of two summaries.
func equalSummaries(a, b e2eSummary) bool { return maps.Equal(a.State, b.State) }

// envInt reads a positive integer environment variable.
func envInt(t testing.TB, name string) int {
	t.Helper()
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n < 1 {
		t.Fatalf("%s must be a positive integer", name)
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// requestCounter counts the requests the flows make and serve, and calls
// fire once when the count reaches at (0: never).
type requestCounter struct {
	mu    sync.Mutex
	n, at int
	fire  func()
}

// arm makes fire run at the at-th request from now.
func (c *requestCounter) arm(at int, fire func()) {
	c.mu.Lock()
	c.n, c.at, c.fire = 0, at, fire
	c.mu.Unlock()
}

// tick counts one request.
func (c *requestCounter) tick() {
	c.mu.Lock()
	c.n++
	var f func()
	if c.at > 0 && c.n == c.at {
		f = c.fire
	}
	c.mu.Unlock()
	if f != nil {
		f()
	}
}

// seen is the number of requests counted since arm.
func (c *requestCounter) seen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// countRequests makes every request of the flows' Primero and PING clients
// tick the counter (the inbound handler's do too, see build).
func (w *e2eWorld) countRequests() {
	tick := func(*http.Request, []byte) int { w.count.tick(); return 0 }
	w.h.PrimeroFaults.Fail(tick)
	w.h.PINGFaults.Fail(tick)
}

// assertDecisionSent checks that the caseworker's decision on intervention
// i has reached proGres (once: see assertAnswers).
func (w *e2eWorld) assertDecisionSent(i int, s e2eSummary) {
	w.t.Helper()
	prefix := map[bool]map[string]string{
		false: {"accepted": "acknowledged|", "rejected": "rejected|"},
		true:  {"accepted": "125080003|", "rejected": "125080004|"},
	}[w.ping][decisionOut(i)]
	for _, a := range strings.Split(s.State["answers:"+itoa(int64(i))], " ; ") {
		if strings.HasPrefix(a, prefix) {
			return
		}
	}
	w.t.Fatalf("intervention %d's decision has not reached proGres: %s", i, s.State["answers:"+itoa(int64(i))])
}
