package cputime

import "testing"

// TestProcessGrowsWithWork burns CPU until the reading moves: a reading
// stuck at its start value would make every CPU figure of the suite zero.
func TestProcessGrowsWithWork(t *testing.T) {
	if !Supported() {
		t.Skip("this platform does not report process CPU time")
	}
	start := Process()
	x := uint64(1)
	for i := 0; Process() == start; i++ {
		if i > 1<<34 {
			t.Fatal("the process CPU time never moved")
		}
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if x == 0 {
		t.Log(x) // keeps the loop from being optimised away
	}
}
