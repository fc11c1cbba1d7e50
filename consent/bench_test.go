package consent

import (
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
