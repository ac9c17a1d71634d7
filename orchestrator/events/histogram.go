package events

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram layout: values below 2^subBits nanoseconds have a bucket each;
// above, every power of two is split into 2^subBits equal buckets, so a
// bucket is never wider than 1/32 of its lower bound. Values of 2^(maxExp+1)
// ns (about 2.4 hours) and more share the last bucket; Max stays exact.
const (
	subBits    = 5
	subCount   = 1 << subBits
	maxExp     = 42
	numBuckets = (maxExp - subBits + 2) * subCount
)

// Histogram records durations in log-linear buckets, as HdrHistogram does:
// quantiles are exact below 32ns and otherwise within a relative error of
// 1/32 (about 3%), always inside [min, max] of the recorded values. Memory
// is fixed (about 10 KiB) whatever is recorded.
//
// The zero value is an empty histogram ready for use. Recording and reading
// are safe for concurrent use and never block one another; a quantile read
// while values are recorded reflects some of them.
type Histogram struct {
	buckets  [numBuckets]atomic.Uint64
	count    atomic.Uint64
	negative atomic.Uint64
	max      atomic.Int64
	minPlus1 atomic.Int64 // smallest value + 1; 0 while empty
}

// Summary is a histogram's count, median, 99th percentile and maximum.
type Summary struct {
	// Count is the number of recorded values.
	Count uint64 `json:"count"`
	// Negative is how many of them were negative (recorded as 0): for
	// source → observed latencies, a box clock ahead of the orchestrator's.
	Negative uint64 `json:"negative,omitempty"`
	// P50 is the median.
	P50 time.Duration `json:"p50_ns"`
	// P99 is the 99th percentile.
	P99 time.Duration `json:"p99_ns"`
	// Max is the largest recorded value, exact.
	Max time.Duration `json:"max_ns"`
}

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - 1
	if e > maxExp {
		return numBuckets - 1
	}
	shift := e - subBits
	return (e-subBits+1)*subCount + int(v>>shift) - subCount
}

// bucketUpper is the largest value that falls in bucket i.
func bucketUpper(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := uint(i/subCount - 1)
	lower := uint64(subCount+i%subCount) << shift
	return lower + (1 << shift) - 1
}

// Record adds one value. A negative d is counted as Negative and recorded as
// zero.
func (h *Histogram) Record(d time.Duration) {
	if h == nil {
		return
	}
	if d < 0 {
		h.negative.Add(1)
		d = 0
	}
	v := int64(d)
	h.buckets[bucketOf(uint64(v))].Add(1)
	h.count.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.minPlus1.Load()
		if (m != 0 && v+1 >= m) || h.minPlus1.CompareAndSwap(m, v+1) {
			break
		}
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 {
	if h == nil {
		return 0
	}
	return h.count.Load()
}

// Max returns the largest recorded value (0 when empty).
func (h *Histogram) Max() time.Duration {
	if h == nil {
		return 0
	}
	return time.Duration(h.max.Load())
}

// Quantile returns the value below or at which a fraction q of the recorded
// values lie (q in [0, 1]; out-of-range values are clamped, NaN reads as 0),
// rounded up to its bucket's upper bound and clamped to the recorded
// minimum and maximum. It returns 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h == nil {
		return 0
	}
	if math.IsNaN(q) || q < 0 {
		q = 0
	}
	if q > 1 {
		q = 1
	}
	var counts [numBuckets]uint64
	var total uint64
	for i := range counts {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	rank = max(rank, 1)
	var cum uint64
	v := uint64(0)
	for i, c := range counts {
		cum += c
		if cum >= rank {
			v = bucketUpper(i)
			break
		}
	}
	lo, hi := h.minPlus1.Load()-1, h.max.Load()
	d := int64(min(v, math.MaxInt64))
	if lo >= 0 && d < lo {
		d = lo
	}
	if d > hi {
		d = hi
	}
	return time.Duration(d)
}

// Summary returns the count, p50, p99 and max.
func (h *Histogram) Summary() Summary {
	if h == nil {
		return Summary{}
	}
	return Summary{
		Count:    h.Count(),
		Negative: h.negative.Load(),
		P50:      h.Quantile(0.50),
		P99:      h.Quantile(0.99),
		Max:      h.Max(),
	}
}
