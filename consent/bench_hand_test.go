package consent

import (
	"testing"
	"time"

	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handShare is the hand-written baseline of BenchmarkCheckFilter: the
// test policy's conditions and need-to-know fields (testdata/primero-unhcr.yaml)
// written out in plain Go for the request okRequest, as a developer would
// write them without the consent package: type assertions, a switch for
// the allowed services, time.Parse for the date of birth, and the output
// record built field by field. With dst nil it makes a new record;
// otherwise it clears dst and fills it (the baseline of FilterInto).
// TestHandBaselineMatchesShare checks that it decides and filters as the
// gate does on the benchmark's records.
func handShare(dst, rec mapping.Record) (mapping.Record, bool) {
	if !handAllowed(rec) {
		return nil, false
	}
	if dst == nil {
		dst = make(mapping.Record, 7)
	} else {
		clear(dst)
	}
	for _, k := range [...]string{"case_id", "name_first", "sex", "date_of_birth"} {
		if v, ok := rec[k]; ok {
			dst[k] = v
		}
	}
	if loc, ok := rec["location"].(map[string]any); ok {
		out := make(map[string]any, 1)
		if code, ok := loc["code"]; ok {
			out["code"] = code
		}
		dst["location"] = out
	}
	if rows, ok := rec["services_section"].([]any); ok {
		out := make([]any, 0, len(rows))
		for _, row := range rows {
			m, ok := row.(map[string]any)
			if !ok {
				continue
			}
			e := make(map[string]any, 2)
			if v, ok := m["service_type"]; ok {
				e["service_type"] = v
			}
			if v, ok := m["unique_id"]; ok {
				e["unique_id"] = v
			}
			out = append(out, e)
		}
		dst["services_section"] = out
	}
	if langs, ok := rec["languages"].([]any); ok {
		out := make([]any, len(langs))
		copy(out, langs)
		dst["languages"] = out
	}
	return dst, true
}

// handAllowed is the baseline's decision: the test policy's conditions for
// okRequest.
func handAllowed(rec mapping.Record) bool {
	if v, ok := rec["consent_withdrawn"]; ok && v != nil && v != false {
		return false
	}
	if rec["consent_for_services"] != true || rec["disclosure_other_orgs"] != true {
		return false
	}
	if age, ok := handAge(rec); (!ok || age < 18) && rec["child_assent"] != true {
		return false
	}
	rows, _ := rec["services_section"].([]any)
	found := 0
	for _, row := range rows {
		m, _ := row.(map[string]any)
		t, ok := m["service_type"]
		if !ok {
			continue
		}
		found++
		switch t {
		case "alternative_care", "health_medical", "psychosocial":
		default:
			return false
		}
	}
	return found > 0
}

// handAge is the age on okRequest's date, from the date of birth, else the
// age field.
func handAge(rec mapping.Record) (int, bool) {
	if s, ok := rec["date_of_birth"].(string); ok {
		if dob, err := time.Parse(time.DateOnly, s); err == nil {
			age := asOf.Year() - dob.Year()
			if asOf.YearDay() < dob.YearDay() {
				age--
			}
			if age >= 0 && age <= 150 {
				return age, true
			}
		}
	}
	if f, ok := rec["age"].(float64); ok && f >= 0 && f <= 150 && f == float64(int(f)) {
		return int(f), true
	}
	return 0, false
}

// TestHandBaselineMatchesShare checks the baseline against the gate on the
// benchmark's record and on records each condition denies.
func TestHandBaselineMatchesShare(t *testing.T) {
	g := loadTestPolicy(t).Gate(okRequest())
	variants := map[string]func(mapping.Record){
		"benchmark":       func(r mapping.Record) { addUnlisted(r) },
		"as is":           func(mapping.Record) {},
		"consent false":   func(r mapping.Record) { r["consent_for_services"] = false },
		"disclosure gone": func(r mapping.Record) { delete(r, "disclosure_other_orgs") },
		"withdrawn":       func(r mapping.Record) { r["consent_withdrawn"] = true },
		"not withdrawn":   func(r mapping.Record) { r["consent_withdrawn"] = false },
		"child":           func(r mapping.Record) { r["date_of_birth"] = "2015-06-02" },
		"child assenting": func(r mapping.Record) { r["date_of_birth"] = "2015-06-02"; r["child_assent"] = true },
		"age field only":  func(r mapping.Record) { delete(r, "date_of_birth") },
		"service refused": func(r mapping.Record) { r["services_section"] = []any{map[string]any{"service_type": "food"}} },
		"no services":     func(r mapping.Record) { delete(r, "services_section") },
		"two services": func(r mapping.Record) {
			r["services_section"] = append(r["services_section"].([]any), map[string]any{"service_type": "psychosocial"})
		},
		"no location":      func(r mapping.Record) { delete(r, "location") },
		"location no code": func(r mapping.Record) { r["location"] = map[string]any{"village": "Synthetic Village"} },
		"no languages":     func(r mapping.Record) { delete(r, "languages") },
	}
	for name, change := range variants {
		rec := okRecord()
		change(rec)
		want, d := g.Share(rec)
		got, allowed := handShare(nil, rec)
		assert.Equal(t, d.Allowed, allowed, name)
		assert.Equal(t, want, got, name)
		reused, _ := handShare(mapping.Record{"left": "over"}, rec)
		assert.Equal(t, want, reused, name+", reused")
	}
	require.True(t, func() bool { _, ok := handShare(nil, benchCheckRecord()); return ok }())
}
