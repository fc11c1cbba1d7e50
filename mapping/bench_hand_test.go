package mapping

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// handApply is the hand-written baseline of BenchmarkApply30Rules: the 30
// fields of benchSpec filled by plain Go code written for records shaped
// like benchRecord, as a developer would write it without the mapping
// package (map look-ups, a switch per table, time.Parse for the dates).
// With dst nil it makes a new record; otherwise it clears dst and fills it
// (the baseline of ApplyInto). TestHandBaselineMatchesApply checks that it
// gives the same records as the mapping.
func handApply(dst, src Record) (Record, error) {
	if dst == nil {
		dst = make(Record, 29)
	} else {
		clear(dst)
	}
	for i, k := range handFieldKeys {
		if v, ok := src[k]; ok && v != nil && v != "" {
			dst[handFieldTargets[i]] = v
		}
	}
	group, ok := nameOf(src["individuals.progres_registrationgroupid"])
	if !ok {
		return nil, errors.New("group: required")
	}
	dst["group"] = group
	if agency, ok := nameOf(src["user.progres_partner"]); ok {
		dst["agency"] = agency
	} else {
		dst["agency"] = "UNHCR"
	}
	if meta, ok := src["meta"].(map[string]any); ok {
		if inner, ok := meta["inner"].(map[string]any); ok {
			if v, ok := inner["value"]; ok && v != nil && v != "" {
				dst["nested"] = v
			}
		}
	}
	if v, ok := src["missing"]; ok && v != nil && v != "" {
		dst["first"] = v
	} else if v, ok := src["individuals.field00"]; ok && v != nil && v != "" {
		dst["first"] = v
	}
	switch src["individuals.progres_sex"] {
	case "125080000":
		dst["sex"] = "female"
	case "125080001":
		dst["sex"] = "male"
	default:
		return nil, errors.New("sex: unknown value")
	}
	svc, ok := handService(src["interventiontype.progres_description"])
	if !ok {
		return nil, errors.New("svc: unknown value")
	}
	dst["svc"] = svc
	if lang, ok := nameOf(src["languages.progres_languagecodeid"]); ok {
		switch lang {
		case "Nuer":
			dst["lang"] = "language2"
		case "Somali":
			dst["lang"] = "language8"
		default:
			dst["lang"] = "language6"
		}
	}
	if st, ok := src["statuscode"]; ok {
		if st == "1" {
			dst["status"] = "open"
		} else {
			dst["status"] = st
		}
	}
	if src["childprotection.progres_priority"] == 125080001.0 {
		dst["prio"] = "high"
	}
	dob, err := handDate(src, "individuals.progres_dateofbirth", "2006-01-02T15:04:05")
	if err != nil {
		return nil, err
	}
	if !dob.IsZero() {
		dst["dob"] = dob.Format(time.DateOnly)
		years := 2026 - dob.Year()
		if dob.Month() > 1 || dob.Day() > 1 {
			years-- // 1 January 2026 comes before the birthday
		}
		if years >= 0 {
			dst["age"] = years
		}
	}
	start, err := handDate(src, "progres_interventionstartdate", time.RFC3339)
	if err != nil {
		return nil, err
	}
	if !start.IsZero() {
		dst["start"] = start.Format(time.RFC3339)
	}
	reg, err := handDate(src, "registration", "02/01/2006")
	if err != nil {
		return nil, err
	}
	if !reg.IsZero() {
		dst["reg"] = reg.Format(time.DateOnly)
	}
	dst["module_id"] = "primeromodule-cp"
	dst["case_status"] = "open"
	dst["external"] = true
	dst["owner"] = "intake_user"
	if rows, ok := src["services_section"].([]any); ok {
		services := make([]any, len(rows))
		for i, row := range rows {
			m, _ := row.(map[string]any)
			typ, ok := handService(m["service_type"])
			if !ok {
				return nil, fmt.Errorf("services[%d].type: unknown value", i)
			}
			services[i] = map[string]any{"type": typ}
		}
		dst["services"] = services
	}
	return dst, nil
}

var handFieldKeys, handFieldTargets = func() ([]string, []string) {
	var keys, targets []string
	for i := 0; i < 12; i++ {
		keys = append(keys, fmt.Sprintf("individuals.field%02d", i))
		targets = append(targets, fmt.Sprintf("f%02d", i))
	}
	return keys, targets
}()

// nameOf reads the Name of a lookup object.
func nameOf(v any) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	name, ok := m["Name"]
	return name, ok && name != nil && name != ""
}

func handService(v any) (string, bool) {
	switch v {
	case "A":
		return "alternative_care", true
	case "B":
		return "food", true
	}
	return "", false
}

// handDate parses the string at key with layout; zero when it is missing.
func handDate(src Record, key, layout string) (time.Time, error) {
	s, _ := src[key].(string)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, errors.New(key + ": invalid date")
	}
	return t, nil
}

// TestHandBaselineMatchesApply checks that the baseline of the benchmark
// does the mapping's work: the same record for every benchmark record,
// fresh and reused.
func TestHandBaselineMatchesApply(t *testing.T) {
	m := mustCompile(t, benchSpec())
	var reused Record
	for i := 0; i < 256; i++ {
		src := benchRecord(i)
		want, err := m.Apply(context.Background(), src)
		require.NoError(t, err)
		got, err := handApply(nil, src)
		require.NoError(t, err)
		require.Equal(t, want, got, "record %d", i)
		reused, err = handApply(reused, src)
		require.NoError(t, err)
		require.Equal(t, want, reused, "record %d, reused", i)
	}
}
