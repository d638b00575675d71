//go:build !unix

package consensus

import "time"

// processCPU returns 0: the system does not say.
func processCPU() time.Duration { return 0 }
