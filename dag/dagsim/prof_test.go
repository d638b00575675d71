package dagsim

import (
	"fmt"
	"testing"
)

// BenchmarkSimulatedRounds measures how many consensus rounds per second of
// wall time the simulator drives, faults included.
func BenchmarkSimulatedRounds(b *testing.B) {
	for _, n := range []int{4, 10} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			rounds := uint64(0)
			for i := 0; i < b.N; i++ {
				r := Run(Options{Validators: n, Seed: uint64(i + 1)})
				rounds += r.Stats.MaxRound
			}
			b.ReportMetric(float64(rounds)/b.Elapsed().Seconds(), "rounds/s")
		})
	}
}
