package progrestest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// token gets a token from the fake by hand.
func token(t *testing.T, s *progrestest.PINGServer, password string) (int, map[string]any) {
	t.Helper()
	cfg := s.Config()
	form := url.Values{"grant_type": {"password"}, "username": {cfg.Username}, "password": {password},
		"client_id": {cfg.ClientID}, "scope": {cfg.Scope}, "response_type": {"token"}}
	resp, err := http.Post(s.URL()+s.TokenPath(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

// call POSTs a JSON body with bearer and key.
func call(t *testing.T, s *progrestest.PINGServer, bearer, path string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ocp-Apim-Subscription-Key", progrestest.DefaultSubscriptionKey)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m, resp.Header
}

func TestTokenEndpoint(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := progrestest.NewPINGServer(t, progrestest.WithClock(func() time.Time { return now }))
	status, m := token(t, s, "wrong")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", m["error"])

	status, m = token(t, s, s.Config().Password)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Bearer", m["token_type"])
	assert.Equal(t, "3600", m["expires_in"], "a string, as B2C documents it")
	tok := m["access_token"].(string)

	fetch := map[string]any{"ShippingProcessId": progrestest.SHPDecisions, "PartnerId": progrestest.DefaultPartnerID,
		"InteropID": progrestest.DefaultInteropID, "APIVersion": "V3", "QueryParameters": []any{}}
	code, body, h := call(t, s, tok, "/primes/fetch/paging/v3/retrievedatawithpaging", fetch)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "No Data Available", body["Data"])
	assert.Nil(t, body["RecordCount"])
	assert.True(t, strings.HasPrefix(h.Get("Content-Type"), "application/json"))

	code, _, _ = call(t, s, "", "/primes/fetch/paging/v3/retrievedatawithpaging", fetch)
	assert.Equal(t, http.StatusUnauthorized, code, "no bearer")
	now = now.Add(time.Hour)
	code, _, _ = call(t, s, tok, "/primes/fetch/paging/v3/retrievedatawithpaging", fetch)
	assert.Equal(t, http.StatusUnauthorized, code, "expired by the fake's clock")

	reqs := s.Requests()
	assert.NotContains(t, string(reqs[0].Body), "wrong", "the password is redacted")
	assert.Equal(t, progrestest.Redacted, reqs[2].Header.Get("Authorization"))
}

func TestIdsAcceptBothCasingsAndCheckPartner(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	_, m := token(t, s, s.Config().Password)
	tok := m["access_token"].(string)
	rec := []any{map[string]any{"ExternalId": "e-1", "Fields": []any{map[string]any{"Name": "progres_x", "Value": "1"}}}}
	for _, casing := range []string{"InteropId", "InteropID"} {
		code, body, _ := call(t, s, tok, "/api/ingestion/v2/"+progrestest.DefaultPartnerID+"/data",
			map[string]any{"ShippingProcessId": progrestest.SHPTransferStatus, casing: progrestest.DefaultInteropID, "Data": rec})
		assert.Equal(t, http.StatusOK, code, casing)
		assert.NotEmpty(t, body["SPHTransactionId"])
	}
	code, _, _ := call(t, s, tok, "/api/ingestion/v2/PNR-9999/data",
		map[string]any{"ShippingProcessId": progrestest.SHPTransferStatus, "InteropId": progrestest.DefaultInteropID, "Data": rec})
	assert.Equal(t, http.StatusNotFound, code, "another partner's path")
	code, _, _ = call(t, s, tok, "/api/ingestion/v2/"+progrestest.DefaultPartnerID+"/data",
		map[string]any{"ShippingProcessId": "SHP-0000", "InteropId": progrestest.DefaultInteropID, "Data": rec})
	assert.Equal(t, http.StatusBadRequest, code, "unknown ShippingProcessId")
	code, _, _ = call(t, s, tok, "/api/ingestion/v2/"+progrestest.DefaultPartnerID+"/data",
		map[string]any{"ShippingProcessId": progrestest.SHPTransferStatus, "InteropId": progrestest.DefaultInteropID,
			"Data": []any{map[string]any{"Fields": []any{}}}})
	assert.Equal(t, http.StatusBadRequest, code, "a record without ExternalId")
	assert.Len(t, s.Ingested(), 2)
}

// The malformed checkstatus answer is the one the earlier integration repairs with
// its regular expression: check that it is malformed, and that the
// repair makes it valid.
func TestCheckStatusMalformedAsTheReferenceSeesIt(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	_, m := token(t, s, s.Config().Password)
	tok := m["access_token"].(string)
	rec := []any{map[string]any{"ExternalId": "case-1", "ExternalGUID": "r-1", "Fields": []any{map[string]any{"Name": "progres_orgreferralid", "Value": "u-1"}}}}
	_, body, _ := call(t, s, tok, "/api/ingestion/v2/"+progrestest.DefaultPartnerID+"/asyncdata",
		map[string]any{"ShippingProcessId": progrestest.SHPCreateReferral, "InteropID": progrestest.DefaultInteropID, "APIVersion": "V2", "Data": rec})
	tx := body["SPHTransactionId"].(string)
	_, st, _ := call(t, s, tok, "/primes/ingestion/checkstatus/v1/pingdata",
		map[string]any{"ShippingProcessId": progrestest.SHPCreateReferral, "InteropID": progrestest.DefaultInteropID, "PartnerId": progrestest.DefaultPartnerID, "SPHTransactionId": tx})
	data, ok := st["Data"].(string)
	require.True(t, ok, "Data is a string")
	assert.False(t, json.Valid([]byte(data)), "and malformed")
	re := regexp.MustCompile(`"Data"\s*:\s*"\{([\s\S]*?)\}"\s*,`)
	fixed := re.ReplaceAllStringFunc(data, func(m string) string {
		inner := re.FindStringSubmatch(m)[1]
		return `"Data": "{` + strings.ReplaceAll(inner, `"`, `\"`) + `}",`
	})
	var recs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(fixed), &recs))
	require.Len(t, recs, 1)
	var inner map[string]any
	require.NoError(t, json.Unmarshal([]byte(recs[0]["Data"].(string)), &inner))
	assert.Equal(t, "case-1", inner["ExternalId"])
	assert.Equal(t, "Success", recs[0]["Status"])
}

func TestFaultsAnswerAsAPIM(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	s.RateLimitNext(1, 1500*time.Millisecond)
	code, body, h := call(t, s, "", "/primes/fetch/paging/v3/retrievedatawithpaging", map[string]any{})
	assert.Equal(t, http.StatusTooManyRequests, code)
	assert.Equal(t, "2", h.Get("Retry-After"), "rounded up to whole seconds")
	assert.EqualValues(t, 429, body["statusCode"])
	s.FailNext(1, http.StatusBadGateway)
	code, _, _ = call(t, s, "", "/primes/fetch/paging/v3/retrievedatawithpaging", map[string]any{})
	assert.Equal(t, http.StatusBadGateway, code)
	s.DropNext(1)
	_, err := http.Post(s.URL()+"/x", "application/json", strings.NewReader("{}"))
	require.Error(t, err)
}
