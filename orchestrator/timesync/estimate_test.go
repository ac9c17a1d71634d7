package timesync

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// line returns n samples spaced by step on offset = base + ppm·t, all with
// the same bound.
func line(n int, step time.Duration, base time.Duration, ppm float64, bound time.Duration) []sample {
	s := make([]sample, n)
	for i := range s {
		el := time.Duration(i) * step
		s[i] = sample{at: t0.Add(el), offset: base + duration(el.Seconds()*ppm*1e-6), bound: bound}
	}
	return s
}

func TestFitDrift(t *testing.T) {
	tests := []struct {
		name    string
		samples []sample
		want    float64 // ppm
		fitted  bool
	}{
		{"plus 200 ppm", line(20, 50*time.Millisecond, 30*time.Millisecond, 200, 100*time.Microsecond), 200, true},
		{"minus 50 ppm", line(10, time.Second, -2*time.Second, -50, time.Millisecond), -50, true},
		{"no drift", line(5, time.Second, 0, 0, 0), 0, true},
		{"huge offset keeps precision", line(10, time.Second, 50*365*24*time.Hour, 10, time.Microsecond), 10, true},
		{"two samples", line(2, time.Second, 0, 100, time.Microsecond), 0, false},
		{"no spread in time", line(5, 0, 0, 100, time.Microsecond), 0, false},
		{"empty", nil, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slope, sigma := fitDrift(tc.samples)
			if fitted := !math.IsInf(sigma, 1); fitted != tc.fitted {
				t.Fatalf("fitted = %v (sigma %v), want %v", fitted, sigma, tc.fitted)
			}
			if got := slope * 1e6; math.Abs(got-tc.want) > 0.01 {
				t.Fatalf("drift %v ppm, want %v", got, tc.want)
			}
		})
	}
}

// TestEstimatorFilter checks the clock filter's choice and the carrying of
// the chosen offset to the newest sample's time.
func TestEstimatorFilter(t *testing.T) {
	const ppm = 100
	tests := []struct {
		name      string
		samples   []sample
		filter    int
		wantBound time.Duration // the chosen sample's bound, before growth
		grown     bool          // the bound grew with age (an older sample was chosen)
	}{
		{
			name: "tight old sample wins",
			samples: func() []sample {
				s := line(10, 100*time.Millisecond, 5*time.Millisecond, ppm, 100*time.Microsecond)
				s[7].bound = 10 * time.Microsecond
				return s
			}(),
			filter: 8, wantBound: 10 * time.Microsecond, grown: true,
		},
		{
			name: "tight sample outside the filter is ignored",
			samples: func() []sample {
				s := line(10, 100*time.Millisecond, 5*time.Millisecond, ppm, 100*time.Microsecond)
				s[1].bound = 10 * time.Microsecond
				return s
			}(),
			filter: 8, wantBound: 100 * time.Microsecond,
		},
		{
			name:    "newest on ties",
			samples: line(10, 100*time.Millisecond, 5*time.Millisecond, ppm, 100*time.Microsecond),
			filter:  8, wantBound: 100 * time.Microsecond,
		},
		{
			name: "no fit: the newest sample",
			samples: func() []sample {
				s := line(2, 100*time.Millisecond, 5*time.Millisecond, ppm, 100*time.Microsecond)
				s[0].bound = time.Microsecond
				return s
			}(),
			filter: 8, wantBound: 100 * time.Microsecond,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEstimator(64, tc.filter)
			for _, s := range tc.samples {
				if e.add(s) {
					t.Fatalf("step detected on a straight line at %v", s.at)
				}
			}
			est := e.est
			latest := tc.samples[len(tc.samples)-1]
			if est.Updated != latest.at || est.Samples != len(tc.samples) {
				t.Fatalf("updated %v samples %d, want %v %d", est.Updated, est.Samples, latest.at, len(tc.samples))
			}
			if d := (est.Offset - latest.offset).Abs(); d > 2*time.Nanosecond {
				t.Fatalf("offset %v, want the line's %v at the newest sample", est.Offset, latest.offset)
			}
			if tc.grown {
				if est.ErrorBound <= tc.wantBound || est.ErrorBound >= 100*time.Microsecond {
					t.Fatalf("bound %v, want grown from %v yet below the others' 100µs", est.ErrorBound, tc.wantBound)
				}
			} else if est.ErrorBound != tc.wantBound {
				t.Fatalf("bound %v, want %v", est.ErrorBound, tc.wantBound)
			}
		})
	}
}

func TestEstimatorStep(t *testing.T) {
	tests := []struct {
		name  string
		jump  time.Duration
		steps int
	}{
		{"within the bounds", 150 * time.Microsecond, 0},
		{"step forward", 10 * time.Millisecond, 1},
		{"step backward", -3 * time.Millisecond, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEstimator(64, 8)
			s := line(10, 10*time.Millisecond, time.Millisecond, 0, 100*time.Microsecond)
			for _, x := range s {
				e.add(x)
			}
			next := sample{at: s[9].at.Add(10 * time.Millisecond), offset: time.Millisecond + tc.jump, bound: 100 * time.Microsecond}
			if step := e.add(next); step != (tc.steps > 0) {
				t.Fatalf("step = %v", step)
			}
			if e.est.Steps != tc.steps {
				t.Fatalf("steps %d, want %d", e.est.Steps, tc.steps)
			}
			if tc.steps > 0 && (e.est.Samples != 1 || e.est.Offset != next.offset || e.est.ErrorBound != next.bound) {
				t.Fatalf("after a step: %+v, want the new sample alone", e.est)
			}
		})
	}
}

func TestDurationSaturates(t *testing.T) {
	tests := []struct {
		in   float64
		want time.Duration
	}{
		{1.5e-6, 1500 * time.Nanosecond},
		{math.NaN(), 0},
		{math.Inf(1), math.MaxInt64},
		{math.Inf(-1), math.MinInt64},
		{1e300, math.MaxInt64},
	}
	for _, tc := range tests {
		if got := duration(tc.in); got != tc.want {
			t.Errorf("duration(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := ceilDuration(math.Inf(1)); got != math.MaxInt64 {
		t.Errorf("ceilDuration(+Inf) = %v", got)
	}
	if got := ceilDuration(1.0000000001e-6); got != 1001*time.Nanosecond {
		t.Errorf("ceilDuration rounds %v", got)
	}
}

// BenchmarkEstimatorAdd measures the estimate update of one sample with a
// full window of DefaultWindow samples: insert, drift fit, clock filter.
func BenchmarkEstimatorAdd(b *testing.B) {
	e := newEstimator(DefaultWindow, DefaultFilter)
	s := line(DefaultWindow, time.Second, 3*time.Millisecond, 50, 100*time.Microsecond)
	for _, x := range s {
		e.add(x)
	}
	next := s[len(s)-1]
	for b.Loop() {
		next.at = next.at.Add(time.Second)
		next.offset += 50 * time.Microsecond
		e.add(next)
	}
}
