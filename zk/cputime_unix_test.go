//go:build unix

package zk

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the process has used,
// over all threads. Benchmarks report it beside the wall time because the
// machines they run on may be shared.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
