//go:build unix

package consent

import "syscall"

// cpuTime is the CPU time the process has used so far (user and system),
// or 0 when it cannot be read: the benchmarks report records per
// CPU-second beside records per second, which a shared machine inflates.
func cpuTime() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
