//go:build race

package erasure

// raceEnabled shrinks the largest test inputs under the race detector,
// which runs code about ten times slower.
const raceEnabled = true
