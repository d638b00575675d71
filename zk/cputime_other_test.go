//go:build !unix

package zk

import "time"

// processCPU is not available here; benchmarks report zero CPU time.
func processCPU() time.Duration { return 0 }
