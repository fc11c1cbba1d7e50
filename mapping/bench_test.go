package mapping

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// benchSpec is a 30-rule spec: 16 copies (flat, dotted and nested keys),
// 5 table lookups, 3 dates, 4 constants, one expression and one list rule
// over a subform.
func benchSpec() *Spec {
	s := &Spec{Name: "bench", Tables: []Table{
		{Name: "sex", Entries: []Entry{{Key: "125080000", Value: "female"}, {Key: "125080001", Value: "male"}}},
		{Name: "svc", Entries: []Entry{{Key: "A", Value: "alternative_care"}, {Key: "B", Value: "food"}}},
		{Name: "lang", Unknown: UnknownDefault, Default: "language6", Entries: []Entry{{Key: "Nuer", Value: "language2"}, {Key: "Somali", Value: "language8"}}},
		{Name: "status", Unknown: UnknownPass, Entries: []Entry{{Key: "1", Value: "open"}}},
		{Name: "prio", Unknown: UnknownDrop, Entries: []Entry{{Key: "125080001", Value: "high"}}},
	}}
	add := func(r Rule) { s.Rules = append(s.Rules, r) }
	for i := 0; i < 12; i++ {
		add(Rule{Target: fmt.Sprintf("f%02d", i), Sources: []string{fmt.Sprintf("individuals.field%02d", i)}})
	}
	add(Rule{Target: "group", Sources: []string{"individuals.progres_registrationgroupid.Name"}, Required: true})
	add(Rule{Target: "agency", Sources: []string{"user.progres_partner.Name"}, Default: "UNHCR"})
	add(Rule{Target: "nested", Sources: []string{"meta.inner.value"}})
	add(Rule{Target: "first", Sources: []string{"missing", "individuals.field00"}})
	add(Rule{Target: "sex", Sources: []string{"individuals.progres_sex"}, Table: "sex", Required: true})
	add(Rule{Target: "svc", Sources: []string{"interventiontype.progres_description"}, Table: "svc"})
	add(Rule{Target: "lang", Sources: []string{"languages.progres_languagecodeid.Name"}, Table: "lang"})
	add(Rule{Target: "status", Sources: []string{"statuscode"}, Table: "status"})
	add(Rule{Target: "prio", Sources: []string{"childprotection.progres_priority"}, Table: "prio"})
	add(Rule{Target: "dob", Sources: []string{"individuals.progres_dateofbirth"}, Type: TypeDate})
	add(Rule{Target: "start", Sources: []string{"progres_interventionstartdate"}, Type: TypeDatetime})
	add(Rule{Target: "reg", Sources: []string{"registration"}, Type: TypeDate, Layout: "02/01/2006"})
	add(Rule{Target: "module_id", Constant: "primeromodule-cp"})
	add(Rule{Target: "case_status", Constant: "open"})
	add(Rule{Target: "external", Constant: "true", Type: TypeBool})
	add(Rule{Target: "owner", Constant: "intake_user"})
	add(Rule{Target: "age", Expr: `age($env["individuals.progres_dateofbirth"], "2026-01-01")`, Type: TypeInt})
	add(Rule{Target: "services[*].type", Sources: []string{"services_section[*].service_type"}, Table: "svc"})
	return s
}

func benchRecord(i int) Record {
	r := Record{
		"individuals.progres_registrationgroupid": map[string]any{"Name": fmt.Sprintf("803-23-%07d", i)},
		"user.progres_partner":                    map[string]any{"Name": "Synthetic Partner"},
		"meta":                                    map[string]any{"inner": map[string]any{"value": "v"}},
		"individuals.progres_sex":                 []string{"125080000", "125080001"}[i%2],
		"interventiontype.progres_description":    []string{"A", "B"}[i%2],
		"languages.progres_languagecodeid":        map[string]any{"Name": []string{"Nuer", "Somali", "Other"}[i%3]},
		"statuscode":                              "1",
		"childprotection.progres_priority":        125080001.0,
		"individuals.progres_dateofbirth":         fmt.Sprintf("20%02d-0%d-1%dT00:00:00", 10+i%9, 1+i%9, i%10),
		"progres_interventionstartdate":           "2025-03-10T08:30:00Z",
		"registration":                            "19/07/2024",
		"services_section": []any{
			map[string]any{"service_type": "A"}, map[string]any{"service_type": "B"},
		},
	}
	for f := 0; f < 12; f++ {
		r[fmt.Sprintf("individuals.field%02d", f)] = fmt.Sprintf("Synthetic %d-%d", i, f)
	}
	return r
}

// BenchmarkApply30Rules applies a 30-rule spec to 100,000 records per
// iteration (256 distinct synthetic records, cycled) and, in the same
// iteration, the hand-written baseline handApply to the same records, the
// two taking turns. It reports the mapping's records/s, records per
// CPU-second and allocs/record, the baseline's records per CPU-second and
// the ratio of their times (see reportAgainstHand). Run with -cpu 1: with
// one P the CPU time of the process is the benchmark's (its garbage
// collection included), whatever else the machine runs.
func BenchmarkApply30Rules(b *testing.B) {
	spec := benchSpec()
	if len(spec.Rules) != 30 {
		b.Fatalf("spec has %d rules, want 30", len(spec.Rules))
	}
	m := mustCompile(b, spec)
	ctx := context.Background()
	b.Run("Apply", func(b *testing.B) {
		benchAgainstHand(b,
			func(src Record) error { _, err := m.Apply(ctx, src); return err },
			func(src Record) error { _, err := handApply(nil, src); return err })
	})
	b.Run("ApplyInto", func(b *testing.B) {
		var dst, hand Record
		benchAgainstHand(b,
			func(src Record) (err error) { dst, err = m.ApplyInto(ctx, dst, src); return err },
			func(src Record) (err error) { hand, err = handApply(hand, src); return err })
	})
}

// benchAgainstHand runs mapped and hand over the same 100,000 records in
// each iteration, in turns of 1000 records (so that a pause of the shared
// machine falls on both alike), and reports the rates, the ratio and
// mapped's allocations per record.
func benchAgainstHand(b *testing.B, mapped, hand func(Record) error) {
	const records, turn = 100_000, 1000
	srcs := make([]Record, 256)
	for i := range srcs {
		srcs[i] = benchRecord(i)
	}
	var wall, cpu [2]float64 // mapped, hand
	run := func(side int, f func(Record) error, from int) {
		start, c := time.Now(), cpuTime()
		for i := from; i < from+turn; i++ {
			if err := f(srcs[i&255]); err != nil {
				b.Fatal(err)
			}
		}
		wall[side] += time.Since(start).Seconds()
		cpu[side] += cpuTime() - c
	}
	for i := 0; i < records; i += turn { // warm up: pools, caches
		run(0, mapped, i)
		run(1, hand, i)
	}
	wall, cpu = [2]float64{}, [2]float64{}
	var mallocs uint64
	var before, after runtime.MemStats
	n := 0
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < records; i += turn {
			handFirst := (i/turn)%2 == 1
			if handFirst {
				run(1, hand, i)
			}
			runtime.ReadMemStats(&before)
			run(0, mapped, i)
			runtime.ReadMemStats(&after)
			mallocs += after.Mallocs - before.Mallocs
			if !handFirst {
				run(1, hand, i)
			}
		}
		n++
	}
	b.StopTimer()
	reportAgainstHand(b, float64(n)*records, wall, cpu)
	b.ReportMetric(float64(mallocs)/(float64(n)*records), "allocs/record")
}

// reportAgainstHand reports records/s (wall clock) and, when the CPU time
// can be read, records per CPU-second of the measured side and of the
// hand-written baseline, and the ratio of their times (x-hand: 1.5 means
// the measured side takes 1.5 times as long), from CPU time when it can be
// read, else from wall time.
func reportAgainstHand(b *testing.B, total float64, wall, cpu [2]float64) {
	b.ReportMetric(total/wall[0], "records/s")
	if cpu[0] > 0 && cpu[1] > 0 {
		b.ReportMetric(total/cpu[0], "records/cpu-s")
		b.ReportMetric(total/cpu[1], "hand-records/cpu-s")
		b.ReportMetric(cpu[0]/cpu[1], "x-hand")
		return
	}
	b.ReportMetric(total/wall[1], "hand-records/s")
	b.ReportMetric(wall[0]/wall[1], "x-hand")
}
