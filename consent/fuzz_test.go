package consent

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/casebridge/casebridge/mapping"
)

func FuzzCompile(f *testing.F) {
	src, err := readTestPolicy()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src)
	f.Add("")
	f.Add("id: x\n")
	f.Add("fields: [a, a.b]\n")
	f.Add("conditions: {consent: [\"a[*]\"]}\n")
	f.Add(strings.Replace(src, "under: 18", "under: -1", 1))
	f.Add("&a [*a]")
	f.Add("- - - -\n")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile([]byte(src))
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *PolicyError: %v", err)
			}
			return
		}
		if len(p.ConsentFields()) == 0 || len(p.Fields()) == 0 || !strings.HasPrefix(p.Hash(), "sha256:") {
			t.Fatalf("compiled policy lacks consent fields, fields or hash")
		}
		q, err := Compile([]byte(src))
		if err != nil || q.Hash() != p.Hash() {
			t.Fatal("hash not stable")
		}
	})
}

// FuzzCheck feeds arbitrary JSON records to the gate: it must never panic,
// must never allow a record whose consent fields are not all JSON true, and
// Filter must never return a top-level key outside the need-to-know list.
func FuzzCheck(f *testing.F) {
	seed, _ := json.Marshal(okRecord())
	f.Add(string(seed))
	f.Add(`{}`)
	f.Add(`null`)
	f.Add(`{"consent_for_services":"yes","disclosure_other_orgs":true}`)
	f.Add(`{"consent_for_services":true,"disclosure_other_orgs":1,"services_section":[{"service_type":"alternative_care"}]}`)
	f.Add(`{"consent_for_services":true,"disclosure_other_orgs":true,"child_assent":true,"services_section":[{"service_type":"psychosocial"}]}`)
	f.Add(`{"consent_for_services":true,"disclosure_other_orgs":true,"date_of_birth":"2012-02-30","age":-1,"services_section":[{"service_type":"alternative_care"},7]}`)
	f.Add(`{"services_section":{"service_type":"alternative_care"},"location":[1,2],"languages":{"a":1}}`)
	p, err := Compile([]byte(mustReadTestPolicy(f)))
	if err != nil {
		f.Fatal(err)
	}
	g := p.Gate(okRequest())
	top := map[string]bool{}
	for _, path := range p.Fields() {
		top[strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == '[' })[0]] = true
	}
	f.Fuzz(func(t *testing.T, data string) {
		var rec mapping.Record
		if json.Unmarshal([]byte(data), &rec) != nil {
			return
		}
		d := g.Check(rec)
		if d.Allowed {
			for _, field := range p.ConsentFields() {
				if v, ok := rec[field].(bool); !ok || !v {
					t.Fatalf("allowed a record whose %s is not true", field)
				}
			}
			if d.Reasons != nil {
				t.Fatalf("plain allow with reasons %v", d.Reasons)
			}
		} else if len(d.Reasons) == 0 {
			t.Fatal("denied without a reason code")
		}
		out := p.Filter(rec)
		for k := range out {
			if !top[k] {
				t.Fatalf("filter passed unlisted key %q", k)
			}
		}
		// Filtering into the result of another record gives the same.
		if into := p.FilterInto(p.Filter(okRecord()), rec); !reflect.DeepEqual(out, into) {
			t.Fatalf("FilterInto gave %v, Filter %v", into, out)
		}
	})
}

func readTestPolicy() (string, error) {
	b, err := readFile("testdata/primero-unhcr.yaml")
	return string(b), err
}

func mustReadTestPolicy(f *testing.F) string {
	s, err := readTestPolicy()
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// FuzzRevokedField puts an arbitrary JSON value in the policy's
// revoked_field of an otherwise consented record. The gate may allow the
// record only when the value is null or false; any other value must deny
// with consent_revoked and produce a revocation for every recipient.
func FuzzRevokedField(f *testing.F) {
	for _, seed := range []string{`null`, `false`, `true`, `"true"`, `"false"`, `"yes"`, `""`, `0`, `1`,
		`"2026-01-15"`, `[]`, `[false]`, `{}`, `"FALSE"`, `" false "`} {
		f.Add(seed)
	}
	p, err := Compile([]byte(mustReadTestPolicy(f)))
	if err != nil {
		f.Fatal(err)
	}
	g := p.Gate(okRequest())
	f.Fuzz(func(t *testing.T, data string) {
		var v any
		if json.Unmarshal([]byte(data), &v) != nil {
			return
		}
		rec := okRecord()
		rec["consent_withdrawn"] = v
		d := g.Check(rec)
		revs := p.Revocations(ref, rec, sharedList(), asOf)
		if v == nil || v == false {
			if !d.Allowed || revs != nil {
				t.Fatalf("null or false revoked_field denied or revoked: %v", d.Reasons)
			}
			return
		}
		if d.Allowed || !d.Has(ReasonConsentRevoked) {
			t.Fatalf("revoked_field %s did not deny as revoked: %v", data, d.Reasons)
		}
		if len(revs) != 2 {
			t.Fatalf("revoked_field %s gave %d revocations, want 2", data, len(revs))
		}
	})
}

// FuzzIsIdentifier checks what IsIdentifier promises for any input: an
// accepted string is 1-200 bytes of ASCII letters, digits and the six
// separators, with no empty token, and never a capitalised word.
func FuzzIsIdentifier(f *testing.F) {
	for _, s := range []string{"consent_missing", "ETH-12345678", "Testname_Synthetic", "a@b.org", "+000555",
		"0005550001", "406b539a-7d2c-4f0e-8a51-6b7c8d9e0f12#0a1b2c3d4e5f", "", "a--b", "Ab", "AB", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsIdentifier(s) {
			return
		}
		if len(s) == 0 || len(s) > 200 {
			t.Fatalf("accepted length %d", len(s))
		}
		tokens := strings.Split(strings.NewReplacer("-", "_", ".", "_", ":", "_", "/", "_", "#", "_").Replace(s), "_")
		for _, tok := range tokens {
			if tok == "" {
				t.Fatalf("accepted an empty token in %q", s)
			}
			for _, r := range tok {
				if r > 127 || !isAlnum(byte(r)) {
					t.Fatalf("accepted %q", r)
				}
			}
			if regexp.MustCompile(`^[a-z]*([A-Z][a-z]+)+$`).MatchString(tok) {
				t.Fatalf("accepted the word %q", tok)
			}
		}
	})
}
