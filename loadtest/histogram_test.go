package loadtest

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestHistogramQuantilesMatchExact compares quantiles with the exact order
// statistics of the same samples: within the promised 0.4 %.
func TestHistogramQuantilesMatchExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var vals []uint64
	for i := 0; i < 100000; i++ {
		v := uint64(rng.ExpFloat64()*50000) + 1 // microseconds with a long tail
		vals = append(vals, v)
		h.Record(v)
	}
	slices.Sort(vals)
	if h.Count() != uint64(len(vals)) || h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
		t.Fatalf("count/min/max %d/%d/%d, want %d/%d/%d", h.Count(), h.Min(), h.Max(), len(vals), vals[0], vals[len(vals)-1])
	}
	for _, q := range []float64{0.5, 0.95, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if diff := float64(got) - float64(exact); diff > 0.005*float64(exact)+1 || -diff > 0.005*float64(exact)+1 {
			t.Errorf("q%.3f = %d, exact %d", q, got, exact)
		}
	}
}

func TestHistogramMergeAndReset(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for v := uint64(1); v <= 1000; v++ {
		a.Record(v)
		b.Record(v + 1000)
	}
	a.Merge(b)
	if a.Count() != 2000 || a.Min() != 1 || a.Max() != 2000 {
		t.Fatalf("merged count/min/max %d/%d/%d", a.Count(), a.Min(), a.Max())
	}
	if m := a.Quantile(0.5); m < 990 || m > 1010 {
		t.Fatalf("median of 1..2000 = %d", m)
	}
	a.Reset()
	if a.Count() != 0 || a.Quantile(0.5) != 0 {
		t.Fatalf("reset left count %d, median %d", a.Count(), a.Quantile(0.5))
	}
}
