package progres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const inboundKey = "synthetic-inbound-key-0001"

// sink collects what the callbacks received; fail decides per call.
type sink struct {
	mu        sync.Mutex
	referrals []progres.Delivery[*progres.OutgoingReferral]
	decisions []progres.Delivery[*progres.IncomingReferralDecision]
	fail      func(key progres.DeliveryKey, index int) error
}

func (s *sink) onReferral(_ context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.referrals = append(s.referrals, d)
	if s.fail != nil {
		return s.fail(d.Key, d.Index)
	}
	return nil
}

func (s *sink) onDecision(_ context.Context, d progres.Delivery[*progres.IncomingReferralDecision]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decisions = append(s.decisions, d)
	if s.fail != nil {
		return s.fail(d.Key, d.Index)
	}
	return nil
}

func (s *sink) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.referrals) + len(s.decisions)
}

// inbound starts the real Handler on an HTTP server and a DTP fake that
// pushes to it.
func inbound(t *testing.T, opts ...progres.HandlerOption) (*sink, *httptest.Server, *progrestest.DTPServer) {
	t.Helper()
	sk := &sink{}
	all := append([]progres.HandlerOption{
		progres.WithAPIKey("", inboundKey), progres.OnReferral(sk.onReferral), progres.OnDecision(sk.onDecision),
	}, opts...)
	h, err := progres.NewHandler(all...)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dtp := progrestest.NewDTPServer(t, progrestest.WithInbound(srv.URL, inboundKey))
	return sk, srv, dtp
}

func post(t *testing.T, url, key, body string) (*http.Response, progres.Answer) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(progres.DefaultAPIKeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var a progres.Answer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return resp, a
}

func TestHandlerReceivesReferralRowsPushedByTheFake(t *testing.T) {
	sk, _, dtp := inbound(t)
	dtp.QueueReferral(progrestest.SyntheticReferral(1, "French", "English")...)
	n, err := dtp.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 0, dtp.Pending())

	require.Len(t, sk.referrals, 2, "one item per join row")
	a, b := sk.referrals[0], sk.referrals[1]
	assert.Equal(t, progrestest.InterventionNumber(1), a.Item.InterventionNumber)
	assert.Equal(t, a.Item.InterventionNumber, b.Item.InterventionNumber)
	assert.Equal(t, "French", a.Item.Language.Name)
	assert.Equal(t, "English", b.Item.Language.Name)
	assert.NotEqual(t, a.Key, b.Key, "rows differ, so do their keys")
	assert.Equal(t, progres.SexMale, a.Item.Sex)
	assert.Equal(t, "2016-07-19", a.Item.DateOfBirth)
	assert.Equal(t, "000-23-0000001", a.Item.RegistrationGroup.Name)
	assert.Equal(t, "Zone A", a.Item.Location[0].Name)
	assert.Equal(t, "Alternative Care", a.Item.ServiceType)
	assert.Empty(t, a.Item.Missing())
	assert.Contains(t, a.Item.Fields, "languages.progres_speaklevel", "untyped keys are kept")
	assert.Equal(t, 1, b.Index)
}

func TestHandlerReceivesDecisionsWithBothSpellings(t *testing.T) {
	sk, _, dtp := inbound(t)
	rejected := progrestest.SyntheticDecision(2, testKey, false)
	older := progrestest.SyntheticDecision(3, testKey, false)
	older[progrestest.KeyRejectionCommentOld] = older["progres_interoperabilityreferralrejectionomment"]
	delete(older, "progres_interoperabilityreferralrejectionomment")
	dtp.QueueDecision(progrestest.SyntheticDecision(1, testKey, true), rejected, older)
	_, err := dtp.Push(context.Background())
	require.NoError(t, err)

	require.Len(t, sk.decisions, 3)
	acc, rej, old := sk.decisions[0].Item, sk.decisions[1].Item, sk.decisions[2].Item
	assert.Equal(t, progres.DecisionAccepted, acc.ReviewDecision)
	assert.Equal(t, progres.RejectionReason(0), acc.RejectionReason)
	assert.Equal(t, testKey, acc.OrgReferralID.String())
	assert.Equal(t, progres.DecisionRejected, rej.ReviewDecision)
	assert.Equal(t, progres.ReasonIndividualNotFound, rej.RejectionReason)
	assert.Equal(t, "Synthetic comment", rej.RejectionComment)
	assert.Equal(t, "Synthetic comment", old.RejectionComment, "the older spelling is accepted")
}

func TestHandlerPartialFailureIsRedeliveredWithTheSameKeys(t *testing.T) {
	sk, _, dtp := inbound(t)
	failOnce := true
	sk.fail = func(_ progres.DeliveryKey, index int) error {
		if index == 1 && failOnce {
			failOnce = false
			return errors.New("state store unavailable")
		}
		return nil
	}
	dtp.QueueReferral(append(progrestest.SyntheticReferral(1, "French"), progrestest.SyntheticReferral(2)...)...)
	n, err := dtp.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, n, "not acknowledged")
	assert.Equal(t, 1, dtp.Pending(), "the sender keeps it")
	att := dtp.PushAttempts()
	require.Len(t, att, 1)
	assert.Equal(t, http.StatusInternalServerError, att[0].Status)
	var a progres.Answer
	require.NoError(t, json.Unmarshal(att[0].Answer, &a))
	assert.Equal(t, "failed", a.Status)
	require.Len(t, a.Results, 2)
	assert.Equal(t, "delivered", a.Results[0].Status)
	assert.Equal(t, "failed", a.Results[1].Status)
	assert.NotContains(t, string(att[0].Answer), "state store", "callback errors are not echoed")

	n, err = dtp.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 0, dtp.Pending())
	require.Len(t, sk.referrals, 4)
	assert.Equal(t, sk.referrals[0].Key, sk.referrals[2].Key, "re-delivery gives the same key")
	assert.Equal(t, sk.referrals[1].Key, sk.referrals[3].Key)
	assert.Equal(t, a.Results[1].DeliveryKey, sk.referrals[3].Key)
}

func TestDeliveryKeyIgnoresKeyOrderAndWhitespace(t *testing.T) {
	a := `{"request_type":"PrimeroIncomingReferralDecision","interventions":[{"progres_interoperabilityreferralid":"r1","progres_orgreferralid":"` + testKey + `","progres_reviewdecision":"125080000"}]}`
	b := "{\"interventions\": [ {\"progres_reviewdecision\": \"125080000\",\n \"progres_orgreferralid\": \"" + testKey + "\", \"progres_interoperabilityreferralid\": \"r1\"} ], \"request_type\": \"PrimeroIncomingReferralDecision\"}"
	na, err := progres.DecodeNotification([]byte(a))
	require.NoError(t, err)
	nb, err := progres.DecodeNotification([]byte(b))
	require.NoError(t, err)
	assert.Equal(t, na.Keys, nb.Keys)
	c := strings.Replace(a, "125080000", "125080001", 1)
	nc, err := progres.DecodeNotification([]byte(c))
	require.NoError(t, err)
	assert.NotEqual(t, na.Keys[0], nc.Keys[0], "different content, different key")
}

func TestHandlerAPIKey(t *testing.T) {
	sk, srv, _ := inbound(t)
	body := `{"interventions":[],"request_type":"PrimeroOutgoingReferral"}`
	for _, key := range []string{"", "wrong-key-wrong-key", inboundKey + "x"} {
		resp, a := post(t, srv.URL, key, body)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, key)
		assert.Equal(t, progres.Answer{Status: "error"}, a, "no detail")
	}
	resp, _ := post(t, srv.URL, inboundKey, body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Zero(t, sk.calls())

	// The fake pushing with the wrong key keeps its notification.
	dtp := progrestest.NewDTPServer(t, progrestest.WithInbound(srv.URL, "wrong-key-wrong-key"))
	dtp.QueueReferral(progrestest.SyntheticReferral(1)...)
	n, err := dtp.Push(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1, dtp.Pending())
	assert.Zero(t, sk.calls())
}

// An envelope the handler cannot read is refused whole, with 400 and the
// refused paths, and no callback is called; refusals of single items are
// in handler_items_test.go.
func TestHandlerRefusesMalformedEnvelopes(t *testing.T) {
	sk, srv, _ := inbound(t)
	tests := map[string]struct {
		body string
		path string
	}{
		"not JSON":        {`{"interventions": [`, "$"},
		"array":           {`[]`, "$"},
		"trailing data":   {`{"interventions":[],"request_type":"PrimeroOutgoingReferral"} {}`, "$"},
		"unknown type":    {`{"interventions":[],"request_type":"Other"}`, "request_type"},
		"no type":         {`{"interventions":[]}`, "request_type"},
		"no items":        {`{"request_type":"PrimeroOutgoingReferral"}`, "interventions"},
		"items not array": {`{"interventions":{},"request_type":"PrimeroOutgoingReferral"}`, "interventions"},
		"unknown top key": {`{"interventions":[],"request_type":"PrimeroOutgoingReferral","extra":1}`, "extra"},
		"too many items":  {`{"interventions":[` + strings.Repeat(`{},`, progres.MaxItems) + `{}],"request_type":"PrimeroOutgoingReferral"}`, "interventions"},
		"null items":      {`{"interventions":null,"request_type":"PrimeroOutgoingReferral"}`, "interventions"},
	}
	for name, tc := range tests {
		resp, a := post(t, srv.URL, inboundKey, tc.body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
		var paths []string
		for _, e := range a.Errors {
			paths = append(paths, e.Path)
		}
		assert.Contains(t, paths, tc.path, name)
	}
	assert.Zero(t, sk.calls())
}

func TestHandlerOnlyCallbackForItsKind(t *testing.T) {
	sk := &sink{}
	h, err := progres.NewHandler(progres.WithAPIKey("", inboundKey), progres.OnReferral(sk.onReferral))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, a := post(t, srv.URL, inboundKey, `{"interventions":[],"request_type":"PrimeroIncomingReferralDecision"}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, a.Errors, 1)
	assert.Equal(t, "request_type", a.Errors[0].Path)
}

func TestHandlerOversizeBody(t *testing.T) {
	sk, srv, _ := inbound(t, progres.WithMaxBodyBytes(1024))
	body := `{"interventions":[{"progres_interventionnumber":"` + strings.Repeat("x", 2000) + `"}],"request_type":"PrimeroOutgoingReferral"}`
	resp, _ := post(t, srv.URL, inboundKey, body)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Zero(t, sk.calls())
}

func TestHandlerMethodAndContentType(t *testing.T) {
	_, srv, _ := inbound(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set(progres.DefaultAPIKeyHeader, inboundKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	req, _ = http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{}`))
	req.Header.Set(progres.DefaultAPIKeyHeader, inboundKey)
	req.Header.Set("Content-Type", "text/plain")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
}

func TestHandlerPanickingCallbackFailsItsItemOnly(t *testing.T) {
	sk, _, dtp := inbound(t)
	sk.fail = func(_ progres.DeliveryKey, index int) error {
		if index == 0 {
			panic("boom")
		}
		return nil
	}
	dtp.QueueReferral(append(progrestest.SyntheticReferral(1), progrestest.SyntheticReferral(2)...)...)
	_, err := dtp.Push(context.Background())
	require.NoError(t, err)
	var a progres.Answer
	require.NoError(t, json.Unmarshal(dtp.PushAttempts()[0].Answer, &a))
	require.Len(t, a.Results, 2)
	assert.Equal(t, "failed", a.Results[0].Status)
	assert.Equal(t, "delivered", a.Results[1].Status)
}

func TestHandlerLogsNoBodyContent(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, _, dtp := inbound(t, progres.WithHandlerLogger(logger))
	good := progrestest.SyntheticReferral(7)
	bad := progrestest.SyntheticReferral(8)
	bad[0]["individuals.progres_sex"] = "Female"
	dtp.QueueReferral(good...)
	dtp.QueueReferral(bad...)
	_, err := dtp.Push(context.Background())
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "progres inbound notification")
	assert.Contains(t, out, "interventions[0].individuals.progres_sex", "refused paths are logged")
	for _, secret := range []string{"Child 7", "Child 8", "Test", "Female", "officer7@example.org", "000-00000007"} {
		assert.NotContains(t, out, secret)
	}
}

func TestHandlerMissingListsPrimeroRequiredFields(t *testing.T) {
	sk, _, dtp := inbound(t)
	items := progrestest.SyntheticReferral(1)
	items[0]["individuals.progres_givenname"] = ""
	delete(items[0], "individuals.progres_registrationgroupid")
	delete(items[0], "individuals.progres_dateofbirth") // optional (pitfall 20)
	dtp.QueueReferral(items...)
	_, err := dtp.Push(context.Background())
	require.NoError(t, err)
	require.Len(t, sk.referrals, 1)
	assert.Equal(t, []string{"individuals.progres_registrationgroupid", "individuals.progres_givenname"}, sk.referrals[0].Item.Missing())
	assert.Empty(t, sk.referrals[0].Item.DateOfBirth)
}

func TestNewHandlerValidates(t *testing.T) {
	ok := progres.OnReferral(func(context.Context, progres.Delivery[*progres.OutgoingReferral]) error { return nil })
	for name, tc := range map[string]struct {
		opts []progres.HandlerOption
		path string
	}{
		"no key":       {[]progres.HandlerOption{ok}, "WithAPIKey"},
		"short key":    {[]progres.HandlerOption{progres.WithAPIKey("", "short"), ok}, "WithAPIKey.key"},
		"bad header":   {[]progres.HandlerOption{progres.WithAPIKey("X Key", inboundKey), ok}, "WithAPIKey.header"},
		"no callback":  {[]progres.HandlerOption{progres.WithAPIKey("", inboundKey)}, "OnReferral"},
		"nil callback": {[]progres.HandlerOption{progres.WithAPIKey("", inboundKey), progres.OnDecision(nil)}, "OnDecision.fn"},
		"zero limit":   {[]progres.HandlerOption{progres.WithAPIKey("", inboundKey), ok, progres.WithMaxBodyBytes(0)}, "WithMaxBodyBytes.n"},
	} {
		_, err := progres.NewHandler(tc.opts...)
		var ve *progres.ValidationError
		if assert.ErrorAs(t, err, &ve, name) {
			assert.True(t, ve.Has(tc.path), "%s: %v", name, err)
		}
	}
}

func TestHandlerDoesNotLogSenderNamedKeys(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	_, srv, _ := inbound(t, progres.WithHandlerLogger(logger))
	resp, a := post(t, srv.URL, inboundKey, `{"interventions":[],"request_type":"PrimeroOutgoingReferral","Test Child 9":1}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, a.Errors, 1)
	assert.Equal(t, "Test Child 9", a.Errors[0].Path, "the sender is told which key")
	assert.NotContains(t, buf.String(), "Test Child 9", "but the log does not repeat it")
	assert.Contains(t, buf.String(), "[unknown key]")
}

func TestHandlerResultsLetTheSenderResendOnlyFailures(t *testing.T) {
	sk := &sink{}
	failOnce := true
	sk.fail = func(_ progres.DeliveryKey, index int) error {
		if index == 1 && failOnce {
			failOnce = false
			return errors.New("temporary")
		}
		return nil
	}
	h, err := progres.NewHandler(progres.WithAPIKey("", inboundKey), progres.OnReferral(sk.onReferral))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	dtp := progrestest.NewDTPServer(t, progrestest.WithInbound(srv.URL, inboundKey), progrestest.WithPartialRedelivery())
	dtp.QueueReferral(append(progrestest.SyntheticReferral(1), progrestest.SyntheticReferral(2)...)...)
	_, err = dtp.Push(context.Background())
	require.NoError(t, err)
	n, err := dtp.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Len(t, sk.referrals, 3, "two, then only the failed one")
	assert.Equal(t, sk.referrals[1].Key, sk.referrals[2].Key)
	assert.Equal(t, progrestest.InterventionNumber(2), sk.referrals[2].Item.InterventionNumber)
}
