package primero_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrongPasswordSentOnceAndExplained(t *testing.T) {
	s := primerotest.NewServer(t)
	c := wrongPasswordClient(t, s)
	_, _, err := c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrUnauthorized)
	var ae *primero.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	assert.Contains(t, err.Error(), "locks an account after 6 failed logins")
	assert.NotContains(t, err.Error(), "wrong-password")
	assert.Len(t, s.Requests(), 1, "a 401 must never be retried")
}

func TestLegacyLoginWrongPasswordNotRetried(t *testing.T) {
	s := primerotest.NewServer(t, primerotest.WithAuthMode(primerotest.AuthLegacyJWT))
	c, err := primero.New(s.URL(), primero.WithLegacyLogin(primerotest.DefaultUser, "wrong-password"), primero.WithRetry(fastRetry))
	require.NoError(t, err)
	_, _, err = c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrUnauthorized)
	assert.Contains(t, err.Error(), "6 failed logins")
	assert.Equal(t, 1, s.FailedLogins(primerotest.DefaultUser))
	assert.Len(t, s.Requests(), 1, "only the failed login was sent, once")
}

func TestStatusErrorsMapOntoSentinels(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   error
	}{
		{http.StatusNotFound, primero.ErrNotFound},
		{http.StatusForbidden, primero.ErrForbidden},
		{http.StatusConflict, primero.ErrConflict},
		{http.StatusUnprocessableEntity, primero.ErrValidation},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			s := primerotest.NewServer(t)
			c := newClient(t, s)
			s.FailNext(1, tc.status)
			_, _, err := c.Cases.List(context.Background(), nil)
			require.ErrorIs(t, err, tc.want)
			var ae *primero.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.status, ae.StatusCode)
			require.NotEmpty(t, ae.ServerErrors(), "the errors[] envelope is decoded")
			assert.Equal(t, tc.status, ae.ServerErrors()[0].Status)
			assert.NotEmpty(t, ae.Codes, "Primero's fixed text is a code")
			assert.Len(t, s.Requests(), 1, "4xx is not retried")
		})
	}
}

func TestRealNotFoundConflictAndValidation(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	ctx := context.Background()

	_, err := c.Cases.Get(ctx, "00000000-0000-4000-8000-000000000000")
	assert.ErrorIs(t, err, primero.ErrNotFound)

	id := "11111111-1111-4111-8111-111111111111"
	created, err := c.Cases.Create(ctx, &primero.Case{ID: id, ModuleID: "primeromodule-cp", NameFirst: "Test", Sex: "female"})
	require.NoError(t, err, "204 for a client-made id is handled")
	assert.Equal(t, id, created.ID)
	assert.NotEmpty(t, created.CaseID, "the case was read back after 204")

	_, err = c.Cases.Create(ctx, &primero.Case{ID: id, ModuleID: "primeromodule-cp", NameFirst: "Test"})
	require.ErrorIs(t, err, primero.ErrConflict)
	assert.Equal(t, 2, countMethod(s, http.MethodPost), "409 not retried")

	// date_of_birth must be a date: the fake answers 422 naming the field.
	_, err = c.Cases.Update(ctx, id, primero.Patch{"date_of_birth": "not-a-date"})
	require.ErrorIs(t, err, primero.ErrValidation)
	var ae *primero.APIError
	require.ErrorAs(t, err, &ae)
	assert.NotContains(t, err.Error(), "not-a-date", "errors carry no values")
}

func TestRateLimitedWithRetryAfter(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	// Exhaust the retries: the final plain-text 429 is decoded.
	s.RateLimitNext(4, 7*time.Second)
	_, _, err := c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrRateLimited)
	var ae *primero.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 7*time.Second, ae.RetryAfter)
	assert.True(t, ae.PlainText)
	assert.Equal(t, 4, ae.Attempts)
	assert.Len(t, s.Requests(), 4)

	// One 429 is retried (after the capped Retry-After) and then succeeds.
	s.ResetRequests()
	s.RateLimitNext(1, time.Second)
	_, _, err = c.Cases.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, s.Requests(), 2)
}

func TestGETSucceedsAfterTwo503s(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddCase(map[string]any{"name_first": "Test", "sex": "male"})
	c := newClient(t, s)
	s.FailNext(2, http.StatusServiceUnavailable)
	cases, _, err := c.Cases.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, cases, 1)
	assert.Len(t, s.Requests(), 3)
}

func TestPOSTNotRetriedAfter503(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	s.FailNext(1, http.StatusServiceUnavailable)
	_, err := c.Cases.Create(context.Background(), &primero.Case{ModuleID: "primeromodule-cp", NameFirst: "Test"})
	require.ErrorIs(t, err, primero.ErrUnavailable)
	assert.Equal(t, 1, countMethod(s, http.MethodPost))
	assert.Empty(t, s.Cases(), "nothing created")
}

func TestDroppedConnectionRetriedForGETOnly(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	s.DropNext(1)
	_, _, err := c.Cases.List(context.Background(), nil)
	require.NoError(t, err)
	s.ResetRequests()
	s.DropNext(1)
	_, err = c.Cases.Create(context.Background(), &primero.Case{ModuleID: "primeromodule-cp", NameFirst: "Test"})
	require.Error(t, err)
	assert.Equal(t, 1, countMethod(s, http.MethodPost))
}

func TestAPIErrorDecodesBothEnvelopeShapes(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantMsg    []string
		wantDetail []string
	}{
		{"string message", `{"errors":[{"status":404,"resource":"/api/v2/cases/x","message":"Not Found"}]}`, []string{"Not Found"}, nil},
		{"array message, string detail", `{"errors":[{"status":422,"message":["transition.errors.consent"],"detail":"consent"}]}`, []string{"transition.errors.consent"}, []string{"consent"}},
		{"pointer details, code key", `{"errors":[{"code":"422","message":"Invalid Record JSON","detail":["/age","/sex"]}]}`, []string{"Invalid Record JSON"}, []string{"/age", "/sex"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := primero.DecodeErrorBody(422, []byte(tc.body))
			require.Len(t, ae.ServerErrors(), 1)
			assert.Equal(t, tc.wantMsg, ae.ServerErrors()[0].Message)
			assert.Equal(t, tc.wantDetail, ae.ServerErrors()[0].Detail)
			assert.NotZero(t, ae.ServerErrors()[0].Status)
			assert.Equal(t, tc.wantMsg, ae.Codes, "keys and fixed texts are codes")
			assert.Equal(t, tc.wantDetail, ae.Fields, "field names and pointers are fields")
		})
	}
	ae := primero.DecodeErrorBody(401, []byte(`{"error":"Invalid User name or password."}`))
	require.Len(t, ae.ServerErrors(), 1)
	assert.Equal(t, []string{"Invalid User name or password."}, ae.ServerErrors()[0].Message)
	assert.NotContains(t, ae.Error(), "Invalid User name", "the server's text is withheld")
	assert.Equal(t, 1, ae.Withheld)
	assert.True(t, errors.Is(ae, primero.ErrUnauthorized))
	ae = primero.DecodeErrorBody(429, []byte("Retry later\n"))
	assert.True(t, ae.PlainText)
	assert.NotContains(t, ae.Error(), "Retry later")
}

func TestNewValidatesOptions(t *testing.T) {
	var ve *primero.ValidationError
	_, err := primero.New("http://127.0.0.1:1")
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("auth"))
	_, err = primero.New("http://127.0.0.1:1", primero.WithBasicAuth("u", "p"), primero.WithToken("t"))
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("auth"))
	_, err = primero.New("http://127.0.0.1:1", primero.WithBasicAuth("u", ""))
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("WithBasicAuth.password"))
	_, err = primero.New("not a url", primero.WithBasicAuth("u", "p"))
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("baseURL"))
	_, err = primero.New("http://127.0.0.1:1", primero.WithBasicAuth("u", "p"), primero.WithRetry(primero.RetryPolicy{MaxRetries: -1}))
	require.ErrorIs(t, err, primero.ErrValidation)
	_, err = primero.New("http://127.0.0.1:1", primero.WithOAuth2(nil))
	require.ErrorIs(t, err, primero.ErrValidation)
}

func TestLogsAndErrorsCarryNoSecretsOrPersonalValues(t *testing.T) {
	s := primerotest.NewServer(t)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, s, primero.WithLogger(logger))
	s.FailNext(4, http.StatusServiceUnavailable)
	_, _, err := c.Cases.List(context.Background(), &primero.ListOptions{Filters: []primero.Filter{
		primero.Eq("unhcr_individual_no", "803-00000042"), primero.Raw("date_closure", "2024-05-01")}})
	require.ErrorIs(t, err, primero.ErrUnavailable)
	out := buf.String() + err.Error()
	for _, secret := range []string{primerotest.DefaultPassword, "803-00000042", "2024-05-01", "Basic "} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, buf.String(), "unhcr_individual_no=REDACTED", "filter names stay, values go")
	assert.Equal(t, 4, strings.Count(buf.String(), "http request"), "one line per attempt")
}

func TestSystemLockedIsUnavailableWithRetryAfter(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s)
	s.LockSystem(60 * time.Second)
	_, _, err := c.Cases.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrUnavailable)
	var ae *primero.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 60*time.Second, ae.RetryAfter)
	assert.Len(t, s.Requests(), 1+fastRetry.MaxRetries, "a GET is retried up to the policy's limit")
	s.UnlockSystem()
	_, _, err = c.Cases.List(context.Background(), nil)
	require.NoError(t, err)
}

func TestCancelledContextStopsAll(t *testing.T) {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(30)
	c := newClient(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, errs := 0, 0
	for _, err := range c.Cases.All(ctx, &primero.ListOptions{Per: 10}) {
		if err != nil {
			errs++
			assert.ErrorIs(t, err, context.Canceled)
			continue
		}
		n++
		if n == 10 {
			cancel()
		}
	}
	assert.Equal(t, 10, n)
	assert.Equal(t, 1, errs)
	assert.Len(t, s.Requests(), 1, "no request after cancellation")
}

func TestUserAgentSent(t *testing.T) {
	s := primerotest.NewServer(t)
	c := newClient(t, s, primero.WithUserAgent("casebridge-test/2"))
	_, _, err := c.Cases.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "casebridge-test/2", s.Requests()[0].Header.Get("User-Agent"))
}
