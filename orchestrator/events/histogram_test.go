package events

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration // exact lower bound of the answer
	}{
		{"empty", nil, 0.5, 0},
		{"one value", []time.Duration{7 * ms}, 0.5, 7 * ms},
		{"one value p99", []time.Duration{7 * ms}, 0.99, 7 * ms},
		{"small exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5, 5},
		{"small exact p90", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9},
		{"uniform p50", uniform(1*ms, 100), 0.5, 50 * ms},
		{"uniform p99", uniform(1*ms, 100), 0.99, 99 * ms},
		{"uniform p100", uniform(1*ms, 100), 1, 100 * ms},
		{"uniform p0", uniform(1*ms, 100), 0, 1 * ms},
		{"q above 1", uniform(1*ms, 100), 7, 100 * ms},
		{"q NaN", uniform(1*ms, 100), math.NaN(), 1 * ms},
		{"negative as zero", []time.Duration{-5 * ms, -1}, 0.5, 0},
		{"long tail", append(repeat(10*time.Microsecond, 990), repeat(time.Second, 10)...), 0.99, 10 * time.Microsecond},
		{"long tail p995", append(repeat(10*time.Microsecond, 990), repeat(time.Second, 10)...), 0.995, time.Second},
		{"huge", []time.Duration{100 * time.Hour}, 0.5, 100 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tc.values {
				h.Record(v)
			}
			got := h.Quantile(tc.q)
			hi := tc.want + tc.want/subCount
			if got < tc.want || got > hi {
				t.Errorf("Quantile(%v) = %v, want in [%v, %v]", tc.q, got, tc.want, hi)
			}
			if h.Count() != uint64(len(tc.values)) {
				t.Errorf("Count = %d, want %d", h.Count(), len(tc.values))
			}
		})
	}
}

func TestHistogramSummary(t *testing.T) {
	var h Histogram
	for _, v := range uniform(time.Millisecond, 1000) {
		h.Record(v)
	}
	h.Record(-time.Second)
	s := h.Summary()
	if s.Count != 1001 || s.Negative != 1 || s.Max != time.Second {
		t.Errorf("Summary = %+v, want count 1001, negative 1, max 1s", s)
	}
	if s.P50 < 499*time.Millisecond || s.P50 > 516*time.Millisecond {
		t.Errorf("P50 = %v, want about 500ms", s.P50)
	}
	if s.P99 < 989*time.Millisecond || s.P99 > time.Second {
		t.Errorf("P99 = %v, want about 990ms", s.P99)
	}
	var nilH *Histogram
	nilH.Record(1)
	if nilH.Summary() != (Summary{}) || nilH.Quantile(0.5) != 0 {
		t.Error("nil histogram is not empty")
	}
}

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<42 - 1, 1 << 42, 1 << 43, 1<<43 + 5, math.MaxInt64} {
		i := bucketOf(v)
		if i < prev || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d (of %d)", v, i, prev, numBuckets)
		}
		prev = i
		if v < 1<<43 {
			if up := bucketUpper(i); up < v || float64(up-v) > float64(v)/subCount {
				t.Errorf("bucketUpper(bucketOf(%d)) = %d", v, up)
			}
			if i > 0 && bucketUpper(i-1) >= v {
				t.Errorf("bucket %d below %d ends at %d", i-1, v, bucketUpper(i-1))
			}
		}
	}
}

func TestHistogramConcurrent(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				h.Record(time.Duration(g*1000 + i))
				_ = h.Quantile(0.99)
			}
		})
	}
	wg.Wait()
	if h.Count() != 4000 || h.Max() != 3999 || h.Quantile(0) != 0 {
		t.Errorf("count %d max %v min %v", h.Count(), h.Max(), h.Quantile(0))
	}
}

func uniform(step time.Duration, n int) []time.Duration {
	vs := make([]time.Duration, n)
	for i := range vs {
		vs[i] = step * time.Duration(i+1)
	}
	return vs
}

func repeat(v time.Duration, n int) []time.Duration {
	vs := make([]time.Duration, n)
	for i := range vs {
		vs[i] = v
	}
	return vs
}
