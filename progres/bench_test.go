package progres_test

import (
	"encoding/json"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
)

// benchNotification is a notification of 100 referral rows.
func benchNotification(b *testing.B) []byte {
	b.Helper()
	var items []map[string]any
	for i := 1; i <= 50; i++ {
		items = append(items, progrestest.SyntheticReferral(i, "French", "English")...)
	}
	body, err := json.Marshal(map[string]any{"interventions": items, "request_type": progrestest.RequestReferral})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDecodeNotification decodes, validates and keys 100 items.
func BenchmarkDecodeNotification(b *testing.B) {
	body := benchNotification(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := progres.DecodeNotification(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeNotificationBaseline is the hand-written minimum: one
// json.Unmarshal into maps, no validation, no keys.
func BenchmarkDecodeNotificationBaseline(b *testing.B) {
	body := benchNotification(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var env struct {
			Interventions []map[string]any `json:"interventions"`
			RequestType   string           `json:"request_type"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPage is a fetch answer of 50 detail rows.
func benchPage(b *testing.B) []byte {
	b.Helper()
	var rows []map[string]any
	for i := 1; i <= 50; i++ {
		rows = append(rows, progrestest.SyntheticDetailRows(i)...)
	}
	body, err := json.Marshal(map[string]any{"Data": rows, "RecordCount": len(rows), "ErrorMessage": nil, "SPHTransactionId": "t",
		"PagingSummary": map[string]any{"PagingCookie": nil, "PageNumber": 0, "IsMoreRecordsAvailable": false}})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDecodeFetchPage decodes a 50-row page.
func BenchmarkDecodeFetchPage(b *testing.B) {
	body := benchPage(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := progres.DecodeFetchPage(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFetchPageBaseline is one json.Unmarshal into maps.
func BenchmarkDecodeFetchPageBaseline(b *testing.B) {
	body := benchPage(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var env struct {
			Data []map[string]any `json:"Data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
	}
}
