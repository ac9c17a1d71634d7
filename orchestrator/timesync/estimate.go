package timesync

import (
	"math"
	"slices"
	"time"
)

// Constants of the estimator.
const (
	// DispersionPPM is how fast, in parts per million, the error bound of
	// an offset grows with the age of the sample it was read from, on top
	// of three standard errors of the fitted drift: NTP's frequency
	// tolerance PHI (RFC 5905), which covers what the fit cannot see.
	DispersionPPM = 15
	// UnfittedPPM is the largest drift assumed of a box whose drift is not
	// fitted yet (fewer than three samples), when a new sample is checked
	// against the estimate for a clock step.
	UnfittedPPM = 500
	// stepSlack absorbs the rounding of the timestamps (the device reports
	// nanoseconds, SNTP 2^-32 s) in the step check.
	stepSlack = time.Microsecond
	// weightFloor keeps the weight of a sample with a zero error bound
	// finite: one microsecond.
	weightFloor = 1e-6
)

// Estimate is what the Service knows of one box's clock, against the
// chassis clock.
type Estimate struct {
	// Box is the box's name, Module its module ID (as given to Add).
	Box    string
	Module uint32
	// Offset is how far the box's clock is ahead of the chassis clock
	// (negative: behind) at Updated: the clock filter's choice among the
	// most recent samples, carried forward to Updated by the drift.
	Offset time.Duration
	// ErrorBound bounds the error of Offset: the true offset at Updated lies
	// within Offset ± ErrorBound. It is half the round trip of the chosen
	// sample, plus, when that sample is older than the newest one, its age
	// times (DispersionPPM + 3 standard errors of the drift).
	ErrorBound time.Duration
	// DriftPPM is the rate at which the offset changes, in parts per
	// million (microseconds per second): the weighted least-squares slope
	// of the offsets in the window, each sample weighted by 1/ErrorBound².
	// Zero until the window holds three samples spread in time. For a box
	// whose NTP client is slewing its clock it includes the slew.
	DriftPPM float64
	// DriftError is the standard error of DriftPPM, in ppm, computed from
	// the samples' error bounds (so an overestimate); zero when DriftPPM is
	// not fitted.
	DriftError float64
	// Samples is the number of samples in the window; Span is the chassis
	// time between its oldest and newest sample.
	Samples int
	Span    time.Duration
	// Updated is the chassis time of the newest sample (the middle of its
	// gNOI call); zero before the first.
	Updated time.Time
	// Steps counts the clock steps detected (a sample inconsistent with the
	// estimate, which restarts the window).
	Steps int
	// Failures counts the consecutive failed samples; Err is the last
	// sample's error (nil when it succeeded). Err names the box.
	Failures int
	Err      error
	// Alarm reports whether the box's time alarm is raised.
	Alarm bool
}

// Valid reports whether the estimate rests on at least one sample.
func (e Estimate) Valid() bool { return e.Samples > 0 }

// sample is one measurement of a box's offset.
type sample struct {
	at     time.Time     // chassis time at the middle of the call (no monotonic reading)
	offset time.Duration // box clock − chassis clock
	bound  time.Duration // the true offset is within offset ± bound
}

// estimator keeps the window of one box and derives its estimate.
type estimator struct {
	window, filter int
	s              []sample // ordered by at
	est            Estimate // Offset..Steps are set by add
	slope          float64  // fitted drift, s/s
	sigma          float64  // its standard error, s/s; +Inf without a fit
}

func newEstimator(window, filter int) *estimator {
	return &estimator{window: window, filter: filter, sigma: math.Inf(1)}
}

// add puts a sample into the window and recomputes the estimate. A sample
// inconsistent with the current estimate — no offset within both its own
// bound and the estimate's bound grown to the sample's time — proves that
// the clock was stepped (or slewed faster than the drift allows): the
// window restarts from that sample and add reports true.
func (e *estimator) add(n sample) (step bool) {
	if len(e.s) > 0 && !e.consistent(n) {
		e.s = e.s[:0]
		e.est.Steps++
		step = true
	}
	i, _ := slices.BinarySearchFunc(e.s, n.at, func(s sample, t time.Time) int { return s.at.Compare(t) })
	e.s = slices.Insert(e.s, i, n)
	if len(e.s) > e.window {
		e.s = slices.Delete(e.s, 0, len(e.s)-e.window)
	}
	e.recompute()
	return step
}

// consistent checks a new sample against the current estimate.
func (e *estimator) consistent(n sample) bool {
	dt := seconds(n.at.Sub(e.est.Updated))
	rate := UnfittedPPM * 1e-6
	if !math.IsInf(e.sigma, 1) {
		rate = DispersionPPM*1e-6 + 3*e.sigma
	}
	pred := seconds(e.est.Offset) + e.slope*dt
	tol := seconds(n.bound) + seconds(e.est.ErrorBound) + rate*math.Abs(dt) + seconds(stepSlack)
	return math.Abs(seconds(n.offset)-pred) <= tol
}

// recompute derives the estimate from the window.
func (e *estimator) recompute() {
	e.slope, e.sigma = fitDrift(e.s)
	latest := e.s[len(e.s)-1]
	rate := math.Inf(1)
	if !math.IsInf(e.sigma, 1) {
		rate = DispersionPPM*1e-6 + 3*e.sigma
	}
	// The clock filter: of the last samples, the one whose bound, grown
	// with its age, is the tightest (the newest on ties).
	best, bestBound := len(e.s)-1, seconds(latest.bound)
	for i := len(e.s) - 2; !math.IsInf(rate, 1) && i >= max(0, len(e.s)-e.filter); i-- {
		age := seconds(latest.at.Sub(e.s[i].at))
		if b := seconds(e.s[i].bound) + rate*age; b < bestBound {
			best, bestBound = i, b
		}
	}
	chosen := e.s[best]
	age := seconds(latest.at.Sub(chosen.at))
	off := chosen.offset
	if best != len(e.s)-1 {
		off += duration(e.slope * age)
	}
	e.est.Offset = off
	e.est.ErrorBound = ceilDuration(bestBound)
	e.est.Samples = len(e.s)
	e.est.Span = latest.at.Sub(e.s[0].at)
	e.est.Updated = latest.at
	e.est.DriftPPM, e.est.DriftError = 0, 0
	if !math.IsInf(e.sigma, 1) {
		e.est.DriftPPM, e.est.DriftError = e.slope*1e6, e.sigma*1e6
	}
}

// offsetAt returns the offset the estimate predicts at chassis time t: the
// estimated offset carried by the drift for at most the window's span (or
// the sampling interval, if longer) either side of Updated, since the fit
// says nothing about the clock outside it.
func (e *estimator) offsetAt(t time.Time, interval time.Duration) time.Duration {
	limit := seconds(max(e.est.Span, interval))
	dt := math.Max(-limit, math.Min(limit, seconds(t.Sub(e.est.Updated))))
	return e.est.Offset + duration(e.slope*dt)
}

// fitDrift fits offset = a + slope·t over the samples by weighted least
// squares (weights 1/bound²) and returns the slope and its standard error
// in seconds per second; the error is +Inf (and the slope 0) with fewer
// than three samples or no spread in time. Times and offsets are taken
// relative to the first sample, so that large offsets keep their precision.
func fitDrift(s []sample) (slope, sigma float64) {
	if len(s) < 3 {
		return 0, math.Inf(1)
	}
	t0, o0 := s[0].at, s[0].offset
	var sw, swx, swy float64
	for _, p := range s {
		w := weight(p.bound)
		x, y := seconds(p.at.Sub(t0)), seconds(p.offset-o0)
		sw += w
		swx += w * x
		swy += w * y
	}
	xm, ym := swx/sw, swy/sw
	var sxx, sxy float64
	for _, p := range s {
		w := weight(p.bound)
		dx, dy := seconds(p.at.Sub(t0))-xm, seconds(p.offset-o0)-ym
		sxx += w * dx * dx
		sxy += w * dx * dy
	}
	if !(sxx > 0) || math.IsInf(sxx, 0) {
		return 0, math.Inf(1)
	}
	slope, sigma = sxy/sxx, math.Sqrt(1/sxx)
	if math.IsNaN(slope) || math.IsInf(slope, 0) || math.IsNaN(sigma) {
		return 0, math.Inf(1)
	}
	return slope, sigma
}

func weight(bound time.Duration) float64 {
	b := math.Max(seconds(bound), weightFloor)
	return 1 / (b * b)
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// duration converts seconds to a Duration, saturating instead of
// overflowing (NaN gives 0).
func duration(s float64) time.Duration {
	ns := s * 1e9
	switch {
	case math.IsNaN(ns):
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(math.Round(ns))
}

// ceilDuration is duration rounded up, so that a bound never shrinks by
// rounding.
func ceilDuration(s float64) time.Duration {
	ns := math.Ceil(s * 1e9)
	if math.IsNaN(ns) || ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	if ns <= 0 {
		return 0
	}
	return time.Duration(ns)
}
