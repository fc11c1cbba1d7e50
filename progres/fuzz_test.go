package progres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
)

// notificationSeeds are valid and broken notification bodies.
func notificationSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	enc := func(rt string, items ...map[string]any) []byte {
		b, err := json.Marshal(map[string]any{"interventions": items, "request_type": rt})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	return [][]byte{
		enc(progrestest.RequestReferral, progrestest.SyntheticReferral(1, "French", "English")...),
		enc(progrestest.RequestDecision, progrestest.SyntheticDecision(1, testKey, true), progrestest.SyntheticDecision(2, testKey, false)),
		enc(progrestest.RequestDecision, map[string]any{"progres_orgreferralid": "x#y"}),
		[]byte(`{"interventions":[{"individuals.progres_sex":125080001,"progres_interventionnumber":"n"}],"request_type":"PrimeroOutgoingReferral","__query_params":{}}`),
		[]byte(`{"interventions":null,"request_type":"PrimeroOutgoingReferral"}`),
		[]byte(`{"interventions":[{"progres_reviewdecision":"125080003"}],"request_type":"PrimeroIncomingReferralDecision"}`),
		[]byte(`{"interventions":[{"individuals.progres_coalocationlevel1":{"Id":1}}],"request_type":"PrimeroOutgoingReferral"}`),
		[]byte(`[`), []byte(``), []byte(`null`), []byte(`{"request_type":7}`),
	}
}

// checkItemsValid fails t if a decoded notification holds an item that
// validation should have refused.
func checkItemsValid(t *testing.T, n *progres.Notification) {
	t.Helper()
	switch n.RequestType {
	case progres.RequestReferral:
		if len(n.Referrals) != n.Len() || len(n.Decisions) != 0 {
			t.Fatalf("referral notification with %d referrals, %d decisions, %d keys", len(n.Referrals), len(n.Decisions), n.Len())
		}
		for _, r := range n.Referrals {
			if r.InterventionNumber == "" || (r.Sex != 0 && !r.Sex.Valid()) {
				t.Fatalf("invalid referral passed: number %q sex %d", r.InterventionNumber, r.Sex)
			}
		}
	case progres.RequestDecision:
		if len(n.Decisions) != n.Len() || len(n.Referrals) != 0 {
			t.Fatalf("decision notification with %d decisions, %d referrals, %d keys", len(n.Decisions), len(n.Referrals), n.Len())
		}
		for _, d := range n.Decisions {
			if !d.ReviewDecision.Valid() || d.OrgReferralID.Validate() != nil || d.ReferralID == "" ||
				(d.RejectionReason != 0 && !d.RejectionReason.Valid()) {
				t.Fatalf("invalid decision passed: %+v", d)
			}
		}
	default:
		t.Fatalf("unknown request type accepted")
	}
}

// FuzzDecodeNotification: the inbound decoder never panics, refuses with a
// *ValidationError, and what it accepts holds only valid items with stable
// delivery keys.
func FuzzDecodeNotification(f *testing.F) {
	for _, s := range notificationSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := progres.DecodeNotification(body)
		if err != nil {
			var ve *progres.ValidationError
			if !errorsAs(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("refusal is not a *ValidationError with fields: %v", err)
			}
			return
		}
		checkItemsValid(t, n)
		again, err := progres.DecodeNotification(body)
		if err != nil || len(again.Keys) != len(n.Keys) {
			t.Fatal("decoding is not deterministic")
		}
		for i := range n.Keys {
			if again.Keys[i] != n.Keys[i] {
				t.Fatal("delivery key is not stable")
			}
		}
	})
}

// FuzzHandler: through the real Handler, a callback is never called with
// an invalid item, and the answer is 200, 400 or 413.
func FuzzHandler(f *testing.F) {
	for _, s := range notificationSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		calls := 0
		h, err := progres.NewHandler(progres.WithAPIKey("", inboundKey), progres.WithMaxBodyBytes(1<<16),
			progres.OnReferral(func(_ context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
				calls++
				checkItemsValid(t, &progres.Notification{RequestType: progres.RequestReferral, Referrals: []*progres.OutgoingReferral{d.Item}, Keys: []progres.DeliveryKey{d.Key}})
				return nil
			}),
			progres.OnDecision(func(_ context.Context, d progres.Delivery[*progres.IncomingReferralDecision]) error {
				calls++
				checkItemsValid(t, &progres.Notification{RequestType: progres.RequestDecision, Decisions: []*progres.IncomingReferralDecision{d.Item}, Keys: []progres.DeliveryKey{d.Key}})
				return nil
			}))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set(progres.DefaultAPIKeyHeader, inboundKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if calls != 0 {
				t.Fatalf("%d callbacks before a %d", calls, rec.Code)
			}
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	})
}

// FuzzDecodeFetchPage: the fetch decoder never panics and keeps its promises.
func FuzzDecodeFetchPage(f *testing.F) {
	for _, s := range []string{
		`{"Data":[{"a":1}],"RecordCount":1,"ErrorMessage":null,"SPHTransactionId":"t","PagingSummary":{"PagingCookie":null,"PageNumber":0,"IsMoreRecordsAvailable":false}}`,
		`{"Data":"No Data Available","RecordCount":null}`,
		`{"Data":"Something else"}`,
		`{"Data":[1]}`,
		`{"Data":[],"PagingSummary":{"PagingCookie":"c","PageNumber":-1,"IsMoreRecordsAvailable":true}}`,
		`{"Data":[],"PagingSummary":{"IsMoreRecordsAvailable":true}}`,
		`{"RecordCount":"x"}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := progres.DecodeFetchPage(body)
		if err != nil {
			return
		}
		for _, r := range p.Rows {
			if r == nil {
				t.Fatal("nil row")
			}
		}
		if p.Paging.IsMoreRecordsAvailable && p.Paging.PagingCookie == "" {
			t.Fatal("more records without a cookie accepted")
		}
		if p.RecordCount < -1 || p.Paging.PageNumber < 0 {
			t.Fatal("negative count accepted")
		}
	})
}

// FuzzDecodeCheckStatus: the checkstatus decoder never panics, and every
// record it returns has its inner Data decoded out of Members.
func FuzzDecodeCheckStatus(f *testing.F) {
	for _, s := range []string{
		`{"Data":"[{\"Data\": \"{\"ExternalId\": \"c1\"}\", \"Status\": \"Success\"}]","SPHTransactionId":"t"}`,
		`{"Data":"[{\"Data\": \"{\\\"ExternalId\\\": \\\"c1\\\"}\", \"Status\": \"Success\"}]"}`,
		`{"Data":[{"Data":{"ExternalId":"c1"},"Status":"Success"}]}`,
		`{"Data":{"Data":"{\"a\":1}","Status":"Success"}}`,
		`{"Data":"[{\"Status\": \"Success\", \"Data\": \"{\"ExternalId\": \"c1\"}\"}]"}`,
		`{"Data":null}`, `{"Data":""}`, `{"Data":false}`, `{"Data":"garbage"}`, `{"Data":5}`,
		`{"Data":[{"Data":7}]}`, `{"Data":[1]}`, `{"ErrorMessage":"x"}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		st, err := progres.DecodeCheckStatus(body)
		if err != nil {
			return
		}
		if st.Ready != (len(st.Records) > 0) {
			t.Fatal("Ready disagrees with Records")
		}
		for _, r := range st.Records {
			if _, ok := r.Members["Data"]; ok {
				t.Fatal("inner Data left in Members")
			}
			if r.Members == nil {
				t.Fatal("nil Members")
			}
		}
	})
}
