package progres_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDTPSendReferralBody(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	c := newDTP(t, s)
	require.NoError(t, c.Referrals.Send(context.Background(), sampleReferral(t)))

	got := s.Referrals()
	require.Len(t, got, 1)
	b := got[0]
	assert.Equal(t, "ReceiveIncomingReferral", b["request_type"])
	assert.Equal(t, testKey, b["id"])
	assert.Equal(t, "2025-02-01T09:00:00.000Z", b["service_response_day_time"])
	assert.Equal(t, "2016-07-19", b["date_of_birth"])
	for _, k := range []string{"name_middle", "name_nickname", "telephone_current", "service_type_other", "address_current"} {
		assert.NotContains(t, b, k, "empty optional fields are left out")
	}
	reqs := s.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/dtp/ReceiveIncomingReferral", reqs[0].Path)
	assert.Equal(t, progrestest.Redacted, reqs[0].Header.Get("Ocp-Apim-Subscription-Key"), "the key is redacted in the record")
	assert.Equal(t, s.ClientCert().Thumbprint(), reqs[0].ClientCertThumbprint)
}

func TestDTPFeedbackBodies(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	c := newDTP(t, s)
	ctx := context.Background()
	require.NoError(t, c.Feedback.Send(ctx, progres.Delivered("000-23-PRTITV-0000123", "case-1", "intake_user")))
	require.NoError(t, c.Feedback.Send(ctx, progres.DeliveryFailed("000-23-PRTITV-0000124", progres.ReasonMissingFields)))
	require.NoError(t, c.Feedback.Send(ctx, progres.Decided("000-23-PRTITV-0000125", "case-2", "cw1", true, "")))
	require.NoError(t, c.Feedback.Send(ctx, progres.Decided("000-23-PRTITV-0000126", "case-3", "cw1", false, "Not eligible")))

	got := s.Feedback()
	require.Len(t, got, 4)
	assert.Equal(t, map[string]any{"progres_interventionnumber": "000-23-PRTITV-0000123", "status": "Pending Acknowledgement", "case_id": "case-1", "primero_user": "intake_user"}, got[0])
	assert.Equal(t, map[string]any{"progres_interventionnumber": "000-23-PRTITV-0000124", "status": "Delivery Fail", "request_type": "Feedback", "closure_reason": progres.ReasonMissingFields}, got[1])
	assert.Equal(t, "acknowledged", got[2]["status"])
	assert.Equal(t, progres.NoReasonSpecified, got[2]["closure_reason"])
	assert.Equal(t, "ReceiveDecisionOutgoingReferral", got[2]["request_type"])
	assert.Equal(t, "rejected", got[3]["status"])
	assert.Equal(t, "Not eligible", got[3]["closure_reason"])
}

func TestDTPValidationBeforeSending(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	c := newDTP(t, s)
	r := sampleReferral(t)
	r.Email, r.Phone, r.DateOfBirth, r.Sex = "", "", "2016-02-30", "unknown_4b34795"
	err := c.Referrals.Send(context.Background(), r)
	var ve *progres.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, p := range []string{"email", "phone", "date_of_birth", "sex"} {
		assert.True(t, ve.Has(p), p)
	}
	assert.NotContains(t, err.Error(), "2016-02-30", "values are not quoted")

	// A success feedback without case_id is refused, not sent as "Not defined" (pitfall 25).
	err = c.Feedback.Send(context.Background(), progres.Delivered("000-23-PRTITV-0000123", "", ""))
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("case_id"))
	assert.True(t, ve.Has("primero_user"))
	err = c.Feedback.Send(context.Background(), progres.DeliveryFailed("000-23-PRTITV-0000123", ""))
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("closure_reason"))
	err = c.Feedback.Send(context.Background(), &progres.Feedback{InterventionNumber: "x", Status: "done"})
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("status"))
	assert.Empty(t, s.Requests(), "nothing is sent")
}

func TestDTPWrongSubscriptionKeyIsUnauthorizedAndNotRetried(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	c := newDTP(t, s, progres.WithSubscriptionKey("wrong-key"))
	err := c.Referrals.Send(context.Background(), sampleReferral(t))
	require.ErrorIs(t, err, progres.ErrUnauthorized)
	var ae *progres.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 401, ae.APIMStatus)
	assert.NotContains(t, err.Error(), "wrong-key")
	assert.Len(t, s.Requests(), 1)
	assert.Empty(t, s.Referrals())
}

func TestDTPMissingSubscriptionKey(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	_, err := progres.NewDTP(s.BaseURL(), progres.WithClientCertificate(s.ClientCert().TLS))
	var ve *progres.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("WithSubscriptionKey"))

	// The gateway itself refuses a call without the key.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: s.CA().Pool(), Certificates: []tls.Certificate{s.ClientCert().TLS}, MinVersion: tls.VersionTLS12,
	}}}
	resp, err := hc.Post(s.BaseURL()+"/ReceiveIncomingReferral", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestDTPClientCertificateRequired(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	_, err := progres.NewDTP(s.BaseURL(), progres.WithSubscriptionKey("k"))
	var ve *progres.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("WithClientCertificate"))

	// A client that presents no certificate fails the handshake.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA().Pool(), MinVersion: tls.VersionTLS12}}}
	resp, err := hc.Post(s.BaseURL()+"/ReceiveIncomingReferral", "application/json", strings.NewReader(`{}`))
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	assert.Empty(t, s.Requests(), "no request reaches the gateway")
}

func TestDTPWrongCertificateFailsHandshake(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	other, err := progrestest.NewCA("another CA")
	require.NoError(t, err)
	foreign, err := other.IssueClient("foreign")
	require.NoError(t, err)
	c := newDTP(t, s, progres.WithClientCertificate(foreign.TLS))
	err = c.Referrals.Send(context.Background(), sampleReferral(t))
	require.Error(t, err)
	var ae *progres.APIError
	assert.False(t, errors.As(err, &ae), "no HTTP answer: the handshake failed")
	assert.Empty(t, s.Requests())
}

func TestDTPExpiredCertificateFailsHandshake(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	expired, err := s.CA().Issue(progrestest.CertSpec{CommonName: "old", Client: true,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	c := newDTP(t, s, progres.WithClientCertificate(expired.TLS))
	require.Error(t, c.Referrals.Send(context.Background(), sampleReferral(t)))
	assert.Empty(t, s.Requests())

	// The fake's clock decides validity: a year and a day on, the default
	// client certificate has expired too.
	s.SetClock(func() time.Time { return time.Now().Add(366 * 24 * time.Hour) })
	c2 := newDTP(t, s)
	require.Error(t, c2.Referrals.Send(context.Background(), sampleReferral(t)))
	assert.Empty(t, s.Requests())
}

func TestDTPThumbprintPin(t *testing.T) {
	ca, err := progrestest.NewCA("pinning CA")
	require.NoError(t, err)
	pinned, err := ca.IssueClient("pinned")
	require.NoError(t, err)
	s := progrestest.NewDTPServer(t, progrestest.WithCA(ca), progrestest.WithThumbprintPin(pinned.Thumbprint()))

	// The fake's default client certificate chains to the CA but is not pinned.
	err = newDTP(t, s).Referrals.Send(context.Background(), sampleReferral(t))
	require.ErrorIs(t, err, progres.ErrForbidden)
	require.NoError(t, newDTP(t, s, progres.WithClientCertificate(pinned.TLS)).Referrals.Send(context.Background(), sampleReferral(t)))
	assert.Len(t, s.Referrals(), 1)
}

func TestDTPThumbprintHeaderIsOptional(t *testing.T) {
	s := progrestest.NewDTPServer(t, progrestest.WithThumbprintHeader("X-Client-Thumbprint"))
	err := newDTP(t, s).Referrals.Send(context.Background(), sampleReferral(t))
	require.ErrorIs(t, err, progres.ErrForbidden, "off by default")
	c := newDTP(t, s, progres.WithThumbprintHeader("X-Client-Thumbprint"))
	require.NoError(t, c.Referrals.Send(context.Background(), sampleReferral(t)))
	reqs := s.Requests()
	assert.Equal(t, s.ClientCert().Thumbprint(), reqs[len(reqs)-1].Header.Get("X-Client-Thumbprint"))
	assert.Equal(t, s.ClientCert().Thumbprint(), progres.Thumbprint(s.ClientCert().TLS))
}

func TestDTPWritesAreNotRetried(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	c := newDTP(t, s)
	s.FailNext(1, http.StatusServiceUnavailable)
	err := c.Referrals.Send(context.Background(), sampleReferral(t))
	require.ErrorIs(t, err, progres.ErrUnavailable)
	assert.Len(t, s.Requests(), 1, "a POST that may have been applied is not repeated (pitfall 28)")

	s.ResetRequests()
	s.DropNext(1)
	require.Error(t, c.Feedback.Send(context.Background(), progres.Delivered("n-1", "case-1", "u")))
	assert.Len(t, s.Requests(), 1)

	s.ResetRequests()
	s.RateLimitNext(1, time.Second)
	err = c.Feedback.Send(context.Background(), progres.Delivered("n-1", "case-1", "u"))
	require.ErrorIs(t, err, progres.ErrRateLimited)
	var ae *progres.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, time.Second, ae.RetryAfter)
	assert.Len(t, s.Requests(), 1)
}

func TestDTPCertificateFromPEMFiles(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	certFile, keyFile, err := s.ClientCert().WriteFiles(t.TempDir(), "client")
	require.NoError(t, err)
	c, err := progres.NewDTP(s.BaseURL(), progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificateFiles(certFile, keyFile), progres.WithRootCAs(s.CA().Pool()))
	require.NoError(t, err)
	require.NoError(t, c.Referrals.Send(context.Background(), sampleReferral(t)))

	_, err = progres.NewDTP(s.BaseURL(), progres.WithSubscriptionKey("k"), progres.WithClientCertificateFiles(keyFile, certFile))
	var ve *progres.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("WithClientCertificateFiles"))

	c, err = progres.NewDTP(s.BaseURL(), progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificatePEM(s.ClientCert().CertPEM, s.ClientCert().KeyPEM), progres.WithRootCAs(s.CA().Pool()))
	require.NoError(t, err)
	require.NoError(t, c.Referrals.Send(context.Background(), sampleReferral(t)))
	_, err = progres.NewDTP(s.BaseURL(), progres.WithSubscriptionKey("k"), progres.WithClientCertificatePEM([]byte("x"), []byte("y")))
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("WithClientCertificatePEM"))

	// A custom HTTP client keeps its settings; its transport must be one
	// that can present the certificate.
	c, err = progres.NewDTP(s.BaseURL(), progres.WithSubscriptionKey(progrestest.DefaultSubscriptionKey),
		progres.WithClientCertificate(s.ClientCert().TLS), progres.WithRootCAs(s.CA().Pool()),
		progres.WithHTTPClient(&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}))
	require.NoError(t, err)
	require.NoError(t, c.Referrals.Send(context.Background(), sampleReferral(t)))
	_, err = progres.NewDTP(s.BaseURL(), progres.WithSubscriptionKey("k"), progres.WithClientCertificate(s.ClientCert().TLS),
		progres.WithHTTPClient(&http.Client{Transport: roundTripFunc(nil)}))
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("WithHTTPClient.hc"))
}

func TestDTPOptionsValidate(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	cert := progres.WithClientCertificate(s.ClientCert().TLS)
	key := progres.WithSubscriptionKey("k")
	for name, tc := range map[string]struct {
		url  string
		opts []progres.Option
		path string
	}{
		"plain http":  {"http://127.0.0.1:1/dtp", []progres.Option{key, cert}, "baseURL"},
		"key with CR": {s.BaseURL(), []progres.Option{progres.WithSubscriptionKey("k\r\nX: y"), cert}, "WithSubscriptionKey.key"},
		"bad op URL":  {s.BaseURL(), []progres.Option{key, cert, progres.WithOperationURL(progres.OpReceiveIncomingReferral, "http://x")}, "WithOperationURL.ReceiveIncomingReferral"},
		"bad header":  {s.BaseURL(), []progres.Option{key, cert, progres.WithThumbprintHeader("X Bad")}, "WithThumbprintHeader.name"},
		"empty cert":  {s.BaseURL(), []progres.Option{key, progres.WithClientCertificate(tls.Certificate{})}, "WithClientCertificate.cert"},
		"nil option":  {s.BaseURL(), []progres.Option{key, cert, nil}, "opts[2]"},
		"PING-only":   {s.BaseURL(), []progres.Option{key, cert, progres.WithDeployment("PNR-0001", "INT-0001")}, "WithDeployment"},
	} {
		_, err := progres.NewDTP(tc.url, tc.opts...)
		var ve *progres.ValidationError
		if assert.ErrorAs(t, err, &ve, name) {
			assert.True(t, ve.Has(tc.path), "%s: %v", name, err)
		}
	}
}

func TestDTPOperationURLOverride(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	c := newDTP(t, s, progres.WithOperationURL(progres.OpReceiveDecisionOutgoingReferral, s.BaseURL()+"/ReceiveDecisionOutgoingReferral"))
	assert.Equal(t, s.BaseURL()+"/ReceiveDecisionOutgoingReferral", c.URL(progres.OpReceiveDecisionOutgoingReferral))
	require.NoError(t, c.Feedback.Send(context.Background(), progres.Delivered("n-1", "case-1", "u")))
}

func TestDTPLatencyMeetsTheCallersDeadline(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	c := newDTP(t, s)
	s.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Referrals.Send(ctx, sampleReferral(t))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s.SetLatency(0)
	require.NoError(t, c.Referrals.Send(context.Background(), sampleReferral(t)))
	assert.Len(t, s.Referrals(), 1, "the delayed call was never applied")
}
