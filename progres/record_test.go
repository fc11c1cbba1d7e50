package progres_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/casebridge/casebridge/progres"
	"github.com/casebridge/casebridge/progres/progrestest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeItems decodes referral items through the real decoder.
func decodeItems(t *testing.T, items ...map[string]any) []*progres.OutgoingReferral {
	t.Helper()
	b, err := json.Marshal(map[string]any{"interventions": items, "request_type": "PrimeroOutgoingReferral"})
	require.NoError(t, err)
	n, err := progres.DecodeNotification(b)
	require.NoError(t, err)
	return n.Referrals
}

// Record keeps every decoded value under DTP's key: decoding the record
// again gives the same referral, extra keys included.
func TestOutgoingReferralRecordRoundTrips(t *testing.T) {
	item := progrestest.SyntheticReferral(3, "Nuer")[0]
	item["progres_consentforreferral"] = true
	item["progres_interventionbyother"] = "Synthetic other"
	item["individuals.progres_coalocationlevel6"] = "Plot 6"
	item["specificneeds.progres_spnsubcategory2"] = map[string]any{"Id": "00000000-0000-4000-8000-0000000000aa", "KeyAttributes": []any{}, "LogicalName": "progres_spnsubcategory", "Name": "Synthetic", "RowVersion": nil}
	first := decodeItems(t, item)[0]
	rec := first.Record()

	assert.Equal(t, "000-00000003", rec["individuals.progres_id"])
	assert.Equal(t, progrestest.CodeUnknown, rec["individuals.progres_sex"], "an option code stays its string")
	assert.Equal(t, "2016-07-19", rec["individuals.progres_dateofbirth"])
	assert.Equal(t, "Nuer", rec["languages.progres_languagecodeid"].(map[string]any)["Name"])
	assert.Equal(t, true, rec["progres_consentforreferral"], "a key the decoder does not type is kept")

	again := decodeItems(t, map[string]any(rec))[0]
	assert.Equal(t, first, again, "decode(Record) is the referral it came from")
}

// The PING detail row converts as fetched, and the record is a copy.
func TestInterventionRowRecordIsACopy(t *testing.T) {
	s := progrestest.NewPINGServer(t)
	s.AddRows(progrestest.SHPInterventionDetail, progrestest.SyntheticDetailRows(4, "French")...)
	c := newPING(t, s)
	rows, err := c.Interventions.Detail(context.Background(), "00000001-0000-4000-8000-000000000004")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	rec := rows[0].Record()
	assert.Equal(t, "French", rec["progres_language.progres_languagecodeidname"])
	assert.Equal(t, map[string]any(rows[0].Row), map[string]any(rec))
	rec["progres_interventionnumber"] = "changed"
	assert.Equal(t, progrestest.InterventionNumber(4), rows[0].Row["progres_interventionnumber"], "changing the record leaves the row alone")
}

// FuzzOutgoingReferralRecord: whatever item the decoder accepts, its
// Record decodes back to the same referral.
func FuzzOutgoingReferralRecord(f *testing.F) {
	for _, it := range progrestest.SyntheticReferral(1, "Nuer", "Somali") {
		b, _ := json.Marshal(map[string]any{"interventions": []any{it}, "request_type": "PrimeroOutgoingReferral"})
		f.Add(b)
	}
	f.Add([]byte(`{"interventions":[{"progres_interventionnumber":"x","individuals.progres_sex":125080001,"extra":{"a":[1,null]}}],"request_type":"PrimeroOutgoingReferral"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := progres.DecodeNotification(body)
		if err != nil || n.RequestType != progres.RequestReferral {
			return
		}
		for _, r := range n.Referrals {
			b, err := json.Marshal(map[string]any{"interventions": []any{map[string]any(r.Record())}, "request_type": "PrimeroOutgoingReferral"})
			require.NoError(t, err)
			again, err := progres.DecodeNotification(b)
			require.NoError(t, err, "a Record decodes again")
			assert.Equal(t, r, again.Referrals[0])
		}
	})
}
