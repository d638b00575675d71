//go:build !unix

package erasure

import "time"

// cpuTime is not measured on this platform; the CPU metric is then omitted.
func cpuTime() time.Duration { return 0 }
