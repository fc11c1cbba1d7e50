package progres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threeReferrals is synthetic referrals 1..3, one item each.
func threeReferrals() []map[string]any {
	var items []map[string]any
	for i := 1; i <= 3; i++ {
		items = append(items, progrestest.SyntheticReferral(i)...)
	}
	return items
}

// lastAnswer decodes the handler's answer to the fake's last push.
func lastAnswer(t *testing.T, dtp *progrestest.DTPServer) (int, progres.Answer, string) {
	t.Helper()
	att := dtp.PushAttempts()
	require.NotEmpty(t, att)
	last := att[len(att)-1]
	var a progres.Answer
	require.NoError(t, json.Unmarshal(last.Answer, &a))
	return last.Status, a, string(last.Answer)
}

// One item with an unknown sex code does not hold back the two valid
// items of its batch: they reach the callback, in order, with their
// delivery keys (pitfall 31).
func TestHandlerDeliversTheValidItemsOfABatchWithAnInvalidOne(t *testing.T) {
	sk, _, dtp := inbound(t)
	items := threeReferrals()
	items[1]["individuals.progres_sex"] = "125080009"
	dtp.QueueReferral(items...)
	_, err := dtp.Push(context.Background())
	require.NoError(t, err)

	require.Len(t, sk.referrals, 2, "the valid items are delivered")
	assert.Equal(t, 0, sk.referrals[0].Index)
	assert.Equal(t, 2, sk.referrals[1].Index)
	assert.Equal(t, progrestest.InterventionNumber(1), sk.referrals[0].Item.InterventionNumber)
	assert.Equal(t, progrestest.InterventionNumber(3), sk.referrals[1].Item.InterventionNumber)

	_, a, raw := lastAnswer(t, dtp)
	require.Len(t, a.Results, 3, "a result per item")
	assert.Equal(t, "delivered", a.Results[0].Status)
	assert.Equal(t, "delivered", a.Results[2].Status)
	assert.Equal(t, sk.referrals[0].Key, a.Results[0].DeliveryKey)
	assert.Equal(t, sk.referrals[1].Key, a.Results[2].DeliveryKey)
	assert.NotEqual(t, "delivered", a.Results[1].Status)
	assert.NotContains(t, raw, "125080009", "the refused value is not echoed")
}

// invalidSink records the invalid-item callback's calls; answer decides
// its result.
type invalidSink struct {
	mu     sync.Mutex
	got    []progres.InvalidDelivery
	answer func(progres.InvalidDelivery) error
}

func (s *invalidSink) on(_ context.Context, d progres.InvalidDelivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, d)
	if s.answer != nil {
		return s.answer(d)
	}
	return nil
}

// inboundWithInvalid is inbound with invalid-item callbacks for both kinds.
func inboundWithInvalid(t *testing.T) (*sink, *invalidSink, *progrestest.DTPServer) {
	t.Helper()
	inv := &invalidSink{}
	sk, _, dtp := inbound(t, progres.OnInvalidReferral(inv.on), progres.OnInvalidDecision(inv.on))
	return sk, inv, dtp
}

// The refused item reaches the invalid-item callback with its index, its
// delivery key, its intervention number (valid itself, so the flow can
// address a "Delivery Fail") and the refused field; once answered, the
// notification is handled: 200, and the sender drops it.
func TestHandlerHandsTheRefusedItemToTheInvalidCallback(t *testing.T) {
	sk, inv, dtp := inboundWithInvalid(t)
	items := threeReferrals()
	items[1]["individuals.progres_sex"] = "125080009"
	dtp.QueueReferral(items...)
	acked, err := dtp.Push(context.Background())
	require.NoError(t, err)

	require.Len(t, sk.referrals, 2)
	require.Len(t, inv.got, 1, "the invalid callback is called once, for the invalid item only")
	d := inv.got[0]
	assert.Equal(t, 1, d.Index)
	assert.Equal(t, progrestest.InterventionNumber(2), d.InterventionNumber)
	require.NotNil(t, d.Err)
	assert.Equal(t, []progres.FieldError{{Path: "interventions[1].individuals.progres_sex", Reason: "is not a known option code"}}, d.Err.Fields)

	status, a, _ := lastAnswer(t, dtp)
	assert.Equal(t, http.StatusOK, status, "every item is handled: the invalid one was answered")
	assert.Equal(t, 1, acked)
	assert.Equal(t, "ok", a.Status)
	require.Len(t, a.Results, 3)
	assert.Equal(t, progres.ItemResult{Index: 1, DeliveryKey: d.Key, Status: progres.ItemInvalid, Answered: true,
		Errors: []progres.AnswerError{{Path: "interventions[1].individuals.progres_sex", Reason: "is not a known option code"}}}, a.Results[1])

	// The key is the one DecodeItems gives, so the same item sent again is
	// recognised.
	body, err := json.Marshal(map[string]any{"interventions": items, "request_type": progrestest.RequestReferral})
	require.NoError(t, err)
	b, err := progres.DecodeItems(body)
	require.NoError(t, err)
	assert.Equal(t, d.Key, b.Items[1].Key)
	assert.Equal(t, sk.referrals[0].Key, b.Items[0].Key)
}

// Without an invalid-item callback (or when it returns ErrNotAnswered)
// nobody told the sender: the valid items are delivered, and the answer
// is 422 naming the refused item and fields, so that the sender learns
// of it; a failing invalid callback makes the item "failed" (500).
func TestHandlerUnansweredInvalidItemsGive422(t *testing.T) {
	items := threeReferrals()
	items[2]["individuals.progres_dateofbirth"] = "19/07/2016"

	t.Run("no invalid callback", func(t *testing.T) {
		sk, _, dtp := inbound(t)
		dtp.QueueReferral(items...)
		acked, err := dtp.Push(context.Background())
		require.NoError(t, err)
		assert.Len(t, sk.referrals, 2, "the valid items are delivered")
		status, a, raw := lastAnswer(t, dtp)
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Zero(t, acked)
		assert.Equal(t, "invalid", a.Status)
		require.Len(t, a.Results, 3)
		assert.Equal(t, progres.ItemInvalid, a.Results[2].Status)
		assert.False(t, a.Results[2].Answered)
		assert.Equal(t, []progres.AnswerError{{Path: "interventions[2].individuals.progres_dateofbirth", Reason: "must be an ISO 8601 date-time"}}, a.Results[2].Errors)
		assert.Empty(t, a.Errors, "the envelope was fine")
		assert.NotContains(t, raw, "19/07/2016")
	})
	t.Run("not answered", func(t *testing.T) {
		sk, inv, dtp := inboundWithInvalid(t)
		inv.answer = func(progres.InvalidDelivery) error { return fmt.Errorf("no number: %w", progres.ErrNotAnswered) }
		dtp.QueueReferral(items...)
		_, err := dtp.Push(context.Background())
		require.NoError(t, err)
		assert.Len(t, sk.referrals, 2)
		status, a, _ := lastAnswer(t, dtp)
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Equal(t, progres.ItemInvalid, a.Results[2].Status)
		assert.False(t, a.Results[2].Answered)
	})
	t.Run("answer failed", func(t *testing.T) {
		_, inv, dtp := inboundWithInvalid(t)
		inv.answer = func(progres.InvalidDelivery) error { return errors.New("feedback endpoint down") }
		dtp.QueueReferral(items...)
		_, err := dtp.Push(context.Background())
		require.NoError(t, err)
		status, a, raw := lastAnswer(t, dtp)
		assert.Equal(t, http.StatusInternalServerError, status, "try again: the answer may go through")
		assert.Equal(t, progres.ItemFailed, a.Results[2].Status)
		assert.NotEmpty(t, a.Results[2].Errors, "and the data is still named")
		assert.NotContains(t, raw, "endpoint down")
	})
	t.Run("answer panicked", func(t *testing.T) {
		_, inv, dtp := inboundWithInvalid(t)
		inv.answer = func(progres.InvalidDelivery) error { panic("boom") }
		dtp.QueueReferral(items...)
		_, err := dtp.Push(context.Background())
		require.NoError(t, err)
		status, a, _ := lastAnswer(t, dtp)
		assert.Equal(t, http.StatusInternalServerError, status)
		assert.Equal(t, progres.ItemFailed, a.Results[2].Status)
	})
}

// A batch whose only bad item has no intervention number: the callback
// gets it without one (nothing can address a "Delivery Fail" to it), the
// other items are delivered.
func TestHandlerInvalidItemWithoutInterventionNumber(t *testing.T) {
	for name, set := range map[string]func(map[string]any){
		"absent":    func(m map[string]any) { delete(m, "progres_interventionnumber") },
		"blank":     func(m map[string]any) { m["progres_interventionnumber"] = "  " },
		"a number":  func(m map[string]any) { m["progres_interventionnumber"] = 123 },
		"an object": func(m map[string]any) { m["progres_interventionnumber"] = map[string]any{"Name": "x"} },
	} {
		t.Run(name, func(t *testing.T) {
			sk, inv, dtp := inboundWithInvalid(t)
			items := threeReferrals()
			set(items[0])
			dtp.QueueReferral(items...)
			_, err := dtp.Push(context.Background())
			require.NoError(t, err)
			assert.Len(t, sk.referrals, 2)
			require.Len(t, inv.got, 1)
			assert.Equal(t, 0, inv.got[0].Index)
			assert.Empty(t, inv.got[0].InterventionNumber, "an invalid number is not handed over")
			assert.True(t, inv.got[0].Err.Has("interventions[0].progres_interventionnumber"))
		})
	}
}

// A decision refused for its data carries the identifiers that are valid.
func TestHandlerInvalidDecisionCarriesItsValidIdentifiers(t *testing.T) {
	sk, inv, dtp := inboundWithInvalid(t)
	badCode := progrestest.SyntheticDecision(1, testKey, true)
	badCode["progres_reviewdecision"] = "125080003"
	badKey := progrestest.SyntheticDecision(2, testKey, false)
	badKey["progres_orgreferralid"] = "no-hash"
	dtp.QueueDecision(badCode, progrestest.SyntheticDecision(3, testKey, true), badKey)
	_, err := dtp.Push(context.Background())
	require.NoError(t, err)

	require.Len(t, sk.decisions, 1)
	assert.Equal(t, 1, sk.decisions[0].Index)
	require.Len(t, inv.got, 2)
	assert.Equal(t, badCode["progres_interoperabilityreferralid"], inv.got[0].ReferralID)
	assert.Equal(t, testKey, inv.got[0].OrgReferralID.String())
	assert.Empty(t, inv.got[0].InterventionNumber)
	assert.Equal(t, badKey["progres_interoperabilityreferralid"], inv.got[1].ReferralID)
	assert.True(t, inv.got[1].OrgReferralID.IsZero(), "an invalid key is not handed over")
	assert.True(t, inv.got[1].Err.Has("interventions[2].progres_orgreferralid"))
}

// Every way a single item can be invalid refuses that item alone, named by
// path, and the valid item beside it is delivered.
func TestHandlerRefusesInvalidItemsAlone(t *testing.T) {
	_, srv, _ := inbound(t)
	ref := func(item string) string {
		good, _ := json.Marshal(progrestest.SyntheticReferral(1)[0])
		return `{"interventions":[` + string(good) + `,` + item + `],"request_type":"PrimeroOutgoingReferral"}`
	}
	dec := func(item string) string {
		good, _ := json.Marshal(progrestest.SyntheticDecision(1, testKey, true))
		return `{"interventions":[` + string(good) + `,` + item + `],"request_type":"PrimeroIncomingReferralDecision"}`
	}
	tests := map[string]struct {
		body string
		path string
	}{
		"item not object":  {ref(`1`), "interventions[1]"},
		"item null":        {ref(`null`), "interventions[1]"},
		"lookup as string": {ref(`{"progres_interventionnumber":"n","languages.progres_languagecodeid":"French"}`), "interventions[1].languages.progres_languagecodeid"},
		"number as text":   {ref(`{"progres_interventionnumber":5}`), "interventions[1].progres_interventionnumber"},
		"bad key":          {dec(`{"progres_interoperabilityreferralid":"r","progres_orgreferralid":"no-hash","progres_reviewdecision":"125080000"}`), "interventions[1].progres_orgreferralid"},
		"unknown decision": {dec(`{"progres_interoperabilityreferralid":"r","progres_orgreferralid":"` + testKey + `","progres_reviewdecision":"125080003"}`), "interventions[1].progres_reviewdecision"},
		"no decision":      {dec(`{"progres_interoperabilityreferralid":"r","progres_orgreferralid":"` + testKey + `"}`), "interventions[1].progres_reviewdecision"},
		"integer decision": {dec(`{"progres_interoperabilityreferralid":"r","progres_orgreferralid":"` + testKey + `","progres_reviewdecision":125080001,"progres_interoperabiltyreferralrejectionreason":"9"}`), "interventions[1].progres_interoperabiltyreferralrejectionreason"},
		"spellings differ": {dec(`{"progres_interoperabilityreferralid":"r","progres_orgreferralid":"` + testKey + `","progres_reviewdecision":"125080001","progres_interoperabilityreferralrejectionomment":"a","progres_interoperabilityreferralrejectioncomment":"b"}`), "interventions[1].progres_interoperabilityreferralrejectioncomment"},
	}
	for name, tc := range tests {
		resp, a := post(t, srv.URL, inboundKey, tc.body)
		assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, name)
		require.Len(t, a.Results, 2, name)
		assert.Equal(t, progres.ItemDelivered, a.Results[0].Status, name)
		assert.Equal(t, progres.ItemInvalid, a.Results[1].Status, name)
		var paths []string
		for _, e := range a.Results[1].Errors {
			paths = append(paths, e.Path)
		}
		assert.Contains(t, paths, tc.path, name)
	}
}

// DecodeNotification keeps its whole-or-nothing contract: the batch with
// one invalid item is refused, naming that item's fields.
func TestDecodeNotificationStillRefusesABatchWithAnInvalidItem(t *testing.T) {
	items := threeReferrals()
	items[1]["individuals.progres_sex"] = "125080009"
	items[1]["individuals.progres_dateofbirth"] = "19/07/2016"
	delete(items[1], "progres_interventionnumber")
	body, err := json.Marshal(map[string]any{"interventions": items, "request_type": progrestest.RequestReferral})
	require.NoError(t, err)
	n, err := progres.DecodeNotification(body)
	assert.Nil(t, n)
	var ve *progres.ValidationError
	require.ErrorAs(t, err, &ve)
	var got []string
	for _, f := range ve.Fields {
		got = append(got, f.Path)
	}
	assert.ElementsMatch(t, []string{
		"interventions[1].individuals.progres_sex",
		"interventions[1].individuals.progres_dateofbirth",
		"interventions[1].progres_interventionnumber",
	}, got)
	assert.NotContains(t, err.Error(), "19/07/2016")

	b, err := progres.DecodeItems(body)
	require.NoError(t, err)
	require.Len(t, b.Items, 3)
	assert.NotNil(t, b.Items[0].Referral)
	assert.Equal(t, ve.Fields, b.Items[1].Invalid.Err.Fields, "the same fields, item by item")
	assert.NotNil(t, b.Items[2].Referral)
}

// The invalid callbacks need their kind's callback and must not be nil.
func TestNewHandlerValidatesInvalidCallbacks(t *testing.T) {
	inv := func(context.Context, progres.InvalidDelivery) error { return nil }
	ref := progres.OnReferral(func(context.Context, progres.Delivery[*progres.OutgoingReferral]) error { return nil })
	key := progres.WithAPIKey("", inboundKey)
	for name, tc := range map[string]struct {
		opts []progres.HandlerOption
		path string
	}{
		"nil referral fn":      {[]progres.HandlerOption{key, ref, progres.OnInvalidReferral(nil)}, "OnInvalidReferral.fn"},
		"nil decision fn":      {[]progres.HandlerOption{key, ref, progres.OnInvalidDecision(nil)}, "OnInvalidDecision.fn"},
		"decision without its": {[]progres.HandlerOption{key, ref, progres.OnInvalidDecision(inv)}, "OnInvalidDecision"},
	} {
		_, err := progres.NewHandler(tc.opts...)
		var ve *progres.ValidationError
		if assert.ErrorAs(t, err, &ve, name) {
			assert.True(t, ve.Has(tc.path), "%s: %v", name, err)
		}
	}
	_, err := progres.NewHandler(key, ref, progres.OnInvalidReferral(inv))
	assert.NoError(t, err)
}

// The log names the refused fields of the invalid items, never a value.
func TestHandlerLogsRefusedItemPathsWithoutValues(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, _, dtp := inbound(t, progres.WithHandlerLogger(logger))
	items := threeReferrals()
	items[1]["individuals.progres_sex"] = "Female"
	dtp.QueueReferral(items...)
	_, err := dtp.Push(context.Background())
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "interventions[1].individuals.progres_sex")
	assert.Contains(t, out, `"invalid":1`)
	for _, secret := range []string{"Female", "Child 2", "officer2@example.org", "000-00000002"} {
		assert.NotContains(t, out, secret)
	}
}
