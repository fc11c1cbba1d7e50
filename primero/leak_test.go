package primero_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/primero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Synthetic values a server, proxy or WAF might echo back in an error.
const (
	echoedName  = "Test Child 1"
	echoedPhone = "+000 0000 0001"
)

// answer serves every request with status and body.
func answer(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func basicClient(t *testing.T, url string, opts ...primero.Option) *primero.Client {
	t.Helper()
	c, err := primero.New(url, append([]primero.Option{primero.WithBasicAuth("primero_api", "synthetic-password"), primero.WithRetry(fastRetry)}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestAPIErrorPrintsNoServerText(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       []string // what Error must still say
	}{
		{"422 echoing values", `{"errors":[{"status":422,"resource":"/api/v2/cases","message":["` + echoedName + ` ` + echoedPhone + ` is invalid"],"detail":["/name_first","/telephone_current"]}]}`,
			422, []string{"422", "/name_first", "/telephone_current"}},
		{"422 message key", `{"errors":[{"status":422,"message":["transition.errors.consent"],"detail":"consent"}]}`,
			422, []string{"transition.errors.consent", "consent"}},
		{"404 exception text in detail", `{"errors":[{"status":404,"message":"Not Found","detail":"Couldn't find Child with name=` + echoedName + `"}]}`,
			404, []string{"404", "Not Found"}},
		{"401 devise text", `{"error":"` + echoedName + `"}`, 401, []string{"401"}},
		{"500 exception text", `{"errors":[{"status":500,"message":"undefined method for ` + echoedName + `"}]}`, 500, []string{"500"}},
		{"detail a free-text word list", `{"errors":[{"status":422,"message":"x","detail":["Test","Child","1"]}]}`, 422, []string{"422"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := answer(t, tc.status, "application/json", tc.body)
			_, _, err := basicClient(t, srv.URL).Cases.List(context.Background(), nil)
			require.Error(t, err)
			msg := err.Error()
			for _, leak := range []string{echoedName, echoedPhone, "Child", "Couldn't", "undefined method"} {
				assert.NotContains(t, msg, leak)
			}
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
		})
	}
}

func TestTransitionErrorPrintsNoServerValue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"id":"r1","status":"`+echoedName+`"}}`)
	}))
	defer srv.Close()
	_, err := basicClient(t, srv.URL).Referrals.UpdateStatus(context.Background(), "case-1", "r1", primero.StatusUpdate{Status: primero.ReferralAccepted})
	require.ErrorIs(t, err, primero.ErrTransition)
	assert.NotContains(t, err.Error(), echoedName)
}

func TestAmbiguousMatchErrorPrintsOnlyIDs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[{"id":"`+echoedName+`","unhcr_individual_no":"803-1"},{"id":"00000000-0000-4000-8000-000000000002","unhcr_individual_no":"803-1"}],"metadata":{"total":2,"per":100,"page":1}}`)
	}))
	defer srv.Close()
	_, _, err := basicClient(t, srv.URL).Cases.Upsert(context.Background(), "unhcr_individual_no", "803-1", &primero.Case{})
	require.ErrorIs(t, err, primero.ErrAmbiguousMatch)
	assert.NotContains(t, err.Error(), echoedName)
	assert.Contains(t, err.Error(), "00000000-0000-4000-8000-000000000002")
	assert.False(t, strings.Contains(err.Error(), "803-1"))
}

func TestDecodeErrorPrintsNoServerNumber(t *testing.T) {
	for _, body := range []string{
		`{"data":{"id":"r1","status":"accepted","remote":555000100001}}`,     // wrong type
		`{"data":{"id":"r1","status":"accepted","created_at":555000100001}}`, // wrong type, time
	} {
		srv := answer(t, http.StatusOK, "application/json", body)
		_, err := basicClient(t, srv.URL).Referrals.UpdateStatus(context.Background(), "case-1", "r1", primero.StatusUpdate{Status: primero.ReferralAccepted})
		require.ErrorIs(t, err, primero.ErrMalformedAnswer)
		assert.NotContains(t, err.Error(), "5550001")
	}
	// A number too large for its field: encoding/json quotes it.
	srv := answer(t, http.StatusOK, "application/json", `{"data":[{"id":1,"code":"XX","admin_level":555000100001555000100001}],"metadata":{"total":1,"per":20,"page":1}}`)
	_, _, err := basicClient(t, srv.URL).Locations.List(context.Background(), nil)
	require.ErrorIs(t, err, primero.ErrMalformedAnswer)
	assert.NotContains(t, err.Error(), "5550001")
	assert.Contains(t, err.Error(), "admin_level", "the field is named")
}
