package consent

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/casebridge/casebridge/mapping"
)

// benchCheckRecord is okRecord carrying many fields the recipient must
// not see.
func benchCheckRecord() mapping.Record {
	rec := okRecord()
	addUnlisted(rec)
	return rec
}

func addUnlisted(rec mapping.Record) {
	for _, k := range []string{"name_last", "name_middle", "address_current", "protection_concerns", "risk_level",
		"nationality", "ethnicity", "religion", "owned_by", "workflow", "status", "registration_date"} {
		rec[k] = "synthetic-" + k
	}
}

// BenchmarkCheckFilter measures one Check plus one Filter (FilterInto) of
// an allowed, realistic record through a bound Gate, and in the same
// iteration the hand-written baseline handShare, in turns of 500 records
// (so that a pause of the shared machine falls on both alike). An
// iteration is 2000 records of each (so -benchmem's B/op and
// allocs/op are per 2000 records of both); the metrics are per record: the
// gate's records/s, records per CPU-second, B/record and allocs/record,
// the baseline's records per CPU-second and the ratio of their CPU times
// (x-hand; wall times where the CPU time cannot be read). Run with -cpu 1:
// with one P the CPU time of the process is the benchmark's (its garbage
// collection included), whatever else the machine runs.
func BenchmarkCheckFilter(b *testing.B) {
	g := loadTestPolicy(b).Gate(okRequest())
	rec := benchCheckRecord()
	b.Run("Filter", func(b *testing.B) {
		benchGateAgainstHand(b, rec, true,
			func(rec mapping.Record) bool {
				if d := g.Check(rec); !d.Allowed {
					return false
				}
				benchSink = g.Filter(rec) // kept, as Share's result is: the record escapes
				return true
			},
			func(rec mapping.Record) bool { _, ok := handShare(nil, rec); return ok })
	})
	b.Run("FilterInto", func(b *testing.B) {
		var dst, hand mapping.Record
		benchGateAgainstHand(b, rec, true,
			func(rec mapping.Record) bool {
				if d := g.Check(rec); !d.Allowed {
					return false
				}
				dst = g.FilterInto(dst, rec)
				return true
			},
			func(rec mapping.Record) (ok bool) { hand, ok = handShare(hand, rec); return ok })
	})
}

// benchSink keeps a benchmark's result alive, so that the compiler cannot
// place a record it would discard on the stack.
var benchSink mapping.Record

// benchGateAgainstHand runs gate and hand, which answer whether rec is
// allowed (it must be allowed), over rec in turns and reports the rates,
// the ratio and gate's allocations per record.
func benchGateAgainstHand(b *testing.B, rec mapping.Record, allowed bool, gate, hand func(mapping.Record) bool) {
	const records, turn = 2000, 500
	var wall, cpu [2]float64 // gate, hand
	run := func(side int, f func(mapping.Record) bool) {
		start, c := time.Now(), cpuTime()
		for i := 0; i < turn; i++ {
			if f(rec) != allowed {
				b.Fatal("wrong decision")
			}
		}
		wall[side] += time.Since(start).Seconds()
		cpu[side] += cpuTime() - c
	}
	run(0, gate)
	run(1, hand)
	wall, cpu = [2]float64{}, [2]float64{}
	var before, after runtime.MemStats
	var mallocs, bytes uint64
	n := 0
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < records/turn; i++ {
			if i%2 == 1 {
				run(1, hand)
			}
			runtime.ReadMemStats(&before)
			run(0, gate)
			runtime.ReadMemStats(&after)
			mallocs += after.Mallocs - before.Mallocs
			bytes += after.TotalAlloc - before.TotalAlloc
			if i%2 == 0 {
				run(1, hand)
			}
		}
		n++
	}
	b.StopTimer()
	total := float64(n) * records
	b.ReportMetric(total/wall[0], "records/s")
	if cpu[0] > 0 && cpu[1] > 0 {
		b.ReportMetric(total/cpu[0], "records/cpu-s")
		b.ReportMetric(total/cpu[1], "hand-records/cpu-s")
		b.ReportMetric(cpu[0]/cpu[1], "x-hand")
	} else {
		b.ReportMetric(total/wall[1], "hand-records/s")
		b.ReportMetric(wall[0]/wall[1], "x-hand")
	}
	b.ReportMetric(float64(bytes)/total, "B/record")
	b.ReportMetric(float64(mallocs)/total, "allocs/record")
}

// BenchmarkCheckDeny measures Check on a record that is denied, beside
// the hand-written decision handAllowed (see BenchmarkCheckFilter for the
// metrics).
func BenchmarkCheckDeny(b *testing.B) {
	g := loadTestPolicy(b).Gate(okRequest())
	rec := okRecord()
	rec["consent_for_services"] = "yes"
	benchGateAgainstHand(b, rec, false, func(rec mapping.Record) bool { return g.Check(rec).Allowed }, handAllowed)
}

// BenchmarkCheckAllow measures Check alone on an allowed record (no
// allocation expected), beside handAllowed.
func BenchmarkCheckAllow(b *testing.B) {
	g := loadTestPolicy(b).Gate(okRequest())
	benchGateAgainstHand(b, okRecord(), true, func(rec mapping.Record) bool { return g.Check(rec).Allowed }, handAllowed)
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
