package consent

import (
	"regexp"
	"strings"
	"testing"
)

// BenchmarkCheckFilter measures one Check plus one Filter of an allowed,
// realistic record through a bound Gate. Run with -cpu 1; it reports
// records/s and (with -benchmem) allocations per record.
func BenchmarkCheckFilter(b *testing.B) {
	p := loadTestPolicy(b)
	g := p.Gate(okRequest())
	rec := okRecord()
	// A record carries many fields the recipient must not see.
	for _, k := range []string{"name_last", "name_middle", "address_current", "protection_concerns", "risk_level",
		"nationality", "ethnicity", "religion", "owned_by", "workflow", "status", "registration_date"} {
		rec[k] = "synthetic-" + k
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if d := g.Check(rec); !d.Allowed {
			b.Fatal("denied")
		}
		_ = g.Filter(rec)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCheckDeny measures Check on a record that is denied.
func BenchmarkCheckDeny(b *testing.B) {
	p := loadTestPolicy(b)
	g := p.Gate(okRequest())
	rec := okRecord()
	rec["consent_for_services"] = "yes"
	b.ReportAllocs()
	for b.Loop() {
		if g.Check(rec).Allowed {
			b.Fatal("allowed")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCheckAllow measures Check alone on an allowed record (no
// allocation expected).
func BenchmarkCheckAllow(b *testing.B) {
	p := loadTestPolicy(b)
	g := p.Gate(okRequest())
	rec := okRecord()
	b.ReportAllocs()
	for b.Loop() {
		if !g.Check(rec).Allowed {
			b.Fatal("denied")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCheckEvent measures the audit event check a Trail runs on
// every Append, beside the single regular expression it replaced (which
// let emails, phone numbers and joined names through) as the baseline.
func BenchmarkCheckEvent(b *testing.B) {
	e := Event{Kind: KindDecision, Decision: DecisionDeny, Flow: "example-primero-referral", PolicyID: "isp-primero-unhcr-cp",
		PolicyHash: "sha256:" + strings.Repeat("0a", 32), Record: RecordRef{System: "primero", ID: "406b539a-7d2c-4f0e-8a51-6b7c8d9e0f12"},
		Recipient: "progres/unhcr", Reasons: []string{"consent_false", "assent_missing"}}
	b.Run("identifier", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if checkEvent(e) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("baseline-regexp", func(b *testing.B) {
		re := regexp.MustCompile(`^[A-Za-z0-9_.:/@+=-]{1,200}$`)
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range []string{e.Flow, e.PolicyID, e.PolicyHash, e.Record.System, e.Record.ID, e.Recipient, e.Reasons[0], e.Reasons[1]} {
				if !re.MatchString(s) {
					b.Fatal("refused")
				}
			}
		}
	})
}
