package consenttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func record() mapping.Record {
	return mapping.Record{
		"case_id":           "803-00000001",
		"name_first":        "Testname",
		"name_last":         "Synthetic",
		"name":              "Testname Synthetic",
		"email":             "testname.synthetic@example.org",
		"sex":               "f",
		"age":               float64(12),
		"date_of_birth":     "2014-03-07",
		"telephone_current": "+000 555 0000 123",
		"household_size":    float64(1234),
		"location":          map[string]any{"village": "Samplevillage", "code": "LC"},
		"family_details_section": []any{
			map[string]any{"relation_name": "Relativename", "relation": "mother"},
		},
		"consent_for_services":  true,
		"disclosure_other_orgs": true,
	}
}

func TestScanFindsEachForm(t *testing.T) {
	rec := record()
	cases := []struct {
		name, field, text, form string
	}{
		{"string", "name_first", `msg="processing Testname"`, "string"},
		{"string case-insensitive", "name_last", "SYNTHETIC was here", "string"},
		{"number", "household_size", "size=1234", "number"},
		{"nested", "location.village", "in samplevillage", "string"},
		{"list of objects", "family_details_section[*].relation_name", "relative: Relativename", "string"},
		{"iso date (the value as written)", "date_of_birth", "dob 2014-03-07", "string"},
		{"day first date", "date_of_birth", "dob 07/03/2014", "02/01/2006"},
		{"month first date", "date_of_birth", "dob 03/07/2014", "01/02/2006"},
		{"long date", "date_of_birth", "born 7 March 2014", "2 January 2006"},
		{"compact date", "date_of_birth", "x20140307x", "20060102"},
		{"phone digits", "telephone_current", "tel=0005550000123", "digits"},
		{"phone as is", "telephone_current", "tel=+000 555 0000 123", "string"},
		// The shapes that pass for identifiers without spaces.
		{"name joined by underscore", "name", "user=Testname_Synthetic", "joined"},
		{"name joined by dot", "name", "testname.synthetic", "joined"},
		{"name joined by dash", "name", "id:testname-synthetic", "joined"},
		{"name run together", "name", "TestnameSynthetic", "joined"},
		{"name with two spaces", "name", "Testname  Synthetic", "joined"},
		{"phone with dashes", "telephone_current", "tel=000-555-0000-123", "digits"},
		{"phone in brackets", "telephone_current", "tel=(000) 555.0000.123", "digits"},
		{"phone with plus and no spaces", "telephone_current", "+0005550000123", "digits"},
		{"email", "email", "from testname.synthetic@example.org", "string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaks := Scan(rec, []string{tc.field}, "nothing here", tc.text)
			require.NotEmpty(t, leaks)
			assert.Equal(t, tc.field, leaks[0].Field)
			assert.Equal(t, 1, leaks[0].Text)
			assert.Equal(t, tc.form, leaks[0].Form)
		})
	}
}

func TestScanReportsOffsetsAndEveryOccurrence(t *testing.T) {
	leaks := Scan(record(), []string{"name_first"}, "Testname and testname")
	require.Len(t, leaks, 2)
	assert.Equal(t, 0, leaks[0].Offset)
	assert.Equal(t, 13, leaks[1].Offset)
}

func TestScanIgnoresShortValuesAndAbsentFields(t *testing.T) {
	rec := record()
	// "f", 12 and "LC" are shorter than MinLen.
	assert.Empty(t, Scan(rec, []string{"sex", "age", "location.code", "no_such_field", "consent_for_services"},
		"f 12 LC true female of age 12 in LC"))
}

func TestScanCleanText(t *testing.T) {
	assert.Empty(t, Scan(record(), LeafPaths(record(), "case_id"), "case 803-00000001 denied: consent_missing"))
	assert.Empty(t, Scan(record(), []string{"name", "telephone_current", "email"}, "case 803-00000001 test synthetic-0001 testname"))
}

func TestScanBadPath(t *testing.T) {
	leaks := Scan(record(), []string{"a..b"}, "text")
	require.Len(t, leaks, 1)
	assert.Equal(t, "bad_path", leaks[0].Form)
}

func TestLeakStringHasNoValue(t *testing.T) {
	leaks := Scan(record(), []string{"name_first"}, "Testname")
	require.Len(t, leaks, 1)
	assert.NotContains(t, strings.ToLower(leaks[0].String()), "testname")
	assert.Contains(t, leaks[0].String(), "name_first")
}

func TestLeafPaths(t *testing.T) {
	paths := LeafPaths(record(), "case_id")
	assert.Contains(t, paths, "location.village")
	assert.Contains(t, paths, "family_details_section[*].relation_name")
	assert.NotContains(t, paths, "case_id")
	assert.NotContains(t, paths, "location")
}

// recorder captures Errorf calls of AssertNoPersonalData.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestAssertNoPersonalData(t *testing.T) {
	r := &recorder{TB: t}
	ok := AssertNoPersonalData(r, record(), []string{"name_first", "name_last"}, "clean", "Synthetic leaked")
	assert.False(t, ok)
	require.Len(t, r.errs, 1)
	assert.Contains(t, r.errs[0], "name_last")
	assert.NotContains(t, r.errs[0], "Synthetic")

	r = &recorder{TB: t}
	assert.True(t, AssertNoPersonalData(r, record(), []string{"name_first"}, "clean"))
	assert.Empty(t, r.errs)
}

// TestConsentOutputsCarryNoPersonalData runs the gate, the audit trail
// (JSONL and slog sinks) and the policy/tamper errors on a synthetic record
// and proves that none of their text holds a value of the record.
func TestConsentOutputsCarryNoPersonalData(t *testing.T) {
	p, err := consent.Load("../testdata/primero-unhcr.yaml")
	require.NoError(t, err)
	rec := record()
	rec["services_section"] = []any{map[string]any{"service_type": "alternative_care", "unique_id": "svc-0001"}}

	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := consent.OpenFileSink(path)
	require.NoError(t, err)
	mem := &Sink{}
	// A fixed clock, and log records without their wall-clock time: event
	// times and hashes are the same on every run, so a short synthetic
	// number cannot turn up in a timestamp or a hash on one run only.
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	trail := consent.NewTrail(consent.MultiSink{file, mem, consent.NewSlogSink(slog.New(slog.NewJSONHandler(&logs, noTime)))},
		consent.WithClock(func() time.Time { return at }))

	unhcr := consent.Party{System: "progres", Agency: "unhcr"}
	ref := consent.RecordRef{System: "primero", ID: "case-00000001"}
	g := p.Gate(consent.Request{Recipient: unhcr, Purpose: "child_protection_referral", AsOf: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	var texts []string
	for _, mutate := range []func(mapping.Record){
		func(mapping.Record) {},
		func(r mapping.Record) { r["child_assent"] = true },
		func(r mapping.Record) { r["consent_for_services"] = "Testname" },
		func(r mapping.Record) { r["disclosure_other_orgs"] = false; r["child_assent"] = true },
	} {
		r := mapping.Record{}
		for k, v := range rec {
			r[k] = v
		}
		mutate(r)
		d := g.Check(r)
		texts = append(texts, fmt.Sprintf("%+v", d))
		_, err := trail.Append(context.Background(), consent.DecisionEvent("flow", ref, unhcr, d, ""))
		require.NoError(t, err)
		for _, rv := range p.Revocations(ref, r, []consent.Shared{{Record: ref, Recipient: unhcr, Time: at}}, at) {
			_, err := trail.Append(context.Background(), consent.RevocationEvent("flow", rv, ""))
			require.NoError(t, err)
		}
	}
	require.NoError(t, file.Close())
	audit, err := os.ReadFile(path)
	require.NoError(t, err)
	texts = append(texts, string(audit), logs.String())
	_, verr := consent.Verify(strings.NewReader("{}\n"))
	texts = append(texts, verr.Error())
	_, cerr := consent.Compile([]byte("id: Testname Synthetic\n"))
	require.Error(t, cerr)
	texts = append(texts, cerr.Error())

	require.Len(t, mem.Events(), 7)
	_, err = mem.Verify()
	require.NoError(t, err)
	AssertNoPersonalData(t, rec, LeafPaths(rec, "case_id", "services_section[*].unique_id", "services_section[*].service_type"), texts...)
	// the "Testname" string put in a consent field does not leak either
	AssertNoPersonalData(t, mapping.Record{"x": "Testname"}, []string{"x"}, texts...)
}

func TestSink(t *testing.T) {
	s := &Sink{}
	tr := consent.NewTrail(s)
	e, err := tr.Append(context.Background(), consent.Event{Kind: consent.KindDelivery})
	require.NoError(t, err)
	require.NoError(t, s.Append(context.Background(), e)) // duplicate ignored
	assert.Len(t, s.Events(), 1)
	s.Err = errors.New("down")
	_, err = tr.Append(context.Background(), consent.Event{Kind: consent.KindDelivery})
	assert.Error(t, err)
	assert.Len(t, s.Events(), 1)
}

// noTime drops slog's own record time.
var noTime = &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}}
