package primero_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/casebridge/casebridge/internal/race"
	"github.com/casebridge/casebridge/primero"
	"github.com/casebridge/casebridge/primero/primerotest"
)

// BenchmarkCasesAll iterates All over 100,000 synthetic cases served by the
// fake on loopback, 1000 per page. The fake runs in the same process, so
// allocs/case includes the fake's own per-request allocations (its encoded
// JSON is cached after the warm-up pass).
func BenchmarkCasesAll(b *testing.B) {
	const n = 100_000
	s := primerotest.NewServer(b)
	s.AddSyntheticCases(n)
	c := newClient(b, s)
	ctx := context.Background()
	iterate := func() int {
		count := 0
		for _, err := range c.Cases.All(ctx, nil) {
			if err != nil {
				b.Fatal(err)
			}
			count++
		}
		return count
	}
	if got := iterate(); got != n { // warm-up: fills the fake's JSON cache
		b.Fatalf("got %d cases, want %d", got, n)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	total := 0
	for b.Loop() {
		total += iterate()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "cases/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(total), "allocs/case")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(total), "B/case")
}

// peakIterationHeap returns the largest live heap, above a baseline taken
// after seeding and a warm-up pass, seen while iterating All over n cases.
func peakIterationHeap(t *testing.T, n int) uint64 {
	s := primerotest.NewServer(t)
	s.AddSyntheticCases(n)
	c := newClient(t, s)
	ctx := context.Background()
	for _, err := range c.Cases.All(ctx, nil) { // warm the fake's JSON cache
		if err != nil {
			t.Fatal(err)
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	count := 0
	every := max(n/20, 1000) // sample every few thousand cases
	for _, err := range c.Cases.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count%every == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
				peak = ms.HeapAlloc - base
			}
		}
	}
	if count != n {
		t.Fatalf("iterated %d cases, want %d", count, n)
	}
	return peak
}

func TestAllHeapDoesNotGrowWithCaseCount(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 110,000 cases")
	}
	if race.Enabled {
		t.Skip("heap figures are distorted under -race; .ci/run runs this test without it")
	}
	small := peakIterationHeap(t, 10_000)
	large := peakIterationHeap(t, 100_000)
	t.Logf("peak heap retained by All: 10k cases %d KiB, 100k cases %d KiB", small/1024, large/1024)
	// Ten times the cases must not mean more retained memory than one page
	// more: allow 2x the small peak plus 1 MiB of noise.
	if limit := 2*small + 1<<20; large > limit {
		t.Fatalf("peak heap grew with the number of cases: %d bytes for 100k vs %d for 10k", large, small)
	}
}

var _ = primero.MaxPer
