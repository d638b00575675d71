package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is cut into
// 2^subBits buckets, so a bucket is at most 1/128 of its values wide and
// a percentile read from it is off by less than 0.4% (the midpoint).
const subBits = 7

const (
	subCount = 1 << subBits
	// linear values below 2*subCount have a bucket of their own.
	linear = 2 * subCount
	// buckets covers every uint64: the linear part, then subCount buckets
	// for each shift from 1 to 64-subBits-1.
	buckets = linear + (64-subBits-1)*subCount
)

// Histogram counts non-negative integer values (the load generator records
// microseconds) in log-linear buckets, HDR style. It is not safe for
// concurrent use.
type Histogram struct {
	counts []uint64
	total  uint64
	sum    float64
	min    uint64
	max    uint64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, buckets), min: math.MaxUint64}
}

func bucketOf(v uint64) int {
	if v < linear {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // v>>shift is in [subCount, 2*subCount)
	return linear + (shift-1)*subCount + int(v>>shift) - subCount
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < linear {
		return uint64(i), uint64(i)
	}
	shift := (i-linear)/subCount + 1
	sub := uint64((i-linear)%subCount + subCount)
	lo = sub << shift
	return lo, lo + (1 << shift) - 1
}

// Record counts one value.
func (h *Histogram) Record(v uint64) {
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// RecordDuration counts d in microseconds (negative durations count as 0).
func (h *Histogram) RecordDuration(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.Record(uint64(d / time.Microsecond))
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Mean returns the mean of the values, 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Max returns the largest value, 0 when empty.
func (h *Histogram) Max() uint64 { return h.max }

// Min returns the smallest value, 0 when empty.
func (h *Histogram) Min() uint64 {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Quantile returns the value at quantile q in [0, 1]: the midpoint of the
// bucket holding the value of rank ceil(q*count), clamped to the recorded
// minimum and maximum. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) uint64 {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			mid := lo + (hi-lo)/2
			return min(max(mid, h.min), h.max)
		}
	}
	return h.max
}

// Merge adds the counts of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Reset empties the histogram.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.total, h.sum, h.min, h.max = 0, 0, math.MaxUint64, 0
}
