package consent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/casebridge/casebridge/consent"
	"github.com/casebridge/casebridge/mapping"
)

const examplePolicy = `
id: isp-example
version: "1"
parties:
  sending: {system: primero, agency: unicef}
  receiving:
    - {system: progres, agency: unhcr}
purpose: child_protection_referral
conditions:
  consent: [consent_for_services, disclosure_other_orgs]
  age: {date_of_birth: date_of_birth}
  assent:
    - under: 12
      require: [caregiver_consent]
services:
  field: "services_section[*].service_type"
  allowed: [alternative_care]
fields:
  - case_id
  - name_first
  - "services_section[*].service_type"
override:
  permitted: false
revocation:
  action: revoke_and_notify
`

func exampleRecord() mapping.Record {
	return mapping.Record{
		"case_id":               "803-00000001",
		"name_first":            "Test",
		"name_last":             "Synthetic",
		"date_of_birth":         "2010-05-01",
		"consent_for_services":  true,
		"disclosure_other_orgs": true,
		"services_section": []any{
			map[string]any{"service_type": "alternative_care", "service_referral_notes": "synthetic"},
		},
	}
}

func ExampleCompile() {
	p, err := consent.Compile([]byte(examplePolicy))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.ID(), p.Version(), p.Purpose())
	fmt.Println(p.ConsentFields())

	_, err = consent.Compile([]byte(strings.Replace(examplePolicy, "action: revoke_and_notify", "action: forget", 1)))
	fmt.Println(err)
	// Output:
	// isp-example 1 child_protection_referral
	// [consent_for_services disclosure_other_orgs]
	// consent: policy line 25: revocation.action: must be revoke_and_notify, revoke or notify
}

// exampleGate binds the example policy to a referral to UNHCR.
func exampleGate() *consent.Gate {
	p, _ := consent.Compile([]byte(examplePolicy))
	return p.Gate(consent.Request{
		Recipient: consent.Party{System: "progres", Agency: "unhcr"},
		Purpose:   "child_protection_referral",
		AsOf:      time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	})
}

func ExampleGate_Check() {
	g := exampleGate()

	rec := exampleRecord()
	fmt.Println(g.Check(rec).Allowed)

	rec["disclosure_other_orgs"] = "yes" // a string is not a boolean unless the policy says so
	d := g.Check(rec)
	fmt.Println(d.Allowed, d.Reasons, d.Fields)

	delete(rec, "disclosure_other_orgs")
	fmt.Println(g.Check(rec).Reasons)
	// Output:
	// true
	// false [consent_invalid] [disclosure_other_orgs]
	// [consent_missing]
}

func ExamplePolicy_Filter() {
	p, _ := consent.Compile([]byte(examplePolicy))
	out := p.Filter(exampleRecord())
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	// Output:
	// {"case_id":"803-00000001","name_first":"Test","services_section":[{"service_type":"alternative_care"}]}
}

// ShareInto checks and minimizes many records through one reused output
// record; each result is used (here printed) before the next call.
func ExampleGate_ShareInto() {
	g := exampleGate()
	denied := exampleRecord()
	denied["case_id"] = "803-00000002"
	denied["consent_for_services"] = false
	var out mapping.Record // nil: the first allowed record makes it
	for _, rec := range []mapping.Record{exampleRecord(), denied} {
		shared, d := g.ShareInto(out, rec)
		if !d.Allowed {
			fmt.Println(rec["case_id"], "denied:", d.Reasons)
			continue
		}
		out = shared
		b, _ := json.Marshal(shared)
		fmt.Println(string(b))
	}
	// Output:
	// {"case_id":"803-00000001","name_first":"Test","services_section":[{"service_type":"alternative_care"}]}
	// 803-00000002 denied: [consent_false]
}

func ExamplePolicy_Revocations() {
	p, _ := consent.Compile([]byte(examplePolicy))
	ref := consent.RecordRef{System: "primero", ID: "case-00000001"}
	unhcr := consent.Party{System: "progres", Agency: "unhcr"}
	shared := []consent.Shared{{Record: ref, Recipient: unhcr, Time: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}}

	rec := exampleRecord()
	rec["consent_for_services"] = false // consent withdrawn
	for _, r := range p.Revocations(ref, rec, shared, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) {
		fmt.Println(r.Recipient, r.Action, r.Reasons)
	}
	// Output:
	// progres/unhcr revoke_and_notify [consent_false]
}

func ExampleVerify() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.jsonl")

	p, _ := consent.Compile([]byte(examplePolicy))
	unhcr := consent.Party{System: "progres", Agency: "unhcr"}
	g := p.Gate(consent.Request{Recipient: unhcr, Purpose: "child_protection_referral"})
	ref := consent.RecordRef{System: "primero", ID: "case-00000001"}

	trail, sink, err := consent.OpenTrail(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	d := g.Check(exampleRecord())
	for _, e := range []consent.Event{
		consent.DecisionEvent("example", ref, unhcr, d, ""),
		consent.DeliveryEvent("example", ref, unhcr, p, "", consent.OutcomeDelivered),
	} {
		if _, err := trail.Append(ctx, e); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := sink.Close(); err != nil {
		fmt.Println(err)
		return
	}

	data, _ := os.ReadFile(path)
	s, err := consent.Verify(bytes.NewReader(data))
	fmt.Println(s.Events, err)

	// Remove the first event: Verify names the line.
	lines := strings.SplitAfter(string(data), "\n")
	_, err = consent.Verify(strings.NewReader(strings.Join(lines[1:], "")))
	fmt.Println(err)
	// Output:
	// 2 <nil>
	// consent: audit trail broken at line 1 (expected seq 1, found 2): seq_mismatch
}

func ExampleIsIdentifier() {
	for _, s := range []string{
		"406b539a-7d2c-4f0e-8a51-6b7c8d9e0f12", // a Primero UUID
		"ETH-12345678",                         // a proGres individual number
		"override_reason:imminent_risk",        // a reason code
		"Testname_Synthetic",                   // a name
		"test.child@example.org",               // an email
		"000-555-0001",                         // a phone number
	} {
		fmt.Println(consent.IsIdentifier(s))
	}
	// Output:
	// true
	// true
	// true
	// false
	// false
	// false
}

func ExampleReason_Describe() {
	fmt.Println(consent.ReasonConsentFalse.Describe())
	fmt.Println(consent.ReasonServiceNotAllowed.Describe())
	// Output:
	// consent refused
	// service not covered by the agreement
}

// A sink that fails keeps its event in the trail: Flush (or the next
// Append) sends it again, under the same sequence number.
func ExampleTrail_Flush() {
	sink := &flakySink{down: true}
	trail := consent.NewTrail(sink)
	ctx := context.Background()
	_, err := trail.Append(ctx, consent.Event{Kind: consent.KindDelivery, Flow: "example",
		Record: consent.RecordRef{System: "primero", ID: "case-0001"}, Outcome: consent.OutcomeDelivered})
	fmt.Println(err != nil)
	sink.down = false
	fmt.Println(trail.Flush(ctx), len(sink.events), sink.events[0].Seq)
	// Output:
	// true
	// <nil> 1 1
}

type flakySink struct {
	down   bool
	events []consent.Event
}

func (s *flakySink) Append(_ context.Context, e consent.Event) error {
	if s.down {
		return fmt.Errorf("sink down")
	}
	s.events = append(s.events, e)
	return nil
}
