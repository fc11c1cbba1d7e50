package referral

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/casebridge/casebridge/sqlsink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newOutbound builds the outbound flow on the harness.
func newOutbound(t *testing.T, h *harness, ping bool, revs *revocations, edit ...func(*OutboundConfig)) *Outbound {
	t.Helper()
	cfg := h.outboundConfig(ping, revs)
	for _, e := range edit {
		e(&cfg)
	}
	f, err := NewOutbound(cfg)
	require.NoError(t, err)
	return f
}

// dtpKeys is the set of keys a DTP body may carry: what the spec maps from
// the policy's need-to-know fields and the owner's contact.
var dtpKeys = []string{"request_type", "id", "primero_user", "position", "email", "phone", "full_name",
	"service_implementing_agency", "owned_by_agency_id", "service_response_day_time", "service_type",
	"service_type_other", "service_referral_notes", "unhcr_individual_no", "unhcr_id_no", "name_first",
	"name_last", "name_middle", "name_nickname", "date_of_birth", "sex", "address_current",
	"telephone_current", "language"}

func TestOutboundDTPSendsOneReferralPerServiceOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	revs := &revocations{}
	c1 := h.addReferredCase(1, outOwner, true, map[string]any{"language": []any{"language2", "language8"}})
	f := newOutbound(t, h, false, revs)

	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Sent, "%v %v", s, s.Errors)
	assert.Zero(t, s.Failed)

	bodies := h.DTP.Referrals()
	require.Len(t, bodies, 1)
	b := bodies[0]
	key, err := progres.NewReferralKey(c1.CaseID, c1.ServiceID)
	require.NoError(t, err)
	assert.Equal(t, key.String(), b["id"], "the composite key")
	assert.Equal(t, "Alternative Care", b["service_type"])
	assert.Equal(t, "Nuer, Somali", b["language"])
	assert.Equal(t, outOwner, b["primero_user"])
	assert.Equal(t, "000-test-cw", b["phone"], "the owner's own contact details")
	for k := range b {
		assert.Contains(t, dtpKeys, k, "only mapped need-to-know keys are sent")
	}

	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Sent, "a second run sends nothing")
	assert.Len(t, h.DTP.Referrals(), 1)

	// Audit: a decision, an intent before the send and the delivery after.
	var kinds []string
	for _, e := range h.Audit(f.Name()) {
		kinds = append(kinds, e.Kind+":"+e.Decision+e.Outcome)
		assert.Equal(t, h.Common(outPolicy).Policy.Hash(), e.PolicyHash)
		assert.NotEmpty(t, e.MappingHash)
	}
	assert.Equal(t, []string{"decision:allow", "delivery:intended", "delivery:delivered"}, kinds)
	rec, fields := outPersonal(1)
	all := []string{h.Logs.String(), s.String()}
	for _, e := range h.Audit(f.Name()) {
		all = append(all, string(consent.CanonicalEvent(e)))
	}
	assertNoLeak(t, rec, fields, all...)
}

func TestOutboundNoCursorNoStartRefuses(t *testing.T) {
	h := newHarness(t)
	f := newOutbound(t, h, false, &revocations{}, func(c *OutboundConfig) { c.Start = time.Time{} })
	_, err := f.RunOnce(context.Background())
	require.ErrorIs(t, err, ErrNoCursor)
}

func TestOutboundConsentMissingIsDeniedAndAudited(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c := h.addReferredCase(1, outOwner, true, nil)
	// Consent withdrawn before the first run: the case was never shared,
	// so there is nothing to revoke; the gate denies.
	h.updateCase(c.ID, primero.Patch{"disclosure_other_orgs": false})
	f := newOutbound(t, h, false, &revocations{})
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Sent)
	assert.Equal(t, 1, s.Denied[consent.ReasonConsentFalse], "%v", s)
	assert.Empty(t, h.DTP.Referrals())
	ev := h.Audit(f.Name())
	require.Len(t, ev, 1)
	assert.Equal(t, consent.DecisionDeny, ev[0].Decision)

	// Consent given again: the next run sends it.
	h.updateCase(c.ID, primero.Patch{"disclosure_other_orgs": true})
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Sent, "%v %v", s, s.Errors)
}

func TestOutboundOwnerWithoutContactIsRefusedNotPlaceholder(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	// cw1 has no phone: no placeholder is made up (pitfall 25).
	ids := outCaseIDs(1)
	h.addReferredCase(1, caseworker1, false, nil)
	h.updateCase(ids.ID, primero.Patch{"consent_for_services": true, "disclosure_other_orgs": true})
	c, err := primero.New(h.Primero.URL(), primero.WithBasicAuth(caseworker1, "synthetic-pass-"+caseworker1))
	require.NoError(t, err)
	_, err = c.Referrals.Create(ctx, ids.ID, &primero.ReferralRequest{TransitionedTo: unhcrUser, Service: "alternative_care", ServiceRecordID: ids.ServiceID})
	require.NoError(t, err)

	f := newOutbound(t, h, false, &revocations{})
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Sent)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, "owner_contact_missing", s.Errors[0].Code)
	assert.Empty(t, h.DTP.Referrals())

	// The failure holds the cursor: once the owner's profile is fixed, the
	// next run sends it although the case did not change.
	rec, fields := outPersonal(1)
	assertNoLeak(t, rec, fields, h.Logs.String(), s.Errors[0].Error())

	h.Primero.AddUser(primeroUserWithPhone(caseworker1))
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Sent, "%v %v", s, s.Errors)
}

func TestOutboundDTPLostAnswerResendsSameReferral(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	h.addReferredCase(1, outOwner, true, nil)
	proxy, dc := h.lossyDTP()
	f := newOutbound(t, h, false, &revocations{}, func(c *OutboundConfig) { c.DTP = dc })

	proxy.LoseNext(1, "/ReceiveIncomingReferral")
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	require.Len(t, s.Errors, 1, "%v", s)
	assert.Equal(t, "delivery", s.Errors[0].Code)
	assert.Len(t, h.DTP.Referrals(), 1, "the gateway took it; the answer was lost")

	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Sent)
	// Two POSTs, one referral: the re-send carries the same id and body.
	assert.Len(t, h.DTP.Referrals(), 2)
	assert.Equal(t, map[string]int{h.DTP.Referrals()[0]["id"].(string): 2}, h.DTP.DistinctReferrals())
	assert.Equal(t, h.DTP.Referrals()[0], h.DTP.Referrals()[1])

	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Sent)
	assert.Len(t, h.DTP.Referrals(), 2)
}

func TestOutboundDTPGatewayDownHoldsCursorLaterCasesStillSent(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	h.addReferredCase(1, outOwner, true, nil)
	h.addReferredCase(2, outOwner, true, nil)
	f := newOutbound(t, h, false, &revocations{})
	h.DTP.FailNext(1, 503)
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Sent)
	assert.Equal(t, 1, s.Failed)

	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Sent, "the failed one is sent on the next run")
	assert.Equal(t, 1, s.Unchanged, "the other is re-read and found sent")
	assert.Len(t, h.DTP.DistinctReferrals(), 2)
	assert.Len(t, h.DTP.Referrals(), 2)
}

func TestOutboundChangeDuringRunPickedUpNextRun(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	h.addReferredCase(1, outOwner, true, nil)
	var f *Outbound
	revs := &revocations{}
	added := false
	f = newOutbound(t, h, false, revs, func(c *OutboundConfig) {
		c.OnRevocation = revs.hook
	})
	// A referral made while the first run is under way (after its feed
	// read case 1): the hook is the DTP answer, via a lossless proxy.
	proxy, dc := h.lossyDTP()
	f.cfg.DTP = dc
	proxy.onForward = func(*http.Request) {
		if !added {
			added = true
			h.addReferredCase(2, outOwner, true, nil)
		}
	}
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	require.True(t, added)
	sent := s.Sent
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	sent += s.Sent
	assert.Equal(t, 2, sent, "the referral made during the first run is sent by the first or the next run")
	assert.Len(t, h.DTP.DistinctReferrals(), 2)
	assert.Len(t, h.DTP.Referrals(), 2)
}

func TestOutboundRestartAfterCancelConverges(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, withSQLite())
	seedOutbound(h)
	for i := 1; i <= 3; i++ {
		h.addReferredCase(i, outOwner, true, nil)
	}
	proxy, dc := h.lossyDTP()
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	proxy.onForward = func(*http.Request) {
		if n++; n == 2 {
			cancel() // the process dies while the second referral is sent
		}
	}
	f := newOutbound(t, h, false, &revocations{}, func(c *OutboundConfig) { c.DTP = dc })
	_, err := f.RunOnce(cctx)
	require.Error(t, err)

	h.Restart()
	f = newOutbound(t, h, false, &revocations{}, func(c *OutboundConfig) { c.DTP = dc })
	for range 2 {
		_, err = f.RunOnce(ctx)
		require.NoError(t, err)
	}
	assert.Len(t, h.DTP.DistinctReferrals(), 3, "every referral reached proGres")
	for id, posts := range h.DTP.DistinctReferrals() {
		assert.LessOrEqual(t, posts, 2, "at most the one cut off is posted again: %s", id)
	}
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Sent)
	// Every event the runs wrote is in one verified chain.
	assert.NotEmpty(t, h.Audit(f.Name()))
}

func TestOutboundPINGCreatesAndConfirms(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	f := newOutbound(t, h, true, &revocations{})
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Sent, "%v %v", s, s.Errors)
	ing := h.PING.Ingested()
	require.Len(t, ing, 1)
	assert.True(t, ing[0].Async)
	assert.Equal(t, progrestest.SHPCreateReferral, ing[0].ShippingProcessID)
	require.Len(t, ing[0].Records, 1)
	assert.Equal(t, c1.CaseID, ing[0].Records[0]["ExternalId"])
	assert.Equal(t, c1.ServiceID, pingField(ing[0].Records[0], "progres_orgreferralid"), "the full service unique_id")
	assert.Equal(t, "125080000", pingField(ing[0].Records[0], "progres_pocsex"))

	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Sent)
	assert.Len(t, h.PING.Ingested(), 1)
}

func TestOutboundPINGPendingResultCheckedNextRunNotResent(t *testing.T) {
	ctx := context.Background()
	cfg := progrestest.DefaultPINGConfig()
	cfg.PendingPolls = 1000
	h := newHarness(t, withPINGOptions(progrestest.WithPING(cfg)))
	seedOutbound(h)
	h.addReferredCase(1, outOwner, true, nil)
	f := newOutbound(t, h, true, &revocations{})
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Pending, "%v %v", s, s.Errors)
	assert.Zero(t, s.Sent)

	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Pending)
	assert.Len(t, h.PING.Ingested(), 1, "the pending ingestion is checked, never sent again")
}

func TestOutboundPINGRejectedRecordIsSentAgain(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	c1 := h.addReferredCase(1, outOwner, true, nil)
	h.PING.RejectRecord(c1.CaseID)
	f := newOutbound(t, h, true, &revocations{})
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	require.Len(t, s.Errors, 1)
	assert.Equal(t, "ingestion_rejected", s.Errors[0].Code)
	s, err = f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Len(t, h.PING.Ingested(), 2, "a record PING refused is sent again")
}

func TestOutboundPINGLostCreateAnswer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		readBack bool
		listed   int // the fake's ListCreatedReferrals
		creates  int
		code     string
	}{
		{"no read-back: never re-sent", false, 0, 1, "unconfirmed_send"},
		{"read-back finds it: not re-sent", true, progrestest.StatusAccepted, 1, ""},
		{"read-back absent: re-sent", true, 0, 2, ""},
		{"read-back list unreadable: not re-sent", true, 125080009, 1, "read_back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			pcfg := progrestest.DefaultPINGConfig()
			pcfg.ListCreatedReferrals = tc.listed
			h := newHarness(t, withPINGOptions(progrestest.WithPING(pcfg)))
			seedOutbound(h)
			c1 := h.addReferredCase(1, outOwner, true, nil)
			proxy, pc := h.lossyPING()
			f := newOutbound(t, h, true, &revocations{}, func(c *OutboundConfig) { c.PING = pc; c.PINGReadBack = tc.readBack })
			proxy.LoseNext(1, "/asyncdata")
			s, err := f.RunOnce(ctx)
			require.NoError(t, err)
			require.Len(t, s.Errors, 1, "%v", s)
			assert.Equal(t, "unconfirmed_send", s.Errors[0].Code)
			s, err = f.RunOnce(ctx)
			require.NoError(t, err)
			assert.Len(t, h.PING.Ingested(), tc.creates)
			if tc.code != "" {
				require.Len(t, s.Errors, 1)
				assert.Equal(t, tc.code, s.Errors[0].Code)
				// A person checked proGres: Resend lets the next run send it.
				require.NoError(t, f.Resend(ctx, c1.Referral.ID))
				if tc.code == "read_back" {
					f.cfg.PINGReadBack = false
				}
				s, err = f.RunOnce(ctx)
				require.NoError(t, err)
				assert.Len(t, h.PING.Ingested(), 2)
			}
			assert.Equal(t, 1, s.Sent, "%v %v", s, s.Errors)
		})
	}
}

// pingField returns an ingested record's field value.
func pingField(rec map[string]any, name string) any {
	fields, _ := rec["Fields"].([]any)
	for _, f := range fields {
		if m, ok := f.(map[string]any); ok && m["Name"] == name {
			return m["Value"]
		}
	}
	return nil
}

// crashingState fails its next Update once armed: the process stopping
// between a write to proGres and the commit of what it recorded.
type crashingState struct {
	sqlsink.State
	mu    sync.Mutex
	armed bool
}

func (c *crashingState) arm() { c.mu.Lock(); c.armed = true; c.mu.Unlock() }

func (c *crashingState) Update(ctx context.Context, flow string, fn func(sqlsink.StateTx) error) error {
	c.mu.Lock()
	armed := c.armed
	c.armed = false
	c.mu.Unlock()
	if armed {
		return errors.New("synthetic crash before the commit")
	}
	return c.State.Update(ctx, flow, fn)
}

func TestOutboundPINGCrashAfterCreateIsNotResentBlindly(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	h.addReferredCase(1, outOwner, true, nil)
	proxy, pc := h.lossyPING()
	st := &crashingState{State: h.State}
	proxy.onForward = func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/asyncdata") {
			st.arm() // the Update after the Create fails
		}
	}
	f := newOutbound(t, h, true, &revocations{}, func(c *OutboundConfig) { c.PING = pc; c.State = st })
	_, err := f.RunOnce(ctx)
	require.Error(t, err)
	require.Len(t, h.PING.Ingested(), 1)

	// Restarted: the referral is known to be possibly created.
	f = newOutbound(t, h, true, &revocations{}, func(c *OutboundConfig) { c.PING = pc })
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Len(t, h.PING.Ingested(), 1, "not sent a second time")
	require.Len(t, s.Errors, 1)
	assert.Equal(t, "unconfirmed_send", s.Errors[0].Code)
}

func TestOutboundServiceTypeNotAgreedIsDenied(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	seedOutbound(h)
	ids := outCaseIDs(1)
	h.addReferredCase(1, outOwner, false, map[string]any{"services_section": []any{map[string]any{
		"unique_id": ids.ServiceID, "service_type": "health", "service_implementing_agency": agencyUNHCR}}})
	h.updateCase(ids.ID, primero.Patch{"consent_for_services": true, "disclosure_other_orgs": true})
	h.refer(ids.ID, ids.ServiceID, "health")
	f := newOutbound(t, h, false, &revocations{})
	s, err := f.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Denied[consent.ReasonServiceNotAllowed], "%v %v", s, s.Errors)
	assert.Empty(t, h.DTP.Referrals(), "only the agreed service types are exchanged")
}
