//go:build unix

package storage

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) used by this process so
// far, or 0 when the system does not say.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
