//go:build !unix

package mapping

// cpuTime cannot be read here; the benchmarks then report no CPU-time
// figures.
func cpuTime() float64 { return 0 }
