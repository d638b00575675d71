package engine

import "time"

// Clock is where the node reads the time for the decisions that depend on
// it: the content audit schedule, the age of uncertified objects
// (content.Options.UncertifiedTTL) and of shard verifications, the
// registrar's retries and transaction expiries, and the health check's
// stall detection. Measurements (metrics, log durations) and network
// deadlines keep the system clock. Tests pass a fake to drive time.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed on
	// this clock.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the operating system's clock, Options.Clock's default.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
