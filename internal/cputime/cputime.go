// Package cputime reads the CPU time the current process has used, over all
// its threads, user and system. Tests and benchmarks report it beside the
// wall time because the machines they run on are often shared: a slow run
// that used little CPU was starved, not slow.
package cputime

import "time"

// Process returns the user and system CPU time the process has used so far,
// or 0 where the platform does not report it (Supported says which).
func Process() time.Duration { return process() }

// Supported reports whether Process measures anything on this platform.
func Supported() bool { return supported }
