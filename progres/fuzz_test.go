package progres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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
		[]byte(`{"interventions":[{"progres_interventionnumber":"n1"},1,{"progres_interventionnumber":"n3","individuals.progres_sex":"9"},null],"request_type":"PrimeroOutgoingReferral"}`),
		[]byte(`{"interventions":[{"progres_interoperabilityreferralid":"r","progres_orgreferralid":"` + testKey + `","progres_reviewdecision":"125080000"},{"progres_interoperabilityreferralid":7}],"request_type":"PrimeroIncomingReferralDecision"}`),
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
// delivery keys; it accepts exactly the notifications DecodeItems decodes
// with no refused item.
func FuzzDecodeNotification(f *testing.F) {
	for _, s := range notificationSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := progres.DecodeNotification(body)
		b, berr := progres.DecodeItems(body)
		if (berr == nil) != (err == nil) && berr != nil {
			t.Fatal("DecodeItems refused an envelope DecodeNotification accepted")
		}
		if err != nil {
			var ve *progres.ValidationError
			if !errorsAs(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("refusal is not a *ValidationError with fields: %v", err)
			}
			if berr == nil && countInvalid(b) == 0 {
				t.Fatal("DecodeNotification refused a notification whose items DecodeItems all accepted")
			}
			return
		}
		if countInvalid(b) != 0 || len(b.Items) != n.Len() {
			t.Fatal("DecodeItems refused an item DecodeNotification accepted")
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

// itemAlone returns a notification holding only item i of body, with
// body's request type.
func itemAlone(t *testing.T, body []byte, i int) []byte {
	t.Helper()
	var env struct {
		Items       []json.RawMessage `json:"interventions"`
		RequestType json.RawMessage   `json:"request_type"`
	}
	if err := json.Unmarshal(body, &env); err != nil || i >= len(env.Items) {
		t.Fatalf("item %d of an accepted body cannot be read again", i)
	}
	return []byte(`{"interventions":[` + string(env.Items[i]) + `],"request_type":` + string(env.RequestType) + `}`)
}

// countInvalid counts a batch's refused items.
func countInvalid(b *progres.Batch) int {
	n := 0
	for _, it := range b.Items {
		if it.Invalid != nil {
			n++
		}
	}
	return n
}

// FuzzHandler: through the real Handler, each item of an accepted
// notification reaches exactly one callback: the valid-item callback only
// with an item that is valid on its own, the invalid-item callback only
// with one that is refused on its own, for the same fields, under the
// same delivery key. Its answer is 200, 422 (an invalid item not
// answered), 400 or 413, with no callback before a 400 or 413.
func FuzzHandler(f *testing.F) {
	for _, s := range notificationSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		seen := map[int]int{}
		valid := func(rt progres.RequestType, d progres.DeliveryKey, index int, n *progres.Notification) {
			seen[index]++
			checkItemsValid(t, n)
			alone, err := progres.DecodeNotification(itemAlone(t, body, index))
			if err != nil || alone.Keys[0] != d || alone.RequestType != rt {
				t.Fatalf("item %d was delivered but alone it is refused (%v) or keyed otherwise", index, err)
			}
		}
		h, err := progres.NewHandler(progres.WithAPIKey("", inboundKey), progres.WithMaxBodyBytes(1<<16),
			progres.OnReferral(func(_ context.Context, d progres.Delivery[*progres.OutgoingReferral]) error {
				valid(progres.RequestReferral, d.Key, d.Index, &progres.Notification{RequestType: progres.RequestReferral, Referrals: []*progres.OutgoingReferral{d.Item}, Keys: []progres.DeliveryKey{d.Key}})
				return nil
			}),
			progres.OnDecision(func(_ context.Context, d progres.Delivery[*progres.IncomingReferralDecision]) error {
				valid(progres.RequestDecision, d.Key, d.Index, &progres.Notification{RequestType: progres.RequestDecision, Decisions: []*progres.IncomingReferralDecision{d.Item}, Keys: []progres.DeliveryKey{d.Key}})
				return nil
			}),
			progres.OnInvalidReferral(func(_ context.Context, d progres.InvalidDelivery) error {
				return checkInvalid(t, body, d, seen)
			}),
			progres.OnInvalidDecision(func(_ context.Context, d progres.InvalidDelivery) error {
				return checkInvalid(t, body, d, seen)
			}))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set(progres.DefaultAPIKeyHeader, inboundKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var a progres.Answer
		switch rec.Code {
		case http.StatusOK, http.StatusUnprocessableEntity:
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatal("answer is not JSON")
			}
			if len(seen) != len(a.Results) {
				t.Fatalf("%d items handed over, %d results", len(seen), len(a.Results))
			}
			for i, r := range a.Results {
				if seen[i] != 1 || r.Index != i {
					t.Fatalf("item %d handed over %d times", i, seen[i])
				}
				if (r.Status == progres.ItemInvalid) != (len(r.Errors) > 0) {
					t.Fatalf("item %d: status %s with %d errors", i, r.Status, len(r.Errors))
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if len(seen) != 0 {
				t.Fatalf("%d callbacks before a %d", len(seen), rec.Code)
			}
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	})
}

// checkInvalid fails t unless the item the invalid callback got is
// refused alone, for the same fields, under the same key. It answers
// even items and leaves odd ones unanswered, so both paths run.
func checkInvalid(t *testing.T, body []byte, d progres.InvalidDelivery, seen map[int]int) error {
	t.Helper()
	seen[d.Index]++
	alone, err := progres.DecodeItems(itemAlone(t, body, d.Index))
	if err != nil || len(alone.Items) != 1 || alone.Items[0].Invalid == nil {
		t.Fatalf("item %d went to the invalid callback but alone it is not refused", d.Index)
	}
	if alone.Items[0].Key != d.Key {
		t.Fatalf("item %d: delivery key differs alone", d.Index)
	}
	prefix := "interventions[" + strconv.Itoa(d.Index) + "]"
	want := alone.Items[0].Invalid.Err.Fields
	if d.Err == nil || len(d.Err.Fields) != len(want) || len(want) == 0 {
		t.Fatalf("item %d: refused fields differ alone", d.Index)
	}
	for i, fe := range d.Err.Fields {
		if fe.Path != prefix+strings.TrimPrefix(want[i].Path, "interventions[0]") || fe.Reason != want[i].Reason {
			t.Fatalf("item %d: field %d differs alone", d.Index, i)
		}
	}
	if d.Index%2 == 1 {
		return progres.ErrNotAnswered
	}
	return nil
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
