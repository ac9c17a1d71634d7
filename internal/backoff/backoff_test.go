package backoff

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fixedRand returns a random source that always yields r.
func fixedRand(r float64) func() float64 { return func() float64 { return r } }

func TestDefaults(t *testing.T) {
	b := New()
	if b.base != DefaultBase || b.max != DefaultMax || b.multiplier != DefaultMultiplier || b.jitter != DefaultJitter {
		t.Fatalf("New() = base %v max %v multiplier %v jitter %v, want defaults", b.base, b.max, b.multiplier, b.jitter)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		base, max  time.Duration
		multiplier float64
		jitter     float64
	}{
		{"all set", []Option{WithBase(time.Second), WithMax(time.Minute), WithMultiplier(2), WithJitter(0.5)}, time.Second, time.Minute, 2, 0.5},
		{"zero base ignored", []Option{WithBase(0)}, DefaultBase, DefaultMax, DefaultMultiplier, DefaultJitter},
		{"negative max ignored", []Option{WithMax(-time.Second)}, DefaultBase, DefaultMax, DefaultMultiplier, DefaultJitter},
		{"max below base raised", []Option{WithBase(time.Minute), WithMax(time.Second)}, time.Minute, time.Minute, DefaultMultiplier, DefaultJitter},
		{"multiplier below 1 ignored", []Option{WithMultiplier(0.5)}, DefaultBase, DefaultMax, DefaultMultiplier, DefaultJitter},
		{"multiplier NaN ignored", []Option{WithMultiplier(math.NaN())}, DefaultBase, DefaultMax, DefaultMultiplier, DefaultJitter},
		{"multiplier Inf ignored", []Option{WithMultiplier(math.Inf(1))}, DefaultBase, DefaultMax, DefaultMultiplier, DefaultJitter},
		{"jitter above 1 ignored", []Option{WithJitter(1.5)}, DefaultBase, DefaultMax, DefaultMultiplier, DefaultJitter},
		{"jitter negative ignored", []Option{WithJitter(-0.1)}, DefaultBase, DefaultMax, DefaultMultiplier, DefaultJitter},
		{"jitter zero kept", []Option{WithJitter(0)}, DefaultBase, DefaultMax, DefaultMultiplier, 0},
		{"nil option ignored", []Option{nil}, DefaultBase, DefaultMax, DefaultMultiplier, DefaultJitter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.opts...)
			if b.base != tt.base || b.max != tt.max || b.multiplier != tt.multiplier || b.jitter != tt.jitter {
				t.Errorf("got base %v max %v multiplier %v jitter %v, want %v %v %v %v",
					b.base, b.max, b.multiplier, b.jitter, tt.base, tt.max, tt.multiplier, tt.jitter)
			}
		})
	}
}

func TestNextGrowthAndCap(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		opts []Option
		want []time.Duration
	}{
		{
			name: "defaults without jitter",
			opts: []Option{WithJitter(0)},
			// 100 * 1.6^n ms, capped at 10s from n = 10 (100*1.6^10 ≈ 10995ms).
			want: []time.Duration{100 * ms, 160 * ms, 256 * ms, 409600 * time.Microsecond, 655360 * time.Microsecond},
		},
		{
			name: "doubling capped",
			opts: []Option{WithBase(ms), WithMax(5 * ms), WithMultiplier(2), WithJitter(0)},
			want: []time.Duration{1 * ms, 2 * ms, 4 * ms, 5 * ms, 5 * ms, 5 * ms},
		},
		{
			name: "constant",
			opts: []Option{WithBase(3 * ms), WithMultiplier(1), WithJitter(0)},
			want: []time.Duration{3 * ms, 3 * ms, 3 * ms},
		},
		{
			name: "base equals max",
			opts: []Option{WithBase(time.Second), WithMax(time.Second), WithJitter(0)},
			want: []time.Duration{time.Second, time.Second},
		},
		{
			name: "full jitter up is capped at max",
			opts: []Option{WithBase(ms), WithMax(2 * ms), WithMultiplier(2), WithJitter(1)},
			want: []time.Duration{ms + ms*999/1000, 2 * ms, 2 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.opts...)
			b.rand = fixedRand(0.9995) // only matters for the jitter case: factor 1.999
			for i, want := range tt.want {
				if got := b.Next(); !approx(got, want) {
					t.Fatalf("Next() #%d = %v, want %v", i, got, want)
				}
			}
		})
	}
}

// approx allows the rounding of float64 arithmetic on durations.
func approx(got, want time.Duration) bool {
	diff := got - want
	return diff >= -time.Microsecond && diff <= time.Microsecond
}

func TestNextCapReachedDefaults(t *testing.T) {
	b := New(WithJitter(0))
	var last time.Duration
	for i := range 100 {
		d := b.Next()
		if d < last {
			t.Fatalf("Next() #%d = %v, less than previous %v", i, d, last)
		}
		if d > DefaultMax {
			t.Fatalf("Next() #%d = %v, above max %v", i, d, DefaultMax)
		}
		last = d
	}
	if last != DefaultMax {
		t.Fatalf("after 100 retries Next() = %v, want max %v", last, DefaultMax)
	}
}

func TestNextNoOverflow(t *testing.T) {
	b := New(WithBase(time.Nanosecond), WithMax(time.Duration(math.MaxInt64)), WithMultiplier(1e6), WithJitter(0))
	for i := range 1000 {
		if d := b.Next(); d <= 0 {
			t.Fatalf("Next() #%d = %v, want positive", i, d)
		}
	}
}

func TestJitterBounds(t *testing.T) {
	tests := []struct {
		name   string
		r      float64
		jitter float64
		want   time.Duration // first delay, base 1s
	}{
		{"lowest", 0, 0.2, 800 * time.Millisecond},
		{"middle", 0.5, 0.2, time.Second},
		{"highest", 0.999999, 0.2, 1199999600 * time.Nanosecond},
		{"full jitter lowest", 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(WithBase(time.Second), WithMax(time.Hour), WithJitter(tt.jitter))
			b.rand = fixedRand(tt.r)
			if got := b.Next(); !approx(got, tt.want) {
				t.Errorf("Next() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJitterBoundsRandom(t *testing.T) {
	b := New(WithBase(time.Second), WithMax(time.Hour), WithMultiplier(1)) // default jitter 0.2
	lo, hi := 800*time.Millisecond, 1200*time.Millisecond
	distinct := map[time.Duration]bool{}
	for range 1000 {
		d := b.Next()
		if d < lo || d > hi {
			t.Fatalf("Next() = %v, want within [%v, %v]", d, lo, hi)
		}
		distinct[d] = true
	}
	if len(distinct) < 2 {
		t.Fatalf("1000 jittered delays are all equal: %v", distinct)
	}

	capped := New(WithBase(time.Second), WithMax(time.Second)) // at the cap from the start
	for range 1000 {
		if d := capped.Next(); d < 800*time.Millisecond || d > time.Second {
			t.Fatalf("capped Next() = %v, want within [800ms, 1s]", d)
		}
	}
}

func TestReset(t *testing.T) {
	tests := []struct {
		name   string
		before int // calls to Next before Reset
	}{
		{"fresh", 0},
		{"grown", 3},
		{"capped", 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(WithJitter(0))
			for range tt.before {
				b.Next()
			}
			b.Reset()
			if got := b.Next(); got != DefaultBase {
				t.Errorf("Next() after Reset = %v, want %v", got, DefaultBase)
			}
			if got := b.Next(); !approx(got, 160*time.Millisecond) {
				t.Errorf("second Next() after Reset = %v, want 160ms", got)
			}
		})
	}
}

func TestWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(WithJitter(0))
		for _, want := range []time.Duration{100 * time.Millisecond, 160 * time.Millisecond} {
			start := time.Now()
			if err := b.Wait(t.Context()); err != nil {
				t.Fatalf("Wait() = %v, want nil", err)
			}
			if got := time.Since(start); !approx(got, want) {
				t.Errorf("Wait() slept %v, want %v", got, want)
			}
		}
	})
}

func TestWaitContextDone(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		want    error
		elapsed time.Duration // fake time spent in Wait
	}{
		{
			name: "deadline during wait",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 50*time.Millisecond)
			},
			want:    context.DeadlineExceeded,
			elapsed: 50 * time.Millisecond,
		},
		{
			name: "cancelled before wait",
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx, cancel
			},
			want: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := New(WithBase(time.Hour), WithMax(time.Hour))
				ctx, cancel := tt.ctx(t.Context())
				defer cancel()
				start := time.Now()
				if err := b.Wait(ctx); !errors.Is(err, tt.want) {
					t.Fatalf("Wait() = %v, want %v", err, tt.want)
				}
				if got := time.Since(start); got != tt.elapsed {
					t.Errorf("Wait() returned after %v, want %v", got, tt.elapsed)
				}
			})
		})
	}
}

// TestWaitCancelledConcurrently uses the real clock: a one-hour backoff is cut
// short by a cancel from another goroutine.
func TestWaitCancelledConcurrently(t *testing.T) {
	b := New(WithBase(time.Hour), WithMax(time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait() = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait() did not return after cancel")
	}
}

func TestConcurrentUse(t *testing.T) {
	b := New(WithBase(time.Millisecond), WithMax(50*time.Millisecond))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if d := b.Next(); d < 0 || d > 50*time.Millisecond {
					t.Errorf("Next() = %v out of [0, 50ms]", d)
					return
				}
				if (g+i)%17 == 0 {
					b.Reset()
				}
			}
		})
	}
	wg.Wait()
}

func TestZeroValueDoesNotPanic(t *testing.T) {
	var b Backoff
	if d := b.Next(); d != 0 {
		t.Errorf("zero Backoff Next() = %v, want 0", d)
	}
	b.Reset()
}
