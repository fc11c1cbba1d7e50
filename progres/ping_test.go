package progres_test

import (
	"context"
	"encoding/json"
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

func TestPINGPendingPagesLazilyAcrossSeveralPages(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	for i := 1; i <= 120; i++ {
		s.AddRows(progrestest.SHPPendingInterventions, progrestest.SyntheticPendingRow(i))
	}
	c := newPING(t, s)
	var ids []string
	for p, err := range c.Interventions.Pending(context.Background()) {
		require.NoError(t, err)
		ids = append(ids, p.LPInterventionID)
		assert.Equal(t, progres.DeliveryPrimeroOutgoingReferral, p.DeliveryType)
	}
	require.Len(t, ids, 120)
	assert.Equal(t, progrestest.InterventionNumber(120), s.Rows(progrestest.SHPPendingInterventions)[119]["progres_lpintervention.int.progres_interventionnumber"])
	reqs := s.Requests()
	assert.Equal(t, 3, countPath(reqs, fetchPath), "50 + 50 + 20")

	var bodies []map[string]any
	for _, r := range reqs {
		if r.Path == fetchPath {
			var m map[string]any
			require.NoError(t, json.Unmarshal(r.Body, &m))
			bodies = append(bodies, m)
		}
	}
	assert.NotContains(t, bodies[0], "PagingCookie", "first page asks without a cookie")
	assert.NotEmpty(t, bodies[1]["PagingCookie"], "the cookie is echoed")
	assert.EqualValues(t, 1, bodies[1]["PageNumber"])
	assert.EqualValues(t, 2, bodies[2]["PageNumber"])
	assert.Equal(t, "SHP-2747", bodies[0]["ShippingProcessId"])
	assert.Equal(t, progrestest.DefaultPartnerID, bodies[0]["PartnerId"])
	assert.Equal(t, progrestest.DefaultInteropID, bodies[0]["InteropID"])
	assert.Equal(t, "V3", bodies[0]["APIVersion"])

	// break stops the paging: one page only.
	s.ResetRequests()
	for _, err := range c.Interventions.Pending(context.Background()) {
		require.NoError(t, err)
		break
	}
	assert.Equal(t, 1, countPath(s.Requests(), fetchPath))
}

func TestPINGNoDataAvailableIsNoRows(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	c := newPING(t, s)
	n := 0
	for _, err := range c.Decisions.List(context.Background()) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n)
	p, err := c.FetchPage(context.Background(), progres.FetchRequest{ShippingProcessID: progrestest.SHPDecisions})
	require.NoError(t, err)
	assert.Empty(t, p.Rows)
	assert.Equal(t, -1, p.RecordCount)
}

func TestPINGTokenReusedThenRenewedBeforeExpiry(t *testing.T) {
	clk := newClock()
	s := progrestest.NewPINGServer(t, progrestest.WithClock(clk.Now))
	s.AddSyntheticInterventions(1)
	c := newPING(t, s, progres.WithClock(clk.Now))
	ctx := context.Background()
	for range 3 {
		_, err := c.FetchPage(ctx, progres.FetchRequest{ShippingProcessID: progrestest.SHPPendingInterventions})
		require.NoError(t, err)
	}
	assert.Equal(t, 1, s.TokensIssued(), "one login, reused")

	clk.Advance(59 * time.Minute) // within the renewal margin of the 1h token
	_, err := c.FetchPage(ctx, progres.FetchRequest{ShippingProcessID: progrestest.SHPPendingInterventions})
	require.NoError(t, err)
	assert.Equal(t, 2, s.TokensIssued(), "renewed before it expired")
	assert.Equal(t, 4, countPath(s.Requests(), fetchPath), "no call was refused and repeated")
}

func TestPINGExpiredTokenRenewedOnceAfter401(t *testing.T) {
	clk := newClock()
	s := progrestest.NewPINGServer(t, progrestest.WithClock(clk.Now))
	c := newPING(t, s, progres.WithClock(clk.Now))
	ctx := context.Background()
	_, err := c.FetchPage(ctx, progres.FetchRequest{ShippingProcessID: progrestest.SHPDecisions})
	require.NoError(t, err)

	// The server's clock runs ahead of the client's: the token it holds
	// has expired there.
	s.SetClock(func() time.Time { return clk.Now().Add(2 * time.Hour) })
	_, err = c.FetchPage(ctx, progres.FetchRequest{ShippingProcessID: progrestest.SHPDecisions})
	require.NoError(t, err)
	assert.Equal(t, 2, s.TokensIssued())
	assert.Equal(t, 3, countPath(s.Requests(), fetchPath))
}

func TestPING401IsNotRetriedInALoop(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	c := newPING(t, s, progres.WithSubscriptionKey("wrong-subscription-key"))
	_, err := c.FetchPage(context.Background(), progres.FetchRequest{ShippingProcessID: progrestest.SHPDecisions})
	require.ErrorIs(t, err, progres.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "wrong-subscription-key")
	assert.Equal(t, 2, countPath(s.Requests(), fetchPath), "one renewal, one repeat, then stop")
	assert.Equal(t, 2, s.TokensIssued())

	// The next call does not send the refused token again, nor log in again.
	_, err = c.FetchPage(context.Background(), progres.FetchRequest{ShippingProcessID: progrestest.SHPDecisions})
	require.ErrorIs(t, err, progres.ErrUnauthorized)
	assert.Equal(t, 2, countPath(s.Requests(), fetchPath))
	assert.Equal(t, 2, s.TokensIssued())

	// Once fixed, a reset sends again with a new token.
	c.ResetUnauthorized()
	_, err = c.FetchPage(context.Background(), progres.FetchRequest{ShippingProcessID: progrestest.SHPDecisions})
	require.ErrorIs(t, err, progres.ErrUnauthorized, "the key is still wrong")
	assert.Equal(t, 4, countPath(s.Requests(), fetchPath), "sent again: once, and once after renewing")
	assert.Equal(t, 4, s.TokensIssued())
}

func TestPINGWrongPasswordIsOneTokenRequest(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	g := grantFor(s)
	g.Password = "wrong-password-123"
	c := newPING(t, s, progres.WithPasswordGrant(g))
	_, err := c.FetchPage(context.Background(), progres.FetchRequest{ShippingProcessID: progrestest.SHPDecisions})
	require.ErrorIs(t, err, progres.ErrUnauthorized)
	var ae *progres.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_grant", ae.OAuthError)
	assert.NotContains(t, err.Error(), "wrong-password-123")
	assert.NotContains(t, err.Error(), "AADB2C", "the description is not printed")
	reqs := s.Requests()
	assert.Equal(t, 1, countPath(reqs, s.TokenPath()), "a failed grant is never retried")
	assert.Zero(t, countPath(reqs, fetchPath))
	assert.Contains(t, string(reqs[0].Body), "password=%5BREDACTED%5D")
	assert.Contains(t, string(reqs[0].Body), "response_type=token")
	assert.Contains(t, string(reqs[0].Body), "grant_type=password")
	assert.Equal(t, progrestest.Redacted, reqs[0].Header.Get("Cookie"), "the geo cookie is sent (and redacted in the record)")
}

func TestPINGExpiresInAsNumber(t *testing.T) {
	cfg := progrestest.DefaultPINGConfig()
	cfg.ExpiresInNumber = true
	s := progrestest.NewPINGServer(t, progrestest.WithPING(cfg))
	c := newPING(t, s)
	_, err := c.FetchPage(context.Background(), progres.FetchRequest{ShippingProcessID: progrestest.SHPDecisions})
	require.NoError(t, err)
}

func TestPINGFetchRetriedOnlyWhereSafe(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	s.AddSyntheticInterventions(1)
	c := newPING(t, s)
	ctx := context.Background()
	_, err := c.FetchPage(ctx, progres.FetchRequest{ShippingProcessID: progrestest.SHPPendingInterventions}) // token
	require.NoError(t, err)

	s.ResetRequests()
	s.FailNext(2, http.StatusServiceUnavailable)
	_, err = c.FetchPage(ctx, progres.FetchRequest{ShippingProcessID: progrestest.SHPPendingInterventions})
	require.NoError(t, err, "a fetch changes nothing: retried")
	assert.Equal(t, 3, countPath(s.Requests(), fetchPath))

	s.ResetRequests()
	s.DropNext(1)
	s.RateLimitNext(1, time.Second)
	_, err = c.FetchPage(ctx, progres.FetchRequest{ShippingProcessID: progrestest.SHPPendingInterventions})
	require.NoError(t, err)
	assert.Equal(t, 3, countPath(s.Requests(), fetchPath))

	s.ResetRequests()
	s.FailNext(1, http.StatusServiceUnavailable)
	err = c.Interventions.SetTransferStatus(ctx, progres.TransferUpdate{CaseID: "case-1", LPInterventionID: "x", BusinessUnit: "y", Status: progres.TransferPending, Date: "2025-11-02"})
	require.ErrorIs(t, err, progres.ErrUnavailable)
	assert.Len(t, s.Requests(), 1, "ingestion is a write: not retried (pitfall 28)")
	assert.Empty(t, s.Ingested())
}

func TestPINGInterventionDetailAndTransferStatus(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	s.AddSyntheticInterventions(2)
	c := newPING(t, s)
	ctx := context.Background()

	var pending []*progres.PendingIntervention
	for p, err := range c.Interventions.Pending(ctx) {
		require.NoError(t, err)
		pending = append(pending, p)
	}
	require.Len(t, pending, 2)
	rows, err := c.Interventions.Detail(ctx, pending[1].LPInterventionID)
	require.NoError(t, err)
	require.Len(t, rows, 2, "one row per language")
	assert.Equal(t, "French", rows[0].Language)
	assert.Equal(t, "English", rows[1].Language)
	assert.Equal(t, progres.SexOther, rows[0].Sex)
	assert.Equal(t, "2016-07-19", rows[0].DateOfBirth)
	assert.Equal(t, "Alternative Care", rows[0].ServiceType)
	assert.Equal(t, "000-23-0000002", rows[0].RegistrationGroupNumber)

	err = c.Interventions.SetTransferStatus(ctx, progres.TransferUpdate{
		CaseID: "case-2", LPInterventionID: pending[1].LPInterventionID, BusinessUnit: pending[1].BusinessUnit,
		Status: progres.TransferPending, Date: "2025-11-02", PrimeroCaseworker: "intake_user",
	})
	require.NoError(t, err)
	ing := s.Ingested()
	require.Len(t, ing, 1)
	assert.Equal(t, progrestest.SHPTransferStatus, ing[0].ShippingProcessID)
	rec := ing[0].Records[0]
	assert.Equal(t, "case-2", rec["ExternalId"])
	assert.Contains(t, rec["Fields"], map[string]any{"Name": "progres_primerotransferstatus", "Value": "125080002"})
	assert.Len(t, s.Rows(progrestest.SHPPendingInterventions), 1, "delivered interventions leave the pending list")

	var body map[string]any
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/data") {
			require.NoError(t, json.Unmarshal(r.Body, &body))
			assert.Equal(t, "/api/ingestion/v2/"+progrestest.DefaultPartnerID+"/data", r.Path)
		}
	}
	assert.Equal(t, progrestest.DefaultInteropID, body["InteropId"], "sync ingestion spells InteropId")
	assert.NotContains(t, body, "PartnerId")
}

func TestPINGDecisionsListDetailAndMarkSynced(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	acc := s.AddSyntheticDecision(1, "case-1", testServiceID, progrestest.StatusAccepted)
	rej := s.AddSyntheticDecision(2, "case-2", testServiceID, progrestest.StatusRejected)
	c := newPING(t, s)
	ctx := context.Background()

	var list []*progres.DecisionSummary
	for d, err := range c.Decisions.List(ctx) {
		require.NoError(t, err)
		list = append(list, d)
	}
	require.Len(t, list, 2)
	assert.Equal(t, progres.InteropAccepted, list[0].Status)
	assert.Equal(t, progres.InteropRejected, list[1].Status)

	d, err := c.Decisions.Detail(ctx, rej)
	require.NoError(t, err)
	assert.Equal(t, "case-2", d.CaseID)
	assert.Equal(t, testServiceID, d.ServiceUniqueID)
	assert.Equal(t, "Individual Not Found", d.RejectionReasonName)
	assert.Equal(t, "Synthetic comment", d.RejectionComment)
	_, err = c.Decisions.Detail(ctx, "00000000-0000-4000-8000-000000000000")
	require.ErrorIs(t, err, progres.ErrNotFound)

	require.NoError(t, c.Decisions.MarkSynced(ctx, []string{acc}, "Synced with PRIMERO"))
	for d, err := range c.Decisions.List(ctx) {
		require.NoError(t, err)
		if d.ReferralID == acc {
			assert.Equal(t, progres.InteropSynced, d.Status)
		}
	}
}

func TestPINGUnknownStatusCodeIsAnError(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	s.AddRows(progrestest.SHPDecisions, map[string]any{"progres_interoperabilityreferralid": "r-1", "progres_interoperabilityreferralstatus": json.Number("125080009")})
	c := newPING(t, s)
	var err error
	for _, e := range c.Decisions.List(context.Background()) {
		err = e
	}
	var ve *progres.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("Data[0].progres_interoperabilityreferralstatus"), err)
}

// One row that cannot be read does not hide the rows after it: it comes as
// a *RowError at its position, and the list goes on.
func TestPINGUnreadableRowDoesNotEndTheList(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	s.AddRows(progrestest.SHPDecisions,
		map[string]any{"progres_interoperabilityreferralid": "r-1", "progres_interoperabilityreferralstatus": json.Number("125080001")},
		map[string]any{"progres_interoperabilityreferralid": "r-2", "progres_interoperabilityreferralstatus": json.Number("125080009")},
		map[string]any{"progres_interoperabilityreferralid": "r-3", "progres_interoperabilityreferralstatus": json.Number("125080002")})
	c := newPING(t, s)
	var ids []string
	var rowErrs []*progres.RowError
	for d, err := range c.Decisions.List(context.Background()) {
		var re *progres.RowError
		if errors.As(err, &re) {
			rowErrs = append(rowErrs, re)
			continue
		}
		require.NoError(t, err)
		ids = append(ids, d.ReferralID)
	}
	assert.Equal(t, []string{"r-1", "r-3"}, ids, "the rows after the bad one are read")
	require.Len(t, rowErrs, 1)
	assert.Equal(t, 1, rowErrs[0].Index)
	var ve *progres.ValidationError
	require.ErrorAs(t, rowErrs[0], &ve)
	assert.True(t, ve.Has("Data[1].progres_interoperabilityreferralstatus"))
	assert.NotContains(t, rowErrs[0].Error(), "125080009", "the value is not echoed")
}

func TestPINGColumnsAreConfiguration(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	row := progrestest.SyntheticDetailRows(4)[0]
	row["progres_individual.ind.progres_givenname"] = row["progres_individual.individuals.progres_givenname"]
	delete(row, "progres_individual.individuals.progres_givenname")
	s.AddRows(progrestest.SHPInterventionDetail, row)
	cols := progres.DefaultColumns()
	cols.DetailIndividualPrefix = "progres_individual.ind."
	c := newPING(t, s, progres.WithColumns(cols))
	rows, err := c.Interventions.Detail(context.Background(), row["progres_lpinterventionid"].(string))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "Test", rows[0].GivenName)
	assert.Empty(t, rows[0].FamilyName, "the other columns now use the configured prefix")
}

func TestPINGAsyncReferralWaitsForPerRecordResults(t *testing.T) {
	cfg := progrestest.DefaultPINGConfig()
	cfg.PendingPolls = 2
	s := progrestest.NewPINGServer(t, progrestest.WithPING(cfg))
	s.RejectRecord("case-2")
	c := newPING(t, s)
	ctx := context.Background()
	ref := func(caseID string) progres.PINGReferral {
		return progres.PINGReferral{CaseID: caseID, RecordID: "rec-" + caseID, Fields: []progres.Field{
			progres.F("progres_orgreferralid", testServiceID), progres.F("progres_pocsex", "125080000"), progres.NullField("progres_spneedcategory"),
		}}
	}
	tx, err := c.Referrals.Create(ctx, ref("case-1"), ref("case-2"))
	require.NoError(t, err)
	require.NotEmpty(t, tx)

	st, err := c.Referrals.Status(ctx, tx)
	require.NoError(t, err)
	assert.False(t, st.Ready)

	st, err = c.Referrals.Wait(ctx, tx, progres.WaitOptions{Interval: time.Millisecond, MaxInterval: 2 * time.Millisecond, Timeout: 5 * time.Second})
	require.NoError(t, err)
	assert.True(t, st.Ready)
	assert.True(t, st.Repaired, "the fake answers the malformed string by default")
	require.Len(t, st.Records, 2)
	assert.Equal(t, "case-1", st.Records[0].Data["ExternalId"])
	assert.Equal(t, "Success", st.Records[0].Members["Status"])
	assert.Equal(t, "Failed", st.Records[1].Members["Status"])

	ing := s.Ingested()
	require.Len(t, ing, 1)
	assert.True(t, ing[0].Async)
	assert.Equal(t, "rec-case-1", ing[0].Records[0]["ExternalGUID"])
	assert.Contains(t, ing[0].Records[0]["Fields"], map[string]any{"Name": "progres_spneedcategory", "Value": nil})
}

func TestPINGWaitGivesUpAtTheDeadline(t *testing.T) {
	cfg := progrestest.DefaultPINGConfig()
	cfg.PendingPolls = 1 << 30
	s := progrestest.NewPINGServer(t, progrestest.WithPING(cfg))
	c := newPING(t, s)
	tx, err := c.Referrals.Create(context.Background(), progres.PINGReferral{CaseID: "case-1", RecordID: "rec-1",
		Fields: []progres.Field{progres.F("progres_orgreferralid", testServiceID)}})
	require.NoError(t, err)
	_, err = c.Referrals.Wait(context.Background(), tx, progres.WaitOptions{Interval: time.Millisecond, Timeout: 30 * time.Millisecond})
	require.ErrorIs(t, err, progres.ErrIngestionPending)
}

func TestPINGCheckStatusShapes(t *testing.T) {
	for _, shape := range []progrestest.CheckStatusShape{progrestest.StatusMalformed, progrestest.StatusString, progrestest.StatusParsed} {
		cfg := progrestest.DefaultPINGConfig()
		cfg.StatusShape = shape
		s := progrestest.NewPINGServer(t, progrestest.WithPING(cfg))
		c := newPING(t, s)
		tx, err := c.Referrals.Create(context.Background(), progres.PINGReferral{CaseID: "case-1", RecordID: "rec-1",
			Fields: []progres.Field{progres.F("progres_orgreferralid", testServiceID)}})
		require.NoError(t, err)
		st, err := c.Referrals.Status(context.Background(), tx)
		require.NoError(t, err, shape)
		require.Len(t, st.Records, 1)
		assert.Equal(t, testServiceID, st.Records[0].Data["progres_orgreferralid"])
		assert.Equal(t, shape == progrestest.StatusMalformed, st.Repaired)
	}
}

func TestPINGValidationBeforeSending(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	c := newPING(t, s)
	ctx := context.Background()
	var ve *progres.ValidationError

	_, err := c.Referrals.Create(ctx, progres.PINGReferral{CaseID: "", RecordID: "", Fields: []progres.Field{progres.F("Bad Name", "x")}})
	require.ErrorAs(t, err, &ve)
	for _, p := range []string{"Data[0].ExternalGUID", "Data[0].Fields.progres_orgreferralid"} {
		assert.True(t, ve.Has(p), p)
	}
	err = c.Interventions.SetTransferStatus(ctx, progres.TransferUpdate{LPInterventionID: "x", BusinessUnit: "y", Status: progres.TransferStatus(1), Date: "2025-13-01"})
	require.ErrorAs(t, err, &ve)
	for _, p := range []string{"Data[0].ExternalId", "Data[0].progres_primerotransferstatus", "Data[0].progres_primerotransferstatusdate"} {
		assert.True(t, ve.Has(p), p)
	}
	_, err = c.Ingest(ctx, progrestest.SHPTransferStatus, []progres.Record{{ExternalID: "e", Fields: []progres.Field{progres.F("a", "1"), progres.F("a", "2")}}})
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("Data[0].Fields[1].Name"))
	assert.Empty(t, s.Requests(), "nothing was sent, not even a token request")
}

func TestNewPINGValidates(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	key := progres.WithSubscriptionKey("k")
	grant := progres.WithPasswordGrant(grantFor(s))
	dep := progres.WithDeployment("PNR-1", "INT-1")
	noTenant := grantFor(s)
	noTenant.Tenant = "bad/tenant"
	for name, tc := range map[string]struct {
		url  string
		opts []progres.Option
		path string
	}{
		"no auth":         {s.URL(), []progres.Option{key, dep}, "WithPasswordGrant"},
		"no deployment":   {s.URL(), []progres.Option{key, grant}, "WithDeployment"},
		"http not local":  {"http://ping.example.org", []progres.Option{key, grant, dep}, "baseURL"},
		"bad tenant":      {s.URL(), []progres.Option{key, progres.WithPasswordGrant(noTenant), dep}, "PasswordGrant.Tenant"},
		"no password":     {s.URL(), []progres.Option{key, progres.WithPasswordGrant(progres.PasswordGrant{Tenant: "t", Policy: "p", ClientID: "c", Scope: "s", Username: "u"}), dep}, "PasswordGrant.Password"},
		"partner in path": {s.URL(), []progres.Option{key, grant, progres.WithDeployment("PNR/1", "INT-1")}, "WithDeployment.partnerID"},
		"DTP option":      {s.URL(), []progres.Option{key, grant, dep, progres.WithThumbprintHeader("X-T")}, "WithThumbprintHeader"},
		"bad SHP":         {s.URL(), []progres.Option{key, grant, dep, progres.WithShippingProcesses(progres.ShippingProcesses{})}, "ShippingProcesses.PendingInterventions"},
		"bad columns":     {s.URL(), []progres.Option{key, grant, dep, progres.WithColumns(progres.Columns{})}, "Columns.PendingInterventionID"},
		"two auths":       {s.URL(), []progres.Option{key, grant, dep, progres.WithTokenSource(nil)}, "WithTokenSource.ts"},
	} {
		_, err := progres.NewPING(tc.url, tc.opts...)
		var ve *progres.ValidationError
		if assert.ErrorAs(t, err, &ve, name) {
			assert.True(t, ve.Has(tc.path), "%s: %v", name, err)
		}
	}
}
