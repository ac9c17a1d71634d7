// Package backoff computes reconnect delays that grow exponentially and carry
// random jitter, in the style of gRPC's connection backoff
// (https://github.com/grpc/grpc/blob/master/doc/connection-backoff.md).
//
// The n-th delay after a Reset (n counting from 0) is
//
//	d(n) = min(base * multiplier^n, max)
//
// randomised by up to ±jitter of itself, and never more than max:
//
//	Next() ∈ [d(n) * (1-jitter), min(d(n) * (1+jitter), max)]
//
// Unlike gRPC, whose jitter may push a delay above the maximum, max is a hard
// upper bound here: a caller that sets WithMax(10*time.Second) never waits
// longer than ten seconds.
//
// The defaults are a base of 100ms, a maximum of 10s, a multiplier of 1.6 and a
// jitter of 0.2, suited to reconnecting to a switch on a local network. A
// Backoff is safe for concurrent use.
package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Default values used by New when the corresponding option is not given.
const (
	// DefaultBase is the delay before the first retry.
	DefaultBase = 100 * time.Millisecond
	// DefaultMax is the upper bound of every delay.
	DefaultMax = 10 * time.Second
	// DefaultMultiplier is the factor by which the delay grows after each retry.
	DefaultMultiplier = 1.6
	// DefaultJitter is the fraction by which each delay is randomised.
	DefaultJitter = 0.2
)

// Option configures a Backoff created by New. Options given invalid values are
// ignored and the default is kept, as documented on each option.
type Option func(*Backoff)

// WithBase sets the delay before the first retry. A non-positive d is ignored.
func WithBase(d time.Duration) Option {
	return func(b *Backoff) {
		if d > 0 {
			b.base = d
		}
	}
}

// WithMax sets the upper bound of every delay. A non-positive d is ignored. If
// the maximum ends up below the base, the maximum is raised to the base.
func WithMax(d time.Duration) Option {
	return func(b *Backoff) {
		if d > 0 {
			b.max = d
		}
	}
}

// WithMultiplier sets the factor by which the delay grows after each retry. A
// factor below 1, infinite or NaN is ignored; 1 gives a constant delay.
func WithMultiplier(f float64) Option {
	return func(b *Backoff) {
		if f >= 1 && !math.IsInf(f, 0) {
			b.multiplier = f
		}
	}
}

// WithJitter sets the fraction by which each delay is randomised: a delay d
// becomes a uniformly chosen value in [d*(1-j), d*(1+j)] (then capped at the
// maximum). A value outside [0, 1] or NaN is ignored; 0 disables jitter.
func WithJitter(j float64) Option {
	return func(b *Backoff) {
		if j >= 0 && j <= 1 {
			b.jitter = j
		}
	}
}

// Backoff hands out successive reconnect delays. Create it with New; the zero
// value is not usable. It is safe for concurrent use.
type Backoff struct {
	base       time.Duration
	max        time.Duration
	multiplier float64
	jitter     float64
	rand       func() float64 // uniform in [0, 1)

	mu      sync.Mutex
	attempt int  // exponent of the next delay
	capped  bool // base*multiplier^attempt reached max: stop growing
}

// New returns a Backoff configured by opts on top of the defaults.
func New(opts ...Option) *Backoff {
	b := &Backoff{
		base:       DefaultBase,
		max:        DefaultMax,
		multiplier: DefaultMultiplier,
		jitter:     DefaultJitter,
		rand:       rand.Float64,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(b)
		}
	}
	if b.max < b.base {
		b.max = b.base
	}
	return b
}

// Next returns the delay to wait before the next retry and advances the
// sequence. The result is never negative and never above the maximum.
func (b *Backoff) Next() time.Duration {
	b.mu.Lock()
	d := float64(b.max)
	if !b.capped {
		d = float64(b.base) * math.Pow(b.multiplier, float64(b.attempt))
		if d >= float64(b.max) || math.IsInf(d, 0) || math.IsNaN(d) {
			d = float64(b.max)
			b.capped = true
		} else {
			b.attempt++
		}
	}
	random := b.rand
	b.mu.Unlock()
	if random == nil { // zero Backoff: documented as unusable, but never panic
		random = rand.Float64
	}
	r := random()

	d *= 1 + b.jitter*(2*r-1)
	switch {
	case d <= 0:
		return 0
	case d >= float64(b.max):
		// Compare in float64 but return the exact maximum: float64(max) may
		// round up past the range of time.Duration.
		return b.max
	}
	return time.Duration(d)
}

// Reset restarts the sequence: the next delay is the base delay again. Call it
// once a connection has been established.
func (b *Backoff) Reset() {
	b.mu.Lock()
	b.attempt = 0
	b.capped = false
	b.mu.Unlock()
}

// Wait sleeps for Next() and returns nil, or returns ctx.Err() as soon as ctx
// is done. If ctx is already done, Wait returns at once without advancing the
// sequence.
func (b *Backoff) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
