package progrestest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPushRedeliversUntilAcknowledged(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	status := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, progrestest.DefaultInboundAPIKey, r.Header.Get(progrestest.DefaultInboundHeader))
		got = append(got, m)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	s := progrestest.NewDTPServer(t, progrestest.WithInbound(srv.URL, progrestest.DefaultInboundAPIKey))
	s.QueueDecision(progrestest.SyntheticDecision(1, "case-1#1a2b3c4d5e6f", false))

	n, err := s.Push(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1, s.Pending())
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	n, err = s.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Zero(t, s.Pending())

	require.Len(t, got, 2)
	assert.Equal(t, got[0], got[1], "the same notification, whole")
	item := got[0]["interventions"].([]any)[0].(map[string]any)
	assert.Equal(t, "PrimeroIncomingReferralDecision", got[0]["request_type"])
	assert.Contains(t, item, "progres_interoperabiltyreferralrejectionreason", "misspelt as shipped")
	assert.Contains(t, item, "progres_interoperabilityreferralrejectionomment")
	assert.Equal(t, "125080001", item["progres_reviewdecision"], "codes are strings")
	att := s.PushAttempts()
	assert.Equal(t, []int{503, 200}, []int{att[0].Status, att[1].Status})
}

func TestPushWithoutInboundURL(t *testing.T) {
	s := progrestest.NewDTPServer(t)
	_, err := s.Push(context.Background())
	require.Error(t, err)
}

func TestPartialRedeliverySendsOnlyFailedItems(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Interventions []any `json:"interventions"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		defer mu.Unlock()
		calls++
		sizes = append(sizes, len(m.Interventions))
		if calls == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"status":"failed","results":[{"index":0,"status":"delivered"},{"index":1,"status":"failed"},{"index":2,"status":"delivered"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	s := progrestest.NewDTPServer(t, progrestest.WithInbound(srv.URL, progrestest.DefaultInboundAPIKey), progrestest.WithPartialRedelivery())
	s.QueueReferral(append(progrestest.SyntheticReferral(1), append(progrestest.SyntheticReferral(2), progrestest.SyntheticReferral(3)...)...)...)
	_, err := s.Push(context.Background())
	require.NoError(t, err)
	n, err := s.Push(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []int{3, 1}, sizes, "only the failed item is delivered again")
	assert.Zero(t, s.Pending())
}
