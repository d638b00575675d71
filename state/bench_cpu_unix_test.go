//go:build unix

package state

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the test process has
// used, so that benchmarks on a shared machine can report their own cost
// beside the wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
